// A test harness that runs the real processes: touchpass-virtual-token and touchpassd, each
// started and stopped by the test, in a private temporary directory; and a protocol client
// that can run as any uid (forked, then setuid), so that peer credentials are real.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/ceremony_driver.h"
#include "core/fd.h"
#include "core/secret.h"
#include "ipc/messages.h"
#include "store/sqlite_store.h"

namespace touchpass::testing {

namespace fs = std::filesystem;

// Two real, unprivileged accounts of every Debian system, for tests that need other uids.
inline constexpr uid_t kNobody = 65534;
inline constexpr gid_t kNogroup = 65534;
inline constexpr uid_t kDaemonUser = 1;  // the "daemon" account
inline constexpr gid_t kDaemonGroup = 1;

// A protocol v1 request: {"v": 1, "op": op, ...fields}. An "issue" that names no scopes asks
// for every service (as `touchpass issue --scope all` does): the daemon refuses one that asks
// for neither, a refusal tests of that ask for with `"every_service": false`.
inline ipc::Json req(const char* op, ipc::Json fields = ipc::Json::object()) {
  fields["v"] = 1;
  fields["op"] = op;
  if (std::string_view(op) == "issue" && !fields.contains("scopes") &&
      !fields.contains("every_service")) {
    fields["every_service"] = true;
  }
  return fields;
}

// A child process; killed (SIGKILL) and reaped on destruction unless stopped before.
class Process {
 public:
  Process() = default;
  // Starts `argv` with stdout and stderr appended to `log`, with `env` ("NAME=value") added to
  // the environment.
  static Process start(const std::vector<std::string>& argv, const fs::path& log,
                       const std::vector<std::string>& env = {});
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  ~Process();

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits for the exit; returns the wait status.
  int stop(int sig = SIGTERM);

 private:
  pid_t pid_ = -1;
};

// The whole content of a file ("" if it cannot be read).
std::string read_file(const fs::path& path);

// A connected Unix stream socket to `path`; empty (errno says why) if it cannot connect.
UniqueFd connect_unix(const fs::path& path);

// Waits until a Unix socket at `path` accepts connections.
bool wait_for_socket(const fs::path& path, std::chrono::milliseconds timeout);

// The final answer to a request, with the events that came before it.
struct Exchange {
  std::vector<std::string> events;  // event names in order
  ipc::Reply final;                 // Kind::ok or Kind::error
  std::string secret;               // the password of issue/show (tests only)
  int pieces = 0;                   // `more` events a large answer came in (paging.h)
};

// A protocol client on a stream connection.
class Client {
 public:
  // Connects; nullopt when the daemon cannot be reached.
  static std::optional<Client> connect(const fs::path& socket);
  Client(Client&& other) noexcept = default;
  Client& operator=(Client&&) = delete;

  int fd() const { return fd_.get(); }
  // Sends `request` with `secret` in the frame's secret part and returns the final answer.
  std::optional<Exchange> send(const ipc::Json& request, const std::string& secret);
  // Sends `request` and answers need-pin / need-new-pin with `pin` (if any; otherwise cancels).
  // nullopt when the connection broke. An "enroll", "issue" or "show" request runs the ceremony as
  // the CLI does: <op>-begin, the deployment's virtual tokens driven by the client library (its
  // prompts recorded as events), then finish.
  std::optional<Exchange> call(const ipc::Json& request, const std::string& pin = "");

 private:
  Client(UniqueFd fd, fs::path virtual_dir)
      : fd_(std::move(fd)), virtual_dir_(std::move(virtual_dir)) {}
  std::optional<Exchange> ceremony(ipc::Json request, const std::string& pin);
  UniqueFd fd_;
  fs::path virtual_dir_;  // the deployment's virtual-token directory
};

// Drives the virtual tokens in `virtual_dir` through the client library for the offer
// `offer_json` (an EnrollOffer when `enroll`, else an Offer), answering a PIN prompt with `pin`
// and recording the prompts in `events`: what the CLI does between begin and finish.
Result<client::KeyAnswer> answer_with_virtual_tokens(const fs::path& virtual_dir,
                                                     const ipc::Json& offer_json, bool enroll,
                                                     const std::string& pin,
                                                     std::vector<std::string>& events);

// Runs `call` in a forked child as `uid`/`gid` and returns its exchange, serialized through a
// pipe (so the daemon sees the real uid).
std::optional<Exchange> call_as(uid_t uid, gid_t gid, const fs::path& socket,
                                const ipc::Json& request, const std::string& pin = "",
                                const std::string& secret = "");

// What a finished command printed and how it exited.
struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string out;
  std::string err;
};

