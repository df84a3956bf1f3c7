#include "integration/web/web_process.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>

extern char** environ;

namespace touchpass::testing {

std::unique_ptr<WebProcess> WebProcess::start(const std::filesystem::path& program,
                                              const std::filesystem::path& config,
                                              std::string* error,
                                              const std::vector<std::string>& wrapper) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return nullptr;
  std::unique_ptr<WebProcess> p(new WebProcess);
  p->stderr_.reset(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  const std::string program_text = program.string();
  const std::string config_text = config.string();
  std::vector<std::string> words = wrapper;
  words.insert(words.end(), {program_text, "--config", config_text});
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int spawned = ::posix_spawn(&p->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (spawned != 0) {
    *error = "posix_spawn failed";
    return nullptr;
  }
  p->reader_ = std::thread([raw = p.get()] {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(raw->stderr_.get(), buffer, sizeof buffer);
      if (n <= 0) return;
      std::lock_guard lock(raw->mu_);
      raw->output_.append(buffer, static_cast<std::size_t>(n));
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline && p->running()) {
    const std::string out = p->output();
    const auto at = out.find("listening on ");
    if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
      p->base_url_ = out.substr(at + 13, out.find('\n', at) - at - 13);
      return p;
    }
    ::poll(nullptr, 0, 10);  // waiting for the line, not a timing assumption
  }
  *error = "touchpass-web did not start: " + p->output();
  return nullptr;
}

WebProcess::~WebProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
}

bool WebProcess::running() {
  if (status_ || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
  return !status_;
}

int WebProcess::terminate() {
  if (running()) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) status_ = status;
  }
  return status_.value_or(-1);
}

std::string WebProcess::output() {
  std::lock_guard lock(mu_);
  return output_;
}

namespace {

std::size_t collect_body(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t count, void* out) {
  const std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n") + 1);
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * count;
}

}  // namespace

HttpAnswer http(const HttpRequest& request) {
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    answer.error = "curl_easy_init failed";
    return answer;
  }
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (request.body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!request.ca_certificate.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_certificate.c_str());
  }
  if (!request.unix_socket.empty()) {
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  }
  if (!request.source_address.empty()) {
    curl_easy_setopt(curl, CURLOPT_INTERFACE, request.source_address.c_str());
  }
  if (request.path_as_is) curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_slist* resolve = nullptr;
  for (const auto& r : request.resolve) resolve = curl_slist_append(resolve, r.c_str());
  if (resolve) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  if (!request.cookie_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_COOKIEFILE, request.cookie_file.c_str());
    curl_easy_setopt(curl, CURLOPT_COOKIEJAR, request.cookie_file.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  } else {
    answer.error = error;
  }
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  curl_easy_cleanup(curl);
  return answer;
}

}  // namespace touchpass::testing
