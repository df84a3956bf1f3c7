// A self-signed TLS certificate for servers the tests run on loopback (touchpass-web,
// PostgreSQL), made by the openssl command.
#pragma once

#include <filesystem>
#include <optional>

namespace touchpass::testing {

// A self-signed certificate for 127.0.0.1 and mail.example.test, and its key.
struct TestCertificate {
  std::filesystem::path certificate;
  std::filesystem::path key;
  // Writes cert.pem and key.pem (EC P-256, one day) into `dir`; nullopt if openssl failed.
  static std::optional<TestCertificate> make(const std::filesystem::path& dir);
};

}  // namespace touchpass::testing
