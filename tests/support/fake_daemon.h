// The one fake touchpassd of the tests: for every client of the daemon (the CLI, the PAM module,
// the client library) and their fuzzers. It listens on a Unix socket in a fresh temporary
// directory (or serves one end of a socket pair) and, on a thread of its own, runs the test's
// script on each connection, one connection after another. The script reads requests with the
// real frame reader (ipc::FrameReader) and answers what the test wants: real replies, events,
// raw bytes (broken frames), pauses, nothing. Every request read is recorded for assertions.
//
// It knows nothing of GoogleTest, so that fuzzers link it too: what goes wrong in a script (a
// request that did not come, an answer the client did not take) is a problem, recorded and
// passed to FakeDaemonOptions::on_problem (a GoogleTest program fails the test there).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace touchpass::testing {

// One request as the fake daemon read it.
struct ReceivedRequest {
  std::string json;
  std::string secret;  // tests' secrets only: a plain string is fine here
};

// What the client did on one connection, as far as the script read.
struct Conversation {
  std::vector<ReceivedRequest> requests;  // every request the script read, in order
  // How the last read that found no request ended (ok: none did). not_found: the client hung up
  // between messages — with no requests, it never sent a byte; invalid_argument: a broken or
  // cut-short message; io_error: nothing came in time; cancelled: the test let go (stop(),
  // release()) while the script waited.
  Code end = Code::ok;

  // Whether the client hung up without sending a byte (as far as the script read).
  bool silent() const { return requests.empty() && end == Code::not_found; }
};

struct FakeDaemonState;  // what the daemon's thread and the test share (fake_daemon.cpp)

// The daemon's end of one connection, as the script drives it. Valid during the script only.
class DaemonConnection {
 public:
  DaemonConnection(const DaemonConnection&) = delete;
  DaemonConnection& operator=(const DaemonConnection&) = delete;

  // The next request, read by ipc::FrameReader within `limits` and recorded. Errors as
  // FrameReader::read; cancelled when the test lets go of the daemon's connections (stop(),
  // release()) while no byte is waiting.
  Result<ipc::Frame> read(ipc::ReadLimits limits = {std::chrono::seconds(5),
                                                    std::chrono::seconds(2)});
  // The next request, as read(); a problem when none comes (the frame is then empty).
  ipc::Frame next();
  // The next request's JSON (null when none came; discarded when it is not JSON).
  ipc::Json next_json();

  // Answers with one frame of `json` and `secret`; a problem when the client does not take it
  // within 5 s.
  void send(std::string_view json, std::string_view secret = {});
  // Answers ok with `result` (and `secret` in the frame's secret part).
  void ok(ipc::Json result = ipc::Json::object(), std::string_view secret = {});
  // Answers with an error.
  void error(Code code, std::string message, std::optional<int> retries = std::nullopt);
  // Sends an event (a prompt, a `more` piece).
  void event(std::string_view name, ipc::Json fields = ipc::Json::object());
  // Writes `bytes` as they are (broken frames, trickles). Never a problem: a client may well hang
  // up in the middle of a hostile answer. Stops early when the test lets go.
  void raw(std::span<const std::uint8_t> bytes);
  void raw(std::string_view bytes);

  // Waits `duration`, or less when the test lets go.
  void pause(std::chrono::milliseconds duration);
  // Ends the daemon's writes: after what was sent, the client reads the end of the stream.
  void end_writes();
  // Reads and drops whatever the client sends until it hangs up, `timeout` passes or the test
  // lets go.
  void wait_for_hangup(std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  friend struct FakeDaemonState;
  DaemonConnection(FakeDaemonState& daemon, int fd, std::optional<std::size_t> conversation);
  // Waits for a request's first byte (or the end of the stream), then reads it.
  Result<ipc::Frame> wait_and_read(const ipc::ReadLimits& limits);

  FakeDaemonState& daemon_;
  int fd_;
  ipc::FrameReader reader_;
  std::optional<std::size_t> conversation_;  // its index in conversations(), when recorded
};

// A script: what the daemon does on one connection. The connection is closed when it returns.
using Script = std::function<void(DaemonConnection&)>;

// A script for one exchange: reads a request and, when one came, runs `answer`.
Script after_request(Script answer);

struct FakeDaemonOptions {
  // When set, the socket starts listening with this effective uid (which needs root), and the
  // kernel reports that uid to every client (SO_PEERCRED): the daemon runs as that user.
  std::optional<uid_t> listener_uid;
  // Called on the daemon's thread with a sentence for each problem of a script.
  std::function<void(const std::string&)> on_problem;
  // Whether conversations() keeps what each connection brought (a fuzzer's millions do not).
  bool record = true;

  // The options of a daemon that runs as `uid` (listener_uid).
  static FakeDaemonOptions running_as(uid_t uid) {
    FakeDaemonOptions options;
    options.listener_uid = uid;
    return options;
  }
};

class FakeDaemon {
 public:
  // A daemon listening on `path()` (a new temporary directory, removed on destruction) that runs
  // `script` on every connection. Error io_error when the socket cannot be set up.
  static Result<FakeDaemon> listen(Script script, FakeDaemonOptions options = {});
  // A daemon that runs `script` once, on its end of a socket pair; the client uses client_fd().
  static Result<FakeDaemon> paired(Script script, FakeDaemonOptions options = {});

  // A moved-from daemon may only be destroyed or assigned to.
  FakeDaemon(FakeDaemon&&) noexcept;
  FakeDaemon& operator=(FakeDaemon&&) noexcept;
  ~FakeDaemon();  // stop()s and removes the temporary directory

  // The socket path (listening daemons only; empty otherwise).
  const std::string& path() const;
  // The client's end of the pair (paired daemons only; -1 otherwise), owned by the daemon.
  int client_fd() const;

  // Stops: connections already made are still served (a script's waits end at once unless the
  // client has sent something), and this returns once every script has returned. Afterwards
  // nobody listens: a client is refused. The socket file stays until destruction. Idempotent.
  void stop();
  // Lets go of the connections of the client that has just finished: the scripts' waits end at
  // once unless the client has sent something, connections already made are served that way,
  // and this returns once the daemon waits for the next connection. For a caller that reuses one
  // daemon for many clients (a fuzzer). Call from one thread at a time.
  void release();

  // What every connection so far brought, in order of arrival (when FakeDaemonOptions::record).
  std::vector<Conversation> conversations() const;
  // The problems of the scripts so far, as sentences.
  std::vector<std::string> problems() const;

 private:
  explicit FakeDaemon(std::unique_ptr<FakeDaemonState> state);
  std::unique_ptr<FakeDaemonState> state_;
};

}  // namespace touchpass::testing
