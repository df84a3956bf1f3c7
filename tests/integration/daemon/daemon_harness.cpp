#include "daemon/daemon_harness.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/ceremony_driver.h"
#include "client/key_discovery.h"
#include "ipc/frame.h"
#include "ipc/paging.h"
#include "store/integrity.h"
#include "support/fd_pairs.h"

namespace touchpass::testing {

using namespace std::chrono_literals;

Process Process::start(const std::vector<std::string>& argv, const fs::path& log,
                       const std::vector<std::string>& env) {
  Process p;
  p.pid_ = ::fork();
  if (p.pid_ == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
    }
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return p;
}

Process::Process(Process&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) stop(SIGKILL);
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0) stop(SIGKILL);
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Process::stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

namespace {

// A socket of `type` connected to `path`; empty (errno says why) if it cannot connect.
UniqueFd connect_to(const fs::path& path, int type) {
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    fd.reset();
    errno = error;
  }
  return fd;
}

}  // namespace

UniqueFd connect_unix(const fs::path& path) {
  return connect_to(path, SOCK_STREAM);
}

bool wait_for_socket(const fs::path& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    // The virtual token uses SOCK_SEQPACKET: try that too.
    if (connect_to(path, SOCK_STREAM).valid() || connect_to(path, SOCK_SEQPACKET).valid()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::optional<Client> Client::connect(const fs::path& socket) {
  UniqueFd fd = connect_unix(socket);
  if (!fd.valid()) return std::nullopt;
  // A deployment's layout: <dir>/run/touchpassd.sock and <dir>/virtual/ (Deployment).
  return Client(std::move(fd), socket.parent_path().parent_path() / "virtual");
}

std::optional<Exchange> Client::send(const ipc::Json& request, const std::string& secret) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(secret.data());
  if (!ipc::write_frame(fd_.get(), request.dump(), std::span<const std::uint8_t>(p, secret.size()))
           .ok()) {
    return std::nullopt;
  }
  return call({}, "");
}

namespace {

// The client library's prompts, recorded as the events a test sees; need-pin is answered with
// the test's PIN, or cancelled when it has none.
class RecordingInteraction final : public client::Interaction {
 public:
  RecordingInteraction(std::string pin, std::vector<std::string>& events)
      : pin_(std::move(pin)), events_(events) {}
  void send_event(std::string_view event, ipc::Json) override { events_.emplace_back(event); }
  // The PIN once: a test's wrong PIN is not tried again.
  Result<SecretBytes> receive_pin(std::chrono::seconds) override {
    if (pin_.empty()) return Error{Code::cancelled, "Cancelled."};
    if (asked_++ > 0) return Error{Code::pin_required, "No other PIN."};
    return SecretBytes::copy_of(std::string_view(pin_));
  }
  void begin_watch(devices::Token*) override {}
  void end_watch() override {}
  bool cancelled() const override { return false; }

 private:
  std::string pin_;
  std::vector<std::string>& events_;
  int asked_ = 0;
};

}  // namespace

Result<client::KeyAnswer> answer_with_virtual_tokens(const fs::path& virtual_dir,
                                                     const ipc::Json& offer_json, bool enroll,
                                                     const std::string& pin,
                                                     std::vector<std::string>& events) {
  client::KeySources sources;
  sources.usb = false;
  sources.virtual_dir = virtual_dir;
  auto access = client::KeyAccess::open(sources, 10s);
  if (!access.ok()) return access.error();
  RecordingInteraction io(pin, events);
  const client::DriverSettings settings{10s};
  if (enroll) {
    auto offer = ipc::EnrollOffer::parse(offer_json);
    if (!offer.ok()) return offer.error();
    return client::answer_enroll(*offer, (*access)->broker(), io, settings);
  }
  auto offer = ipc::CeremonyOffer::parse(offer_json);
  if (!offer.ok()) return offer.error();
  return client::answer_offer(*offer, (*access)->broker(), io, settings);
}

std::optional<Exchange> Client::ceremony(ipc::Json request, const std::string& pin) {
  const std::string op = request["op"];
  request["op"] = op + "-begin";
  auto begun = call(request, "");
  if (!begun || begun->final.kind != ipc::Reply::Kind::ok) return begun;
  Exchange ex;
  const auto fail = [&ex](Error e) {
    ex.final.kind = ipc::Reply::Kind::error;
    ex.final.error = std::move(e);
    return ex;
  };
  auto answer =
      answer_with_virtual_tokens(virtual_dir_, begun->final.body, op == "enroll", pin, ex.events);
  if (!answer.ok()) return fail(answer.error());
  ipc::Request finish;
  finish.op = ipc::Op::finish;
  finish.finish = std::move(answer->finish);
  if (!ipc::write_frame(fd_.get(), finish.to_json(), answer->secret.bytes()).ok()) {
    return std::nullopt;
  }
  auto finished = call({}, "");
  if (!finished) return std::nullopt;
  finished->events.insert(finished->events.begin(), ex.events.begin(), ex.events.end());
  return finished;
}

std::optional<Exchange> Client::call(const ipc::Json& request, const std::string& pin) {
  if (request.is_object() &&
      (request.value("op", "") == "issue" || request.value("op", "") == "show" ||
       request.value("op", "") == "enroll")) {
    return ceremony(request, pin);
  }
  if (!request.is_null() && !ipc::write_frame(fd_.get(), request.dump()).ok()) return std::nullopt;
  Exchange ex;
  ipc::PageAssembler pages;
  while (true) {
    auto frame = ipc::read_frame(fd_.get(), {60000ms, 5000ms});
    if (!frame.ok()) return std::nullopt;
    auto reply = ipc::Reply::parse(frame->json);
    if (!reply.ok()) return std::nullopt;
    if (reply->kind != ipc::Reply::Kind::event) {
      if (reply->kind == ipc::Reply::Kind::ok && !pages.complete(reply->body).ok()) {
        return std::nullopt;
      }
      ex.final = std::move(*reply);
      ex.secret = std::string(frame->secret.view());
      return ex;
    }
    if (reply->event == ipc::kMoreEvent) {
      if (!pages.absorb(reply->body).ok()) return std::nullopt;
      ++ex.pieces;
      continue;
    }
    ex.events.push_back(reply->event);  // the daemon sends no other event: a test sees it
  }
}

std::optional<Exchange> call_as(uid_t uid, gid_t gid, const fs::path& socket,
                                const ipc::Json& request, const std::string& pin,
                                const std::string& secret) {
  auto pipe = make_pipe();
  if (!pipe.ok()) return std::nullopt;
  const pid_t child = ::fork();
  if (child == 0) {
    pipe->read.reset();
    ipc::Json out;
    if (::setgroups(0, nullptr) == 0 && ::setresgid(gid, gid, gid) == 0 &&
        ::setresuid(uid, uid, uid) == 0) {
      if (auto client = Client::connect(socket)) {
        if (auto ex = secret.empty() ? client->call(request, pin) : client->send(request, secret)) {
          out["events"] = ex->events;
          out["ok"] = ex->final.kind == ipc::Reply::Kind::ok;
          out["result"] = ex->final.body;
          out["code"] = code_name(ex->final.error.code);
          out["message"] = ex->final.error.message;
          out["secret"] = ex->secret;
        }
      }
    }
    const std::string text = out.dump();
    (void)!::write(pipe->write.get(), text.data(), text.size());
    ::_exit(0);
  }
  pipe->write.reset();
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipe->read.get(), buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  pipe->read.reset();
  ::waitpid(child, nullptr, 0);
  auto j = ipc::Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("ok")) return std::nullopt;
  Exchange ex;
  ex.events = j["events"].get<std::vector<std::string>>();
  ex.final.kind = j["ok"].get<bool>() ? ipc::Reply::Kind::ok : ipc::Reply::Kind::error;
  ex.final.body = j["result"];
  ex.final.error.code = ipc::code_from_name(j["code"].get<std::string>()).value_or(Code::internal);
  ex.final.error.message = j["message"].get<std::string>();
  ex.secret = j["secret"].get<std::string>();
  return ex;
}

