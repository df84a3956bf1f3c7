#include "daemon/account_password.h"

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>

namespace touchpass::daemon {

namespace {

// Answers prompts whose echo is off with the password (`appdata`); shows nothing, answers
// nothing else.
int conversation(int count, const pam_message** messages, pam_response** responses, void* appdata) {
  if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
  auto* replies = static_cast<pam_response*>(
      std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
  if (replies == nullptr) return PAM_BUF_ERR;
  const auto* password = static_cast<const SecretBytes*>(appdata);
  for (int i = 0; i < count; ++i) {
    if (messages[i]->msg_style != PAM_PROMPT_ECHO_OFF) continue;
    // PAM frees (and pam_unix wipes) the answer; it must be a NUL-terminated malloc'ed copy.
    auto* copy = static_cast<char*>(std::malloc(password->size() + 1));
    if (copy == nullptr) {
      for (int j = 0; j < i; ++j) {
        if (replies[j].resp) {
          std::memset(replies[j].resp, 0, std::strlen(replies[j].resp));
          std::free(replies[j].resp);
        }
      }
      std::free(replies);
      return PAM_BUF_ERR;
    }
    if (password->size() > 0) std::memcpy(copy, password->data(), password->size());
    copy[password->size()] = '\0';
    replies[i].resp = copy;
  }
  *responses = replies;
  return PAM_SUCCESS;
}

}  // namespace

Status check_account_password(const std::string& service, const std::string& user,
                              const SecretBytes& password) {
  if (std::memchr(password.data(), '\0', password.size()) != nullptr) {
    return Status(Code::refused, "Refused.");
  }
  const pam_conv conv{conversation, const_cast<SecretBytes*>(&password)};
  pam_handle_t* handle = nullptr;
  int result = ::pam_start(service.c_str(), user.c_str(), &conv, &handle);
  if (result != PAM_SUCCESS) {
    return Status(Code::io_error, "PAM could not start the service \"" + service +
                                      "\": " + ::pam_strerror(handle, result));
  }
  result = ::pam_authenticate(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  if (result == PAM_SUCCESS)
    result = ::pam_acct_mgmt(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
  const std::string reason = ::pam_strerror(handle, result);
  ::pam_end(handle, result);
  switch (result) {
    case PAM_SUCCESS:
      return {};
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_MAXTRIES:
    case PAM_ACCT_EXPIRED:
    case PAM_NEW_AUTHTOK_REQD:
    case PAM_PERM_DENIED:
    case PAM_CRED_INSUFFICIENT:
      return Status(Code::refused, "Refused.");
    default:
      return Status(Code::io_error, "PAM service \"" + service + "\": " + reason);
  }
}

}  // namespace touchpass::daemon
