// The client and PAM side: whatever a daemon (or whoever listens on its socket) answers, as the
// touchpass CLI and pam_touchpass read it. The input is one selector byte, then the bytes the
// "daemon" sends after it has read the request: frames, events, `more` pieces, garbage.
//   - whole CLI commands (run_touchpass: the reply loop, paging, the listings, --json, the exit
//     paths) against a fake daemon on a Unix socket;
//   - the PAM module's exchange (verify_with_daemon) against the same socket;
//   - the client library's reading of ceremony offers (exchange, then CeremonyOffer::parse and
//     EnrollOffer::parse, as run_ceremony does before it opens a key);
//   - the listings and --json output of a result, all at once (format.h);
//   - display events (Reply::parse of each frame, display_event_line).
// Nothing may crash, hang or recurse without bound (a reply nesting 10,000 levels once killed
// the CLI and the PAM module); nothing printed may hold a control character or invalid UTF-8
// (the daemon's text is untrusted); and the PAM module may accept only when the first frame
// is {"v": 1, "ok": true, ...} — both checked here independently of the code under test.
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/cancel.h"
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/console.h"
#include "cli/event_text.h"
#include "cli/format.h"
#include "cli/prompt.h"
#include "core/fd.h"
#include "fuzz.h"
#include "ipc/ceremony.h"
#include "ipc/frame.h"
#include "ipc/messages.h"
#include "ipc/paging.h"
#include "pam/verify_client.h"
#include "support/fake_daemon.h"
#include "support/fd_pairs.h"

