#include "support/chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <span>
#include <sstream>

#include "core/bytes.h"

extern char** environ;

namespace touchpass::testing {

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A copy of `fd` numbered 10 or above, close-on-exec; so that dup2 onto 3 and 4 in the child
// never meets one of the pipe's own descriptors.
UniqueFd high_copy(const UniqueFd& fd) {
  return UniqueFd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 10));
}

// Standard base64 (with + / and padding, as CDP sends binary data) decoded; nullopt if invalid.
std::optional<Bytes> from_base64(std::string text) {
  while (!text.empty() && text.back() == '=') text.pop_back();
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  return from_base64url(text);
}

// Standard base64 with padding, as CDP takes binary data.
std::string to_base64(const std::string& data) {
  std::string text =
      to_base64url(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  while (text.size() % 4 != 0) text.push_back('=');
  return text;
}

}  // namespace

std::filesystem::path Chromium::program() {
  const std::filesystem::path path = "/usr/bin/chromium";
  return ::access(path.c_str(), X_OK) == 0 ? path : std::filesystem::path();
}

std::unique_ptr<Chromium> Chromium::start(const Options& options, std::string* error) {
  const std::filesystem::path binary = program();
  if (binary.empty()) {
    *error = "Chromium is not installed (/usr/bin/chromium)";
    return nullptr;
  }
  std::unique_ptr<Chromium> c(new Chromium);
  c->dir_ = std::make_unique<TempDir>();
  int commands[2];
  int answers[2];
  if (::pipe2(commands, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  UniqueFd commands_read(commands[0]);
  c->to_browser_.reset(commands[1]);
  if (::pipe2(answers, O_CLOEXEC) != 0) {
    *error = "pipe2 failed";
    return nullptr;
  }
  c->from_browser_.reset(answers[0]);
  UniqueFd answers_write(answers[1]);
  const UniqueFd child_in = high_copy(commands_read);
  const UniqueFd child_out = high_copy(answers_write);
  if (!child_in.valid() || !child_out.valid()) {
    *error = "fcntl(F_DUPFD_CLOEXEC) failed";
    return nullptr;
  }
  // Chromium closes its end when it exits: a write to a dead browser must be an error, not a
  // signal that ends the test.
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> args = {
      binary.string(),
      "--headless=new",
      "--no-sandbox",  // the tests run as root, where the sandbox cannot start
      "--remote-debugging-pipe",
      "--user-data-dir=" + (c->dir_->path() / "profile").string(),
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--metrics-recording-only",
      "--password-store=basic",
      "--use-mock-keychain",
      "--window-size=390,844",  // a phone's screen
  };
  if (!options.host_resolver_rules.empty()) {
    args.push_back("--host-resolver-rules=" + options.host_resolver_rules);
  }
  if (!options.trusted_spki_hash.empty()) {
    args.push_back("--ignore-certificate-errors-spki-list=" + options.trusted_spki_hash);
  }
  args.push_back("about:blank");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const std::string log = (c->dir_->path() / "chromium.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_in.get(), 3);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), 4);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);  // its helpers die with it
  posix_spawnattr_setpgroup(&attributes, 0);
  const int spawned = ::posix_spawn(&c->pid_, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    c->pid_ = -1;
    *error = "posix_spawn of Chromium failed";
    return nullptr;
  }
  const CdpAnswer version = c->call("Browser.getVersion");
  if (!version.ok()) {
    *error = "Chromium did not answer on the DevTools pipe (" + version.error + "); its output:\n" +
             c->output();
    return nullptr;
  }
  return c;
}

Chromium::~Chromium() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // The helpers were killed with the group; they are not our children, so init reaps them.
  to_browser_.reset();
  from_browser_.reset();
  dir_.reset();
}

std::string Chromium::output() const {
  std::ifstream in(dir_->path() / "chromium.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool Chromium::send(const Json& message) {
  std::string text = message.dump();
  text.push_back('\0');
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(to_browser_.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void Chromium::file_message(const std::string& text) {
  Json message = Json::parse(text, nullptr, false);
  if (!message.is_object()) return;
  if (message.contains("id")) {
    answers_.push_back(std::move(message));
    return;
  }
  CdpEvent event;
  event.method = message.value("method", "");
  event.params = message.value("params", Json::object());
  event.session = message.value("sessionId", "");
  events_.push_back(std::move(event));
  taken_.push_back(false);
}

bool Chromium::read_some(Clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{from_browser_.get(), POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
  if (ready < 0 && errno == EINTR) return true;
  if (ready <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::read(from_browser_.get(), chunk, sizeof chunk);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  for (std::size_t end = buffer_.find('\0'); end != std::string::npos; end = buffer_.find('\0')) {
    file_message(buffer_.substr(0, end));
    buffer_.erase(0, end + 1);
  }
  return true;
}

CdpAnswer Chromium::call(const std::string& method, const Json& params, const std::string& session,
                         std::chrono::seconds deadline) {
  const auto until = Clock::now() + deadline;
  const long id = next_id_++;
  Json message = {{"id", id}, {"method", method}, {"params", params}};
  if (!session.empty()) message["sessionId"] = session;
  CdpAnswer answer;
  if (!send(message)) {
    answer.error = "Chromium's DevTools pipe is closed";
    return answer;
  }
  for (;;) {
    const auto it = std::find_if(answers_.begin(), answers_.end(),
                                 [id](const Json& a) { return a.value("id", 0L) == id; });
    if (it != answers_.end()) {
      if (it->contains("error")) {
        answer.error = method + ": " + (*it)["error"].value("message", it->dump());
      } else {
        answer.result = it->value("result", Json::object());
      }
      answers_.erase(it);
      return answer;
    }
    if (!read_some(until)) {
      answer.error = method + ": no answer from Chromium (it exited or the deadline passed)";
      return answer;
    }
  }
}

std::optional<CdpEvent> Chromium::wait_for_event(const std::string& method,
                                                 const std::string& session,
                                                 std::chrono::seconds deadline) {
  const auto until = Clock::now() + deadline;
  for (;;) {
    for (std::size_t i = 0; i < events_.size(); ++i) {
      if (taken_[i] || events_[i].method != method) continue;
      if (!session.empty() && events_[i].session != session) continue;
      taken_[i] = true;
      return events_[i];
    }
    if (!read_some(until)) return std::nullopt;
  }
}

std::string Chromium::open_page(std::string* error) {
  const CdpAnswer target = call("Target.createTarget", {{"url", "about:blank"}});
  if (!target.ok()) {
    *error = target.error;
    return {};
  }
  const CdpAnswer attached =
      call("Target.attachToTarget",
           {{"targetId", target.result.value("targetId", "")}, {"flatten", true}});
  if (!attached.ok()) {
    *error = attached.error;
    return {};
  }
  const std::string session = attached.result.value("sessionId", "");
  for (const char* domain : {"Page.enable", "Runtime.enable", "Log.enable"}) {
    const CdpAnswer enabled = call(domain, Json::object(), session);
    if (!enabled.ok()) {
      *error = enabled.error;
      return {};
    }
  }
  return session;
}

std::string Chromium::navigate(const std::string& session, const std::string& url) {
  // Load events of earlier navigations are spent, so that the wait below sees this one's.
  for (std::size_t i = 0; i < events_.size(); ++i) {
    if (events_[i].method == "Page.loadEventFired" && events_[i].session == session) {
      taken_[i] = true;
    }
  }
  const CdpAnswer answer = call("Page.navigate", {{"url", url}}, session);
  if (!answer.ok()) return answer.error;
  const std::string failed = answer.result.value("errorText", "");
  if (!failed.empty()) return "navigation to " + url + " failed: " + failed;
  if (!wait_for_event("Page.loadEventFired", session)) {
    return "the page at " + url + " did not finish loading";
  }
  return {};
}

CdpAnswer Chromium::evaluate(const std::string& session, const std::string& expression,
                             std::chrono::seconds deadline) {
  CdpAnswer answer = call("Runtime.evaluate",
                          {{"expression", expression},
                           {"awaitPromise", true},
                           {"returnByValue", true},
                           {"userGesture", true}},
                          session, deadline);
  if (!answer.ok()) return answer;
  if (answer.result.contains("exceptionDetails")) {
    const Json& details = answer.result["exceptionDetails"];
    std::string text = details.value("text", "exception");
    if (details.contains("exception")) {
      text += ": " + details["exception"].value("description", "");
    }
    return CdpAnswer{Json::object(), text};
  }
  return CdpAnswer{answer.result.value("result", Json::object()), {}};
}

CdpAnswer Chromium::add_virtual_authenticator(const std::string& session, const Json& options) {
  const CdpAnswer enabled = call("WebAuthn.enable", {{"enableUI", false}}, session);
  if (!enabled.ok()) return enabled;
  return call("WebAuthn.addVirtualAuthenticator", {{"options", options}}, session);
}

CdpAnswer Chromium::intercept(const std::string& session, const std::string& url_pattern) {
  return call(
      "Fetch.enable",
      {{"patterns", Json::array({{{"urlPattern", url_pattern}, {"requestStage", "Request"}}})}},
      session);
}

CdpAnswer Chromium::fulfill(const std::string& session, const std::string& request_id, int status,
                            const Json& headers, const std::string& body) {
  Json header_list = Json::array();
  for (const auto& [name, value] : headers.items()) {
    header_list.push_back({{"name", name}, {"value", value}});
  }
  return call("Fetch.fulfillRequest",
              {{"requestId", request_id},
               {"responseCode", status},
               {"responseHeaders", header_list},
               {"body", to_base64(body)}},
              session);
}

std::string Chromium::screenshot(const std::string& session, const std::filesystem::path& path) {
  const CdpAnswer shot = call("Page.captureScreenshot", {{"format", "png"}}, session);
  if (!shot.ok()) return shot.error;
  const std::optional<Bytes> png = from_base64(shot.result.value("data", ""));
  if (!png) return "Page.captureScreenshot: the data is not base64";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
  out.close();
  return out ? std::string() : "could not write " + path.string();
}

}  // namespace touchpass::testing
