// The HTTPS JSON API below /api/v1/ (API.md): routing and answers, free of HTTP-library types
// so that it is tested without a server. Every answer is JSON in the local protocol's format,
// with the same error codes.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "web/http_error.h"

namespace touchpass::web {

struct ApiAnswer {
  unsigned status = 200;
  std::string body;   // JSON
  std::string allow;  // 405: the methods the path takes (the Allow header)
};

class Api {
 public:
  // Whether touchpassd can be reached (daemon_probe.h in production; a fake in tests).
  using DaemonProbe = std::function<bool()>;

  explicit Api(DaemonProbe daemon_reachable) : daemon_reachable_(std::move(daemon_reachable)) {}

  // Whether `path` is the API's (below /api/); those answers are JSON and never cached.
  static bool owns(std::string_view path);

  // Answers one request for `path` (owns(path)). `body` is the request body, if it has one: it
  // is parsed (json_body.h) before the request is routed, so a malformed body is refused as
  // 400 protocol_error whatever the path. Then: an unknown path 404 not_found, a method the path
  // does not take 405 protocol_error (with `allow`).
  ApiAnswer handle(std::string_view method, std::string_view path,
                   const std::optional<std::string>& body) const;

 private:
  DaemonProbe daemon_reachable_;
};

}  // namespace touchpass::web
