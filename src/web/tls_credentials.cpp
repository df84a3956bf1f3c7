#include "web/tls_credentials.h"

#include <string_view>

#include "web/small_file.h"

namespace touchpass::web {

namespace {

constexpr std::size_t kMaxPemBytes = 1024 * 1024;

// The PEM file `path`, NUL-terminated, in wiped memory.
Result<SecretBytes> read_pem(const std::filesystem::path& path) {
  auto text = read_small_file(path, kMaxPemBytes);
  if (text.ok() && text->view().find("-----BEGIN ") == std::string_view::npos) {
    return Error{Code::invalid_argument, path.string() + " is not a PEM file."};
  }
  return text;
}

}  // namespace

Result<TlsCredentials> load_tls_credentials(const std::filesystem::path& certificate,
                                            const std::filesystem::path& key) {
  auto cert_text = read_pem(certificate);
  if (!cert_text.ok()) return cert_text.error();
  auto key_text = read_pem(key);
  if (!key_text.ok()) return key_text.error();
  TlsCredentials credentials;
  credentials.certificate_pem.assign(cert_text->view().substr(0, cert_text->size() - 1));
  credentials.key_pem = std::move(*key_text);
  return credentials;
}

}  // namespace touchpass::web
