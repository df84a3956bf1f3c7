// pam_touchpass.so: accepts touchpass app passwords for PAM services (Dovecot, Postfix SASL
// through Dovecot, anything PAM-aware) by asking touchpassd to verify (user, password,
// service). Thin glue between PAM and the IPC protocol (DESIGN.md §2 property 7):
//
//   accepted by touchpassd                           PAM_SUCCESS
//   refused by touchpassd, no user, no password       PAM_AUTH_ERR
//   touchpassd unreachable, silent, broken, erring    PAM_AUTHINFO_UNAVAIL
//   the socket's listener not root or daemon_user=    PAM_AUTHINFO_UNAVAIL (password not sent)
//   bad module arguments                              PAM_SERVICE_ERR
//
// It fails closed on every error: PAM_SUCCESS only for the daemon's acceptance, never
// PAM_IGNORE, and no C++ exception crosses into PAM. Only pam_sm_authenticate and
// pam_sm_setcred are exported (exports.map). The password is copied once, into a SecretBytes
// that wipes itself; PAM owns and wipes its own authentication token.
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/utf8.h"
#include "ipc/frame.h"
#include "pam/module_options.h"
#include "pam/verify_client.h"

namespace touchpass::pam {

namespace {

// Longest user name and remote address passed on; longer ones are no user name and no address.
constexpr std::size_t kMaxUserName = 256;
constexpr std::size_t kMaxRemote = 255;

// True for text without control characters (C0, DEL) that is valid UTF-8, so it can go into
// the JSON request and the log unchanged.
bool is_clean_text(std::string_view text) {
  for (char byte : text) {
    const auto c = static_cast<unsigned char>(byte);
    if (c < 0x20 || c == 0x7F) return false;
  }
  return is_valid_utf8(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// `text` with control characters replaced by '?', for the log (the daemon's words are
// untrusted).
std::string loggable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return out;
}

std::string pam_service_of(pam_handle_t* pamh) {
  const void* item = nullptr;
  if (pam_get_item(pamh, PAM_SERVICE, &item) != PAM_SUCCESS || item == nullptr) return "";
  return static_cast<const char*>(item);
}

// The client's address (PAM_RHOST) when it is set and clean; "" otherwise. touchpassd counts
// failures by it, logs it, and checks it against a password restricted to networks (which ""
// never passes).
std::string remote_of(pam_handle_t* pamh) {
  const void* item = nullptr;
  if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS || item == nullptr) return "";
  const std::string_view remote(static_cast<const char*>(item));
  if (remote.size() > kMaxRemote || !is_clean_text(remote)) return "";
  return std::string(remote);
}

// Gathers user, password and address from PAM, asks touchpassd, and maps its verdict.
int authenticate(pam_handle_t* pamh, const ModuleOptions& options) {
  const char* user = nullptr;
  if (pam_get_user(pamh, &user, nullptr) != PAM_SUCCESS || user == nullptr || *user == '\0') {
    pam_syslog(pamh, LOG_NOTICE, "no user name; refusing");
    return PAM_AUTH_ERR;
  }
  const std::string_view user_name(user);
  if (user_name.size() > kMaxUserName || !is_clean_text(user_name)) {
    pam_syslog(pamh, LOG_NOTICE, "unusable user name; refusing");
    return PAM_AUTH_ERR;
  }
  const char* token = nullptr;
  if (pam_get_authtok(pamh, PAM_AUTHTOK, &token, nullptr) != PAM_SUCCESS || token == nullptr) {
    pam_syslog(pamh, LOG_NOTICE, "no password for %s; refusing", user);
    return PAM_AUTH_ERR;
  }
  const std::size_t length = std::strlen(token);
  if (length == 0 || length > ipc::kMaxSecretSize) {
    pam_syslog(pamh, LOG_NOTICE, "%s password for %s; refusing", length == 0 ? "empty" : "overlong",
               user);
    return PAM_AUTH_ERR;
  }
  const SecretBytes password = SecretBytes::copy_of(std::string_view(token, length));

  const VerifyQuery query{std::string(user_name), options.service, remote_of(pamh)};
  const Verdict verdict =
      verify_with_daemon(options.socket, options.daemon_user, query, password, options.timeout);
  const char* from = query.remote.empty() ? "an unknown address" : query.remote.c_str();
  switch (verdict.kind) {
    case Verdict::Kind::accepted:
      if (options.debug) {
        pam_syslog(pamh, LOG_NOTICE, "accepted an app password of %s for %s from %s", user,
                   options.service.c_str(), from);
      }
      return PAM_SUCCESS;
    case Verdict::Kind::refused:
      pam_syslog(pamh, LOG_NOTICE, "touchpassd refused the password of %s for %s from %s", user,
                 options.service.c_str(), from);
      return PAM_AUTH_ERR;
    case Verdict::Kind::unavailable:
      break;
  }
  pam_syslog(pamh, LOG_ERR, "cannot verify the password of %s for %s: %s", user,
             options.service.c_str(), loggable(verdict.detail).c_str());
  return PAM_AUTHINFO_UNAVAIL;
}

// Runs `body`, turning any exception into `on_exception` (logged): nothing may unwind into
// PAM's C code.
template <class Body>
int guarded(pam_handle_t* pamh, int on_exception, Body body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    pam_syslog(pamh, LOG_ERR, "internal error (%s); refusing", loggable(e.what()).c_str());
  } catch (...) {
    pam_syslog(pamh, LOG_ERR, "internal error; refusing");
  }
  return on_exception;
}

}  // namespace

}  // namespace touchpass::pam

extern "C" {

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int /*flags*/,
                                                               int argc, const char** argv) {
  using namespace touchpass::pam;
  return guarded(pamh, PAM_AUTHINFO_UNAVAIL, [&] {
    const std::span<const char* const> arguments(argv, argc > 0 ? std::size_t(argc) : 0);
    auto options = parse_module_options(arguments, pam_service_of(pamh));
    if (!options.ok()) {
      pam_syslog(pamh, LOG_ERR, "%s", options.error().message.c_str());
      return PAM_SERVICE_ERR;
    }
    return authenticate(pamh, *options);
  });
}

// Nothing to establish or delete: touchpass passwords carry no credentials.
__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* /*pamh*/, int /*flags*/,
                                                          int /*argc*/, const char** /*argv*/) {
  return PAM_SUCCESS;
}

}  // extern "C"
