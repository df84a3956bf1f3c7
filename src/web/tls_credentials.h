// The certificate chain and private key touchpass-web serves HTTPS with, read from PEM files.
// The key is held in a SecretBytes (locked, wiped when destroyed); the server drops it as soon
// as the TLS library has taken its own copy, at start-up.
#pragma once

#include <filesystem>
#include <string>

#include "core/secret.h"
#include "core/status.h"

namespace touchpass::web {

struct TlsCredentials {
  std::string certificate_pem;  // NUL-terminated by std::string
  SecretBytes key_pem;          // the PEM text followed by one NUL byte

  // The key as the C string the TLS library takes. Valid while *this lives.
  const char* key_c_str() const { return reinterpret_cast<const char*>(key_pem.data()); }
};

// Reads both PEM files (each at most 1 MiB; small_file.h): the key never passes through an
// ordinary string. Checks with OpenSSL that the certificate file starts with a certificate, the
// key file holds an unencrypted private key, and the two belong together. Errors: io_error
// naming the file that cannot be read; invalid_argument with a sentence naming the file that
// is empty, too large, not PEM or unreadable, or both files when they do not match.
Result<TlsCredentials> load_tls_credentials(const std::filesystem::path& certificate,
                                            const std::filesystem::path& key);

}  // namespace touchpass::web
