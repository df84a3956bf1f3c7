#include "cli/client.h"

#include "cli/format.h"

namespace touchpass::cli {

Result<Answer> exchange(int fd, const ipc::Request& request, const CancelFlag& cancel,
                        const ExchangeTiming& timing, std::span<const std::uint8_t> secret) {
  ipc::ExchangeOptions options{.poll_interval = timing.poll_interval,
                               .reply_timeout = timing.reply_timeout,
                               .wake_fd = cancel.wake_fd(),
                               .cancelled = [&cancel] { return cancel.raised(); }};
  auto answer = ipc::exchange(fd, request, secret, options);
  if (answer.ok() || answer.code() == Code::cancelled) return answer;
  Error error = answer.error();
  error.message = printable(error.message);
  if (error.message.empty()) {
    error.message = "touchpassd reported an error (" + std::string(code_name(error.code)) + ").";
  }
  return error;
}

}  // namespace touchpass::cli
