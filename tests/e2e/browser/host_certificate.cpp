#include "e2e/browser/host_certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace touchpass::testing {

std::string HostCertificate::spki_sha256_of(const std::filesystem::path& pem) {
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(pem.c_str(), "r"), &std::fclose);
  if (!file) return {};
  std::unique_ptr<X509, decltype(&X509_free)> certificate(
      PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!certificate) return {};
  unsigned char* der = nullptr;
  const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate.get()), &der);
  if (length <= 0) return {};
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(length), digest);
  OPENSSL_free(der);
  std::vector<unsigned char> text(4 * ((sizeof digest + 2) / 3) + 1);
  const int written = EVP_EncodeBlock(text.data(), digest, sizeof digest);
  return std::string(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(written));
}

std::optional<HostCertificate> HostCertificate::make(const std::filesystem::path& dir,
                                                     const std::string& host) {
  HostCertificate c{dir / "host-cert.pem", dir / "host-key.pem", {}};
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj '/CN=" +
      host + "' -addext 'subjectAltName=DNS:" + host + ",IP:127.0.0.1' -keyout '" + c.key.string() +
      "' -out '" + c.certificate.string() + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  c.spki_sha256 = spki_sha256_of(c.certificate);
  if (c.spki_sha256.empty()) return std::nullopt;
  return c;
}

}  // namespace touchpass::testing
