#include "support/virtual_token.h"

#include <stdlib.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "devices/fido2/report_io.h"

namespace touchpass::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/touchpass-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::unique_ptr<InProcessVirtualToken>> InProcessVirtualToken::start(
    const std::filesystem::path& dir, vtoken::Config config, vtoken::PresencePolicy presence,
    const std::string& name) {
  std::unique_ptr<InProcessVirtualToken> token(new InProcessVirtualToken);
  token->socket_path_ = dir / (name + ".sock");
  token->state_file_ = dir / (name + ".state");
  token->config_ = std::move(config);
  token->presence_ = presence;
  if (Status s = token->serve(); !s.ok()) return s;
  return token;
}

InProcessVirtualToken::~InProcessVirtualToken() {
  stop();
}

Status InProcessVirtualToken::serve() {
  auto authenticator = vtoken::Authenticator::open(config_, state_file_);
  if (!authenticator) return authenticator.status();
  authenticator_ = std::shared_ptr<vtoken::Authenticator>(std::move(authenticator).value());
  auto server = vtoken::VirtualTokenServer::start(socket_path_, authenticator_, presence_);
  if (!server) return server.status();
  server_ = std::move(server).value();
  return Status::success();
}

void InProcessVirtualToken::stop() {
  if (server_) server_->stop();
  server_.reset();
  authenticator_.reset();
}

Status InProcessVirtualToken::restart(std::optional<vtoken::Config> config) {
  stop();
  if (config) config_ = std::move(*config);
  return serve();
}

devices::TokenInfo InProcessVirtualToken::info() const {
  devices::TokenInfo info;
  info.path = socket_path_.string();
  info.transport = devices::Transport::virtual_socket;
  info.manufacturer = "touchpass";
  info.product = "in-process virtual token";
  return info;
}

Result<std::unique_ptr<devices::fido2::Fido2Token>> InProcessVirtualToken::open() const {
  return devices::fido2::Fido2Token::open(info());
}

devices::fido2::DevicePtr open_raw_virtual_device(const std::filesystem::path& socket_path,
                                                  int* error) {
  devices::fido2::ensure_libfido2_initialized();
  devices::fido2::DevicePtr dev(fido_dev_new());
  int r = dev ? fido_dev_set_io_functions(dev.get(), &devices::fido2::virtual_socket_io())
              : FIDO_ERR_INTERNAL;
  if (r == FIDO_OK) {
    fido_dev_set_timeout(dev.get(), 10000);
    r = fido_dev_open(dev.get(), socket_path.c_str());
  }
  if (error != nullptr) *error = r;
  if (r != FIDO_OK) return nullptr;
  return dev;
}

}  // namespace touchpass::testing
