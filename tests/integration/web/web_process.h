// The real touchpass-web program for the tests: started with a configuration file the test
// writes, on an ephemeral port (or a Unix socket), its standard error collected; and a libcurl
// client that talks to it over real TLS, checking the test's self-signed certificate.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/fd.h"
#include "support/test_certificate.h"

namespace touchpass::testing {

class WebProcess {
 public:
  // Starts `program --config <config>` (behind `wrapper`, e.g. setpriv to run it as another
  // user, if given) and waits (at most 30 s) for its "listening on" line. Returns nullptr (with
  // the output in `error`) when it exits or never says it listens.
  static std::unique_ptr<WebProcess> start(const std::filesystem::path& program,
                                           const std::filesystem::path& config, std::string* error,
                                           const std::vector<std::string>& wrapper = {});
  // SIGKILLs the process if it is still running.
  ~WebProcess();

  // The base URL it announced, e.g. "https://127.0.0.1:40123", or "http://unix:/path".
  const std::string& base_url() const { return base_url_; }
  // Whether the process is still running (it has not exited).
  bool running();
  // Sends SIGTERM and waits for the exit; the exit status (as waitpid's), or -1.
  int terminate();
  // Everything it wrote to standard error so far.
  std::string output();

 private:
  WebProcess() = default;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string base_url_;
  UniqueFd stderr_;
  std::thread reader_;
  std::mutex mu_;
  std::string output_;
};

// One HTTP exchange as the client saw it.
struct HttpAnswer {
  long status = 0;                             // 0: no HTTP answer (the connection failed)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;  // libcurl's error text when status == 0

  std::string header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::optional<std::string> body;
  std::vector<std::string> headers;      // "Name: value"
  std::filesystem::path ca_certificate;  // for https
  std::filesystem::path unix_socket;     // talk over this socket instead of TCP
  std::string source_address;            // bind the client's side to this local address
  bool path_as_is = false;               // send "/../" as it is
  std::vector<std::string> resolve;      // CURLOPT_RESOLVE entries, "host:port:address"
  std::filesystem::path cookie_file;     // cookies read from and written to this file (libcurl)
};

// Performs one request with libcurl (a fresh connection each time).
HttpAnswer http(const HttpRequest& request);

}  // namespace touchpass::testing
