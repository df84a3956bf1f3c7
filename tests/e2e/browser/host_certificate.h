// A self-signed TLS certificate for a host name, made by the openssl command, and the hash
// Chromium's --ignore-certificate-errors-spki-list takes to accept it without trusting anything
// else.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace touchpass::testing {

struct HostCertificate {
  std::filesystem::path certificate;  // PEM
  std::filesystem::path key;          // PEM, EC P-256, unencrypted
  std::string spki_sha256;            // base64 (standard, padded) of SHA-256(SubjectPublicKeyInfo)

  // Writes host-cert.pem and host-key.pem (valid for one day, subjectAltName DNS:`host` and
  // IP:127.0.0.1) into `dir`; nullopt if openssl failed or the certificate cannot be read back.
  static std::optional<HostCertificate> make(const std::filesystem::path& dir,
                                             const std::string& host);

  // base64 of SHA-256 over the SubjectPublicKeyInfo of the PEM certificate at `pem` (what
  // --ignore-certificate-errors-spki-list takes), or "" when it cannot be read.
  static std::string spki_sha256_of(const std::filesystem::path& pem);
};

}  // namespace touchpass::testing
