#include "web/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace touchpass::web {

namespace {

constexpr int kBacklog = 128;

Error failure(const ListenAddress& address, const char* what) {
  return Error{Code::io_error, "Cannot listen on " + address.to_string() + ": " + what + ": " +
                                   std::strerror(errno) + "."};
}

}  // namespace

Listener::Listener(UniqueFd fd, std::uint16_t port, std::filesystem::path unix_path)
    : fd_(std::move(fd)), port_(port), unix_path_(std::move(unix_path)) {}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::move(other.fd_)), port_(other.port_), unix_path_(std::move(other.unix_path_)) {
  other.unix_path_.clear();
}

Listener::~Listener() {
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

Result<Listener> Listener::open(const ListenAddress& address) {
  if (address.kind == ListenAddress::Kind::unix_socket) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    const std::string& path = address.path.native();
    if (path.size() >= sizeof(sun.sun_path)) {
      return Error{Code::invalid_argument, "The socket path " + path + " is too long."};
    }
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return failure(address, "socket");
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0) {
      return failure(address, "bind");
    }
    Listener listener(std::move(fd), 0, address.path);
    if (::chmod(path.c_str(), 0660) != 0) return failure(address, "chmod");
    if (::listen(listener.fd(), kBacklog) != 0) return failure(address, "listen");
    return listener;
  }

  sockaddr_storage storage{};
  socklen_t length = 0;
  const bool v6 = address.host.find(':') != std::string::npos;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(address.port);
    ::inet_pton(AF_INET6, address.host.c_str(), &sin6->sin6_addr);
    length = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(address.port);
    ::inet_pton(AF_INET, address.host.c_str(), &sin->sin_addr);
    length = sizeof(sockaddr_in);
  }
  UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return failure(address, "socket");
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (v6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    return failure(address, "bind");
  }
  if (::listen(fd.get(), kBacklog) != 0) return failure(address, "listen");
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    return failure(address, "getsockname");
  }
  const std::uint16_t port = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Listener(std::move(fd), port, {});
}

}  // namespace touchpass::web