// Runs `argv` to completion in a new session (so it has no controlling terminal), feeding it
// `input` on standard input, optionally as another uid/gid, with `env` ("NAME=value") added to
// the environment.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "",
                          std::optional<std::pair<uid_t, gid_t>> as = std::nullopt,
                          const std::vector<std::string>& env = {});

// A daemon and a virtual token in a temporary directory.
class Deployment {
 public:
  struct Options {
    std::string presence = "approve";
    std::string pin = "123456";
    int token_timeout = 10;
    std::string extra_config;             // more `key = value` lines for touchpassd.conf
    bool usb_tokens = false;              // true: the daemon also looks for USB keys and YubiKeys
    std::vector<std::string> daemon_env;  // e.g. LD_PRELOAD of the YubiKey emulator
    // A program (and its arguments) that runs the daemon, e.g. strace; empty: none.
    std::vector<std::string> daemon_wrapper;
  };
  explicit Deployment(Options options);
  Deployment() : Deployment(Options{}) {}
  ~Deployment();

  // Starts (or restarts) the processes; false if they did not come up.
  // Starts a virtual token (another name: another key, with its own state and socket).
  bool start_token(const std::string& name = "token0", const std::string& presence = "");
  void stop_token(const std::string& name = "token0") { tokens_[name].stop(SIGTERM); }
  bool start_daemon();
  // Appends `lines` (`key = value`, each ending in a newline) to touchpassd.conf, read at the
  // next start_daemon().
  void add_config(const std::string& lines);
  void kill_daemon() { daemon_.stop(SIGKILL); }
  int stop_daemon() { return daemon_.stop(SIGTERM); }
  bool daemon_running() { return daemon_.running(); }
  // The process started for the daemon (its wrapper's, when there is one).
  pid_t daemon_pid() const { return daemon_.pid(); }

  const fs::path& dir() const { return dir_; }
  fs::path socket() const { return dir_ / "run" / "touchpassd.sock"; }
  // The verification socket (root and the service group only), beside socket().
  fs::path verify_socket() const { return dir_ / "run" / "verify.sock"; }
  fs::path store() const { return dir_ / "state" / "touchpass.db"; }
  fs::path config() const { return dir_ / "touchpassd.conf"; }
  fs::path pepper() const { return dir_ / "state" / "pepper"; }
  // Where the daemon anchors the audit log's head (the default: beside the store).
  fs::path audit_anchor() const { return dir_ / "state" / "audit-head"; }
  // The store (the daemon stopped), opened with the keys of this deployment's pepper as the
  // daemon would: for tests that read it, or write to it as touchpassd would.
  Result<std::unique_ptr<store::SqlStore>> open_store() const;
  fs::path token_socket(const std::string& name = "token0") const {
    return dir_ / "virtual" / name;
  }
  // Where the virtual tokens' sockets are: what a client passes as --virtual-tokens.
  fs::path virtual_dir() const { return dir_ / "virtual"; }
  // The arguments that start the CLI against this deployment: its socket, its virtual tokens,
  // no USB keys.
  std::vector<std::string> cli() const {
    return {TOUCHPASS_BINARY,       "--socket", socket().string(), "--virtual-tokens",
            virtual_dir().string(), "--no-usb"};
  }
  std::string daemon_log() const;

 private:
  Options options_;
  fs::path dir_;
  std::map<std::string, Process> tokens_;
  Process daemon_;
};

}  // namespace touchpass::testing
