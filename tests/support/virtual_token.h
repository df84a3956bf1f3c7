// Test helpers around the in-process virtual token: a temporary directory, a token served from a
// state file in it, and a raw libfido2 device on the token's socket (for checks that must not go
// through the backend).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "devices/fido2/fido2_token.h"
#include "devices/fido2/handles.h"
#include "devices/token.h"
#include "devices/virtual/authenticator.h"
#include "devices/virtual/server.h"

namespace touchpass::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One virtual token served in this process: an Authenticator whose state lives in
// `<dir>/<name>.state`, listening on `<dir>/<name>.sock`.
class InProcessVirtualToken {
 public:
  // Creates the state (config.initial_pin becomes the PIN) and starts serving.
  static Result<std::unique_ptr<InProcessVirtualToken>> start(const std::filesystem::path& dir,
                                                              vtoken::Config config = {},
                                                              vtoken::PresencePolicy presence = {},
                                                              const std::string& name = "token");
  ~InProcessVirtualToken();

  // Stops serving and starts again from the state file, as after unplugging and replugging the
  // token (or restarting its program); `config` replaces the switches if given.
  Status restart(std::optional<vtoken::Config> config = std::nullopt);
  // Stops serving and removes the socket (the token is unplugged). Idempotent.
  void stop();

  vtoken::VirtualTokenServer& server() { return *server_; }
  vtoken::Authenticator& authenticator() { return *authenticator_; }
  const std::filesystem::path& socket_path() const { return socket_path_; }
  const std::filesystem::path& state_file() const { return state_file_; }
  devices::TokenInfo info() const;

  // Opens the token with the backend under test.
  Result<std::unique_ptr<devices::fido2::Fido2Token>> open() const;

 private:
  InProcessVirtualToken() = default;
  Status serve();

  std::filesystem::path socket_path_;
  std::filesystem::path state_file_;
  vtoken::Config config_;
  vtoken::PresencePolicy presence_;
  std::shared_ptr<vtoken::Authenticator> authenticator_;
  std::unique_ptr<vtoken::VirtualTokenServer> server_;
};

// A libfido2 device opened directly on a virtual token's socket with the backend's I/O
// callbacks, for tests that talk to libfido2 without the backend. Null if the open failed; `error`
// then holds libfido2's code.
devices::fido2::DevicePtr open_raw_virtual_device(const std::filesystem::path& socket_path,
                                                  int* error = nullptr);

}  // namespace touchpass::testing
