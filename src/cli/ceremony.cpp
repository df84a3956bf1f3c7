#include "cli/ceremony.h"

#include <poll.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/event_text.h"
#include "cli/offer_scope.h"
#include "client/ceremony_driver.h"
#include "client/devices_listing.h"

namespace touchpass::cli {

namespace {

// The client library's prompts on the console; the CancelFlag (Ctrl-C) cancels the key.
class ConsoleInteraction final : public client::Interaction {
 public:
  ConsoleInteraction(Console& console, PinSource& pins, const CancelFlag& cancel,
                     std::string_view purpose)
      : console_(console), pins_(pins), cancel_(cancel), purpose_(purpose) {}
  ~ConsoleInteraction() override {
    end_watch();
    end_wait();
  }

  void send_event(std::string_view event, ipc::Json fields) override {
    if (event == "insert-token") {
      show_wait(fields);
      return;
    }
    end_wait();
    if (event == "need-pin") {
      retries_ = fields.contains("retries") && fields["retries"].is_number_integer()
                     ? std::optional<int>(fields["retries"].get<int>())
                     : std::nullopt;
      new_pin_ = false;
      return;
    }
    if (event == "need-new-pin") {
      min_length_ = fields.value("min_length", 4);
      new_pin_ = true;
      return;
    }
    if (auto line = display_event_line(event, fields, purpose_); line.ok() && *line) {
      console_.err(**line);
    }
  }

  Result<SecretBytes> receive_pin(std::chrono::seconds) override {
    if (cancel_.raised()) return Error{Code::cancelled, "Cancelled."};
    return new_pin_ ? pins_.new_pin(min_length_) : pins_.current_pin(retries_);
  }

  void begin_watch(devices::Token* token) override {
    end_watch();
    stop_ = false;
    watcher_ = std::thread([this, token] {
      while (!stop_.load()) {
        if (cancel_.raised()) {
          // Repeated until the watch ends: a cancel that falls between two of the key's
          // operations (a silent probe, a YubiKey's steps) is forgotten by the next one.
          if (token != nullptr) token->cancel();
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        pollfd fd{cancel_.wake_fd(), POLLIN, 0};
        (void)::poll(&fd, fd.fd >= 0 ? 1 : 0, 100);
      }
    });
  }

  void end_watch() override {
    stop_ = true;
    if (watcher_.joinable()) watcher_.join();
  }

  bool cancelled() const override { return cancel_.raised(); }

 private:
  // The wait for a key: on a terminal a countdown redrawn in place, elsewhere one line.
  void show_wait(const ipc::Json& fields) {
    const bool first = !waiting_;
    waiting_ = true;
    if (console_.err_is_terminal()) {
      auto line = insert_token_countdown(fields);
      if (line.ok()) console_.err("\r" + *line + " ");
      return;
    }
    if (first) console_.err("Insert your security key… (Ctrl-C cancels)\n");
  }
  // Ends a countdown line before anything else is said.
  void end_wait() {
    if (waiting_ && console_.err_is_terminal()) console_.err("\n");
    waiting_ = false;
  }

  Console& console_;
  PinSource& pins_;
  const CancelFlag& cancel_;
  std::string_view purpose_;
  std::optional<int> retries_;  // tries left, when the key told
  bool new_pin_ = false;
  bool waiting_ = false;  // the wait for a key is on the screen
  int min_length_ = 4;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

// begin → offer → the key answers → finish. `Offer` is the offer type, `answer` the driver.
template <class Offer, class Driver>
Result<Answer> ceremony(DaemonChannel& channel, const ipc::Request& begin,
                        std::span<const std::uint8_t> secret, CeremonyContext& context,
                        Driver&& answer_with) {
  auto offered = channel.call(begin, secret);
  if (!offered.ok()) return offered.error();
  auto offer = Offer::parse(offered->result);
  if (!offer.ok()) {
    return Error{Code::protocol_error,
                 "touchpassd sent a malformed ceremony (" + offer.error().message + ")"};
  }
  if (context.server != nullptr) {
    if (Status scoped = scope_offer(*offer, *context.server); !scoped.ok()) return scoped.error();
  }
  auto access = client::KeyAccess::open(context.keys, context.token_wait);
  if (!access.ok()) return access.error();
  ConsoleInteraction io(context.console, context.pins, context.cancel, context.purpose);
  client::DriverSettings settings;
  settings.token_timeout = context.token_wait;
  auto answer = answer_with(*offer, (*access)->broker(), io, settings);
  if (!answer.ok()) return answer.error();
  ipc::Request finish;
  finish.op = ipc::Op::finish;
  finish.finish = std::move(answer->finish);
  return channel.call(finish, answer->secret.bytes());
}

}  // namespace

Result<Answer> run_ceremony(DaemonChannel& channel, const ipc::Request& begin,
                            CeremonyContext& context) {
  return ceremony<ipc::CeremonyOffer>(channel, begin, {}, context, client::answer_offer);
}

Result<Answer> run_enroll_ceremony(DaemonChannel& channel, const ipc::Request& begin,
                                   CeremonyContext& context, std::span<const std::uint8_t> secret) {
  return ceremony<ipc::EnrollOffer>(channel, begin, secret, context, client::answer_enroll);
}

Result<ipc::Json> list_devices(const client::KeySources& keys) {
  auto access = client::KeyAccess::open(keys, std::chrono::seconds(0));
  if (!access.ok()) return access.error();
  return client::describe_devices((*access)->broker());
}

}  // namespace touchpass::cli
