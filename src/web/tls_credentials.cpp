#include "web/tls_credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
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

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// Never asks for a passphrase: an encrypted key cannot be read without a person.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

// With OpenSSL, before the TLS library is given them (which leaks what it parsed of a bad
// certificate, and names neither file): the first certificate of the chain, the key, and that
// they belong together.
Status check_pair(const TlsCredentials& c, const std::filesystem::path& certificate,
                  const std::filesystem::path& key) {
  std::unique_ptr<BIO, BioFree> cert_bio(
      BIO_new_mem_buf(c.certificate_pem.data(), static_cast<int>(c.certificate_pem.size())));
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(c.key_pem.data(), static_cast<int>(c.key_pem.size() - 1)));
  if (!cert_bio || !key_bio) return Error{Code::internal, "OpenSSL could not read memory."};
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr));
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  ERR_clear_error();
  if (!cert) {
    return Error{Code::invalid_argument,
                 certificate.string() + " does not start with a certificate that can be read."};
  }
  if (!pkey) {
    return Error{Code::invalid_argument,
                 key.string() +
                     " holds no private key that can be read (an encrypted key "
                     "cannot be: touchpass-web asks nobody for a passphrase)."};
  }
  if (X509_check_private_key(cert.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return Error{Code::invalid_argument, "The certificate in " + certificate.string() +
                                             " and the key in " + key.string() +
                                             " do not belong together."};
  }
  return Status();
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
  if (Status s = check_pair(credentials, certificate, key); !s.ok()) return s.error();
  return credentials;
}

}  // namespace touchpass::web
