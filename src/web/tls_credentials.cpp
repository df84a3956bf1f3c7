#include "web/tls_credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/fd.h"

namespace touchpass::web {

namespace {

constexpr std::size_t kMaxPemBytes = 1024 * 1024;

// Reads the regular file `path` into a secret one byte larger than the file, which stays NUL.
Result<SecretBytes> read_pem(const std::filesystem::path& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    return Error{Code::io_error,
                 "Cannot read " + path.string() + ": " + std::strerror(errno) + "."};
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
      static_cast<std::size_t>(st.st_size) > kMaxPemBytes) {
    return Error{Code::invalid_argument, path.string() + " is not a PEM file of 1 MiB at most."};
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  SecretBytes text(size + 1);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd.get(), text.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Error{Code::io_error, "Cannot read " + path.string() + " to its end."};
    }
    got += static_cast<std::size_t>(n);
  }
  if (text.view().find("-----BEGIN ") == std::string_view::npos) {
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
