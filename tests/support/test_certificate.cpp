#include "support/test_certificate.h"

#include <cstdlib>
#include <string>

namespace touchpass::testing {

std::optional<TestCertificate> TestCertificate::make(const std::filesystem::path& dir) {
  TestCertificate c{dir / "cert.pem", dir / "key.pem"};
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:mail.example.test -keyout '" +
      c.key.string() + "' -out '" + c.certificate.string() + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  return c;
}

}  // namespace touchpass::testing