Deployment::Deployment(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/touchpass-e2e-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  ::chmod(dir_.c_str(), 0755);  // other test uids must reach the daemon's socket
  fs::create_directories(dir_ / "virtual");
  std::ofstream(config()) << "socket = " << socket().string() << "\n"
                          << "store = " << store().string() << "\n"
                          << "pepper = " << (dir_ / "state" / "pepper").string() << "\n"
                          << "virtual_token_dir = " << (dir_ / "virtual").string() << "\n"
                          << "usb_tokens = " << (options_.usb_tokens ? "true" : "false") << "\n"
                          << "token_timeout = " << options_.token_timeout << "\n"
                          << "pin_timeout = 10\n"
                          << "admin_group = touchpass-test-admins\n"
                          << options_.extra_config;
}

Deployment::~Deployment() {
  daemon_.stop(SIGKILL);
  for (auto& [name, token] : tokens_) token.stop(SIGKILL);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool Deployment::start_token(const std::string& name, const std::string& presence) {
  const fs::path sock = token_socket(name);
  tokens_[name] = Process::start(
      {VTOKEN_BINARY, "--socket", sock.string(), "--state", (dir_ / (name + ".json")).string(),
       "--presence", presence.empty() ? options_.presence : presence, "--pin", options_.pin},
      dir_ / (name + ".log"));
  return wait_for_socket(sock, 5000ms);
}

void Deployment::add_config(const std::string& lines) {
  std::ofstream(config(), std::ios::app) << lines;
}

bool Deployment::start_daemon() {
  std::vector<std::string> argv = options_.daemon_wrapper;
  argv.insert(argv.end(), {TOUCHPASSD_BINARY, "--config", config().string()});
  daemon_ = Process::start(argv, dir_ / "daemon.log", options_.daemon_env);
  return wait_for_socket(socket(), 5000ms);
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          std::optional<std::pair<uid_t, gid_t>> as,
                          const std::vector<std::string>& env) {
  auto in = make_pipe();
  auto out = make_pipe();
  auto err = make_pipe();
  if (!in.ok() || !out.ok() || !err.ok()) return {};
  const pid_t child = ::fork();
  if (child == 0) {
    // The pipes' own descriptors close at exec (O_CLOEXEC); their copies stay.
    ::setsid();
    ::dup2(in->read.get(), STDIN_FILENO);
    ::dup2(out->write.get(), STDOUT_FILENO);
    ::dup2(err->write.get(), STDERR_FILENO);
    if (as &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(as->second, as->second, as->second) != 0 ||
         ::setresuid(as->first, as->first, as->first) != 0)) {
      ::_exit(126);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  in->read.reset();
  out->write.reset();
  err->write.reset();
  (void)!::write(in->write.get(), input.data(), input.size());
  in->write.reset();
  CommandResult result;
  UniqueFd* sources[2] = {&out->read, &err->read};
  std::string* sinks[2] = {&result.out, &result.err};
  pollfd fds[2] = {{out->read.get(), POLLIN, 0}, {err->read.get(), POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0 && ::poll(fds, 2, 60000) > 0) {
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        sources[i]->reset();
        fds[i].fd = -1;  // poll() skips it
        --open_fds;
      } else {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Deployment::daemon_log() const {
  return read_file(dir_ / "daemon.log");
}

Result<std::unique_ptr<store::SqlStore>> Deployment::open_store() const {
  auto opened = store::open_sqlite_store(store());
  if (!opened.ok()) return opened;
  std::ifstream in(pepper(), std::ios::binary);
  Bytes bytes(32);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) {
    return Error{Code::io_error, "cannot read the pepper " + pepper().string()};
  }
  auto keys = store::StoreKeys::derive(bytes);
  if (!keys.ok()) return keys.error();
  // As the daemon after its first start: the store was keyed then.
  if (Status s = (*opened)->use_keys(std::move(*keys), 1764000000, false); !s.ok()) {
    return s.error();
  }
  return opened;
}

}  // namespace touchpass::testing