namespace {

using namespace std::chrono_literals;
namespace cli = touchpass::cli;
namespace ipc = touchpass::ipc;

void require(bool condition) {
  if (!condition) std::abort();
}

// --- The oracle for what reaches a terminal.

// Whether `text` is well-formed UTF-8 without C0 controls (newline excepted), DEL, C1 controls,
// bidirectional controls or line/paragraph separators: nothing that could move the cursor,
// change the terminal or reorder what is shown (cli/format.h, printable()).
bool terminal_safe(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<std::uint8_t>(text[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\n') || b == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t cp = 0;
    if ((b & 0xe0) == 0xc0) {
      length = 2;
      cp = b & 0x1fU;
    } else if ((b & 0xf0) == 0xe0) {
      length = 3;
      cp = b & 0x0fU;
    } else if ((b & 0xf8) == 0xf0) {
      length = 4;
      cp = b & 0x07U;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto c = static_cast<std::uint8_t>(text[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3fU);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp <= 0x9f || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
        (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
        cp == 0x2029) {
      return false;
    }
    i += length;
  }
  return true;
}

// A console that checks everything written to it.
class CheckingConsole final : public cli::Console {
 public:
  void out(std::string_view text) override { require(terminal_safe(text)); }
  void err(std::string_view text) override { require(terminal_safe(text)); }
  // No command fuzzed here prints a password.
  void out_secret(std::string_view) override { std::abort(); }
  std::optional<bool> confirm(std::string_view question) override {
    require(terminal_safe(question));
    return true;
  }
};

class NoPins final : public cli::PinSource {
 public:
  touchpass::Result<touchpass::SecretBytes> current_pin(std::optional<int>) override {
    return touchpass::Error{touchpass::Code::pin_required, "No PIN in this test."};
  }
  touchpass::Result<touchpass::SecretBytes> new_pin(int) override {
    return current_pin(std::nullopt);
  }
};

// --- The fake daemon.

// The fake touchpassd of tests/support on a Unix socket, one for every input (a new one each
// time would cost more than most inputs do). For each client run it reads the first request,
// writes the input's bytes, ends its side and waits until the client has closed, or has
// finished (release()).
class ReplyingDaemon {
 public:
  ReplyingDaemon() {
    touchpass::testing::FakeDaemonOptions options;
    options.record = false;
    auto daemon = touchpass::testing::FakeDaemon::listen(
        [this](touchpass::testing::DaemonConnection& c) { reply(c); }, std::move(options));
    require(daemon.ok());
    daemon_.emplace(std::move(*daemon));
  }

  const std::string& path() const { return daemon_->path(); }

  // Runs `client` on this thread while the daemon answers its connection (if it makes one)
  // with `answer`.
  template <class Client>
  void serve(std::span<const std::uint8_t> answer, Client&& client) {
    {
      std::lock_guard lock(mutex_);
      answer_ = answer;
    }
    client();
    daemon_->release();
  }

 private:
  // The script: one connection's request and answer.
  void reply(touchpass::testing::DaemonConnection& connection) {
    (void)connection.read({1000ms, 1000ms});  // the request
    std::span<const std::uint8_t> bytes;
    {
      std::lock_guard lock(mutex_);
      bytes = answer_;
    }
    connection.raw(bytes);
    connection.end_writes();
    // Until the client closes (or is done), so that its reads see the whole answer.
    connection.wait_for_hangup();
  }

  std::mutex mutex_;
  std::span<const std::uint8_t> answer_;                  // guarded by mutex_
  std::optional<touchpass::testing::FakeDaemon> daemon_;  // last: its thread uses the above
};

ReplyingDaemon& fake_daemon() {
  // Lives until exit (its directory is removed then).
  static ReplyingDaemon* instance = new ReplyingDaemon();
  static const bool cleanup = [] {
    std::atexit([] { delete instance; });
    return true;
  }();
  (void)cleanup;
  return *instance;
}

std::string current_user() {
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) return entry->pw_name;
  return "root";
}

// --- The readers.

// The CLI commands whose answers are fuzzed (none that opens a key).
const std::vector<std::vector<std::string>>& commands() {
  static const std::vector<std::vector<std::string>> list = {
      {"tokens"},
      {"tokens", "--json"},
      {"tokens", "--all-users"},
      {"list"},
      {"list", "--json"},
      {"list", "--all-users", "--user", "bob"},
      {"log"},
      {"log", "--verify"},
      {"log", "--verify", "--json"},
      {"log", "--all-users", "--limit", "10"},
      {"revoke", "thunderbird"},
      {"revoke", "--all"},
      {"revoke", "--all", "--yes", "--user", "bob"},
      {"revoke", "--token", "blue key"},
      {"rename", "old", "new"},
      {"unlock", "--all"},
      {"unlock", "--source", "192.0.2.1", "--json"},
      {"verify", "--user", "alice", "--service", "imap"},
  };
  return list;
}

void run_command(const std::vector<std::string>& command, std::span<const std::uint8_t> answer) {
  CheckingConsole console;
  cli::CancelFlag cancel;
  auto password = touchpass::testing::input_pipe("d9tn-8rp3-n70q-kcw9-nvpp\n");
  require(password.ok());
  cli::Environment env{
      .console = console,
      .cancel = cancel,
      .make_pins = [](bool) { return std::make_unique<NoPins>(); },
      .now = [] { return std::int64_t{1767225600}; },
      .clipboard = {.tools = {}, .search_path = "/nonexistent", .displays = {}},
      .catch_signals = false,
      .timing = {.poll_interval = 250ms, .reply_timeout = 5000ms},
      .remote_timing = {},
      .config_file = {},  // no user configuration: the fake daemon's socket only
      .password_fd = password->get(),
  };
  std::vector<std::string> args = {"touchpass", "--socket", fake_daemon().path(), "--no-usb"};
  args.insert(args.end(), command.begin(), command.end());
  fake_daemon().serve(answer, [&] { (void)cli::run_touchpass(args, env); });
}

// The first frame of `answer`, read as the protocol defines it, or nullopt.
std::optional<std::string> first_frame_json(std::span<const std::uint8_t> answer) {
  if (answer.size() < ipc::kHeaderSize) return std::nullopt;
  const std::size_t json = (std::size_t{answer[0]} << 24) | (std::size_t{answer[1]} << 16) |
                           (std::size_t{answer[2]} << 8) | answer[3];
  const std::size_t secret = (std::size_t{answer[4]} << 8) | answer[5];
  if (json == 0 || json > ipc::kMaxJsonSize || secret > ipc::kMaxSecretSize ||
      answer.size() < ipc::kHeaderSize + json + secret) {
    return std::nullopt;
  }
  return std::string(answer.begin() + ipc::kHeaderSize,
                     answer.begin() + static_cast<long>(ipc::kHeaderSize + json));
}

void run_pam(std::span<const std::uint8_t> answer) {
  static const std::string user = current_user();
  const touchpass::pam::VerifyQuery query{"alice", "imap", "192.0.2.1"};
  const auto password = touchpass::SecretBytes::copy_of(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>("d9tn8rp3n70qkcw9nvpp"), 20));
  touchpass::pam::Verdict verdict;
  fake_daemon().serve(answer, [&] {
    verdict =
        touchpass::pam::verify_with_daemon(fake_daemon().path(), user, query, password, 5000ms);
  });
  if (verdict.kind != touchpass::pam::Verdict::Kind::accepted) return;
  // Only {"v": 1, "ok": true, ...} is acceptance, and only as the first answer.
  const auto json = first_frame_json(answer);
  require(json.has_value());
  const auto parsed = ipc::Json::parse(*json, nullptr, false);
  require(parsed.is_object() && parsed.contains("v") && parsed["v"] == 1 && parsed.contains("ok") &&
          parsed["ok"] == true);
}

// The offer as the client library gets it: exchange, then the offer types' parse.
void run_offers(std::span<const std::uint8_t> answer) {
  const touchpass::UniqueFd fd = [] {
    auto connected = cli::connect_to_daemon(fake_daemon().path());
    require(connected.ok());
    return std::move(*connected);
  }();
  fake_daemon().serve(answer, [&] {
    cli::CancelFlag cancel;
    ipc::Request begin;
    begin.op = ipc::Op::issue_begin;
    begin.name = "thunderbird";
    auto offered = cli::exchange(fd.get(), begin, cancel, {250ms, 5000ms});
    if (!offered.ok()) return;
    (void)ipc::CeremonyOffer::parse(offered->result);
    (void)ipc::EnrollOffer::parse(offered->result);
  });
}

// The listings the CLI prints from a result (what `tokens`, `list`, `devices` and `log` print,
// and --json), all of them from one answer: cheaper than a whole command per listing.
void run_listings(std::span<const std::uint8_t> answer) {
  const touchpass::UniqueFd fd = [] {
    auto connected = cli::connect_to_daemon(fake_daemon().path());
    require(connected.ok());
    return std::move(*connected);
  }();
  fake_daemon().serve(answer, [&] {
    cli::CancelFlag cancel;
    ipc::Request list;
    list.op = ipc::Op::list;
    auto answered = cli::exchange(fd.get(), list, cancel, {250ms, 5000ms});
    if (!answered.ok()) {
      require(terminal_safe(answered.error().message));
      return;
    }
    const ipc::Json& result = answered->result;
    for (const bool with_user : {false, true}) {
      if (auto table = cli::tokens_table(result, with_user); table.ok()) {
        require(terminal_safe(*table));
      }
      if (auto table = cli::grants_table(result, with_user); table.ok()) {
        require(terminal_safe(*table));
      }
    }
    if (auto table = cli::devices_table(result); table.ok()) require(terminal_safe(*table));
    if (auto table = cli::log_table(result); table.ok()) require(terminal_safe(*table));
    require(terminal_safe(cli::throttle_summary(result)));
    require(terminal_safe(cli::pretty_json(result)));
  });
}

// Every frame as a display event: the lines the CLI would show.
void run_events(std::span<const std::uint8_t> answer) {
  auto pair = touchpass::testing::make_socket_pair();
  require(pair.ok());
  const int buffer = 1 << 20;
  (void)::setsockopt(pair->second.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  std::size_t sent = 0;
  while (sent < answer.size()) {
    const ssize_t n = ::write(pair->second.get(), answer.data() + sent, answer.size() - sent);
    require(n > 0);
    sent += static_cast<std::size_t>(n);
  }
  pair->second.reset();
  for (int i = 0; i < 8; ++i) {
    auto frame = ipc::read_frame(pair->first.get(), {0ms, 0ms});
    if (!frame.ok()) break;
    auto reply = ipc::Reply::parse(frame->json);
    if (!reply.ok() || reply->kind != ipc::Reply::Kind::event) continue;
    auto line = cli::display_event_line(reply->event, reply->body);
    if (line.ok() && *line) require(terminal_safe(**line));
    (void)cli::event_int_field(reply->body, "retries", 0, 255);
  }
}

enum Reader : std::size_t { kPam, kOffers, kEvents, kListings, kCommands };

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> answer(data + 1, size - 1);
  const std::size_t reader = data[0] % (kCommands + commands().size());
  switch (reader) {
    case kPam:
      run_pam(answer);
      break;
    case kOffers:
      run_offers(answer);
      break;
    case kEvents:
      run_events(answer);
      break;
    case kListings:
      run_listings(answer);
      break;
    default:
      run_command(commands()[reader - kCommands], answer);
      break;
  }
  return 0;
}

namespace {

std::string frame(const std::string& json, std::string_view secret = {}) {
  std::string out = {static_cast<char>(json.size() >> 24),  static_cast<char>(json.size() >> 16),
                     static_cast<char>(json.size() >> 8),   static_cast<char>(json.size()),
                     static_cast<char>(secret.size() >> 8), static_cast<char>(secret.size())};
  return out + json + std::string(secret);
}

std::string with(std::size_t reader, const std::string& answer) {
  return std::string(1, static_cast<char>(reader)) + answer;
}

// The reader number of the CLI command whose first words are `words`.
std::size_t command(const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < commands().size(); ++i) {
    if (commands()[i] == words) return kCommands + i;
  }
  std::abort();
}

}  // namespace

std::vector<std::string> fuzz_seeds() {
  using ipc::Json;
  const Json token = {{"id", 3},
                      {"user", "alice"},
                      {"label", "blue key"},
                      {"kind", "fido2"},
                      {"device", "Yubico YubiKey 5 NFC"},
                      {"uv", "pin"},
                      {"created", 1767225600},
                      {"virtual", false}};
  const Json grant = {{"name", "thunderbird"},      {"user", "alice"},
                      {"scopes", {"imap", "smtp"}}, {"created", 1767225600},
                      {"expires", 1798761600},      {"token", "blue key"},
                      {"last_used", 1767312000},    {"revoked", nullptr}};
  const Json entry = {
      {"seq", 1},        {"time", 1767225600},    {"actor", "alice"},    {"action", "issue"},
      {"user", "alice"}, {"name", "thunderbird"}, {"detail", "grant 00"}};
  const Json throttle = {{"locked", {{{"source", "192.0.2.1"}, {"until", 1767229200}}}},
                         {"failures", {{{"source", "192.0.2.7"}, {"count", 3}}}}};
  const std::string refused = frame(ipc::error_message({touchpass::Code::refused, "Refused."}));
  const std::string ok = frame(ipc::ok_message());
  const std::string more =
      frame(ipc::event_message(ipc::kMoreEvent, {{"key", "entries"}, {"items", {entry}}}));
  const std::string log_ok = frame(ipc::ok_message(
      {{"entries", {entry}},
       {"chain_ok", true},
       {"proofs_checked", 1},
       {"proofs_failed", 1},
       {"proof_errors", {{{"name", "x"}, {"user", "alice"}, {"error", "bad\x1b[31m"}}}},
       {"shows_checked", 2},
       {"shows_failed", 1},
       {"show_errors", {{{"name", "x"}, {"user", "alice"}, {"seq", 3}, {"error", "bad"}}}},
       {"shows_unchecked", 1}}));
  const Json devices = {{"devices",
                         {{{"path", "/dev/hidraw3"},
                           {"kind", "fido2"},
                           {"product", "YubiKey 5 NFC"},
                           {"manufacturer", "Yubico"},
                           {"virtual", false}},
                          {{"path", "yubikey-otp:12345678"},
                           {"kind", "yubikey"},
                           {"model", "YubiKey 5"},
                           {"serial", 12345678},
                           {"firmware", "5.4.3"},
                           {"slots", {{{"slot", 1}, {"programmed", true}}, {{"slot", 2}}}},
                           {"virtual", false}}}}};
  Json list = {{"grants", {grant}}};
  list.update(throttle);

  ipc::CeremonyOffer offer;
  offer.ceremony = touchpass::Bytes(ipc::kCeremonyIdBytes, 1);
  offer.expires_in = 180;
  offer.origin = "touchpass";
  offer.salt = touchpass::Bytes(32, 2);
  ipc::OfferedCredential credential;
  credential.token = "blue key";
  credential.credential = touchpass::Bytes(16, 3);
  credential.rp_id = "touchpass";
  credential.public_key = touchpass::Bytes(64, 4);
  credential.challenge = touchpass::Bytes(32, 5);
  offer.credentials = {credential};
  ipc::EnrollOffer enroll;
  enroll.ceremony = offer.ceremony;
  enroll.expires_in = 180;
  enroll.rp_id = "touchpass";
  enroll.user_id = touchpass::Bytes(16, 6);
  enroll.user_name = "alice";
  enroll.origin = "touchpass";
  enroll.challenge = touchpass::Bytes(32, 7);

  const std::string deep = frame(R"({"v":1,"ok":true,"result":)" + std::string(10000, '[') +
                                 std::string(10000, ']') + "}");
  return {
      with(kPam, ok),
      with(kPam, refused),
      with(kPam, frame(ipc::event_message("touch-token", {{"step", 1}, {"steps", 2}})) + ok),
      with(kPam, deep),
      with(kOffers, frame(ipc::ok_message(offer.to_json()))),
      with(kOffers, frame(ipc::ok_message(enroll.to_json()))),
      with(kOffers, more + frame(ipc::ok_message(offer.to_json()))),
      with(kEvents, frame(ipc::event_message("touch-token", {{"step", 1}, {"steps", 2}})) +
                        frame(ipc::event_message("progress", {{"message", "Working\u2026"}})) +
                        frame(ipc::event_message("insert-token")) +
                        frame(ipc::event_message("need-pin", {{"retries", 7}}))),
      with(kListings, frame(ipc::ok_message({{"tokens", {token}}}))),
      with(kListings, frame(ipc::ok_message(list))),
      with(kListings, more + frame(ipc::ok_message({{"entries", {entry}}}))),
      with(kListings, frame(ipc::ok_message(devices))),
      with(command({"tokens"}), frame(ipc::ok_message({{"tokens", {token}}}))),
      with(command({"tokens", "--json"}), frame(ipc::ok_message({{"tokens", {token}}}))),
      with(command({"list"}), frame(ipc::ok_message(list))),
      with(command({"list", "--json"}), frame(ipc::ok_message(list))),
      with(command({"log"}), more + frame(ipc::ok_message({{"entries", {entry}}}))),
      with(command({"log", "--verify"}), log_ok),
      with(command({"log", "--verify", "--json"}), more + log_ok),
      with(command({"revoke", "--all"}), frame(ipc::ok_message({{"grants", {grant}}})) +
                                             frame(ipc::ok_message({{"revoked", 1}}))),
      with(command({"revoke", "--token", "blue key"}), frame(ipc::ok_message({{"revoked", 2}}))),
      with(command({"unlock", "--all"}), frame(ipc::ok_message({{"unlocked", 2}}))),
      with(command({"verify", "--user", "alice", "--service", "imap"}), refused),
      with(command({"list"}), deep),
      with(command({"rename", "old", "new"}),
           frame(ipc::error_message({touchpass::Code::not_found, "No \x1b]0;x\a such."}))),
  };
}

// Two frames at both limits, after the selector.
std::size_t fuzz_max_len() {
  return 1 + 2 * (ipc::kHeaderSize + ipc::kMaxJsonSize + ipc::kMaxSecretSize);
}
