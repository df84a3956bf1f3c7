#include "daemon/store_opening.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/fd.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace touchpass::daemon {

namespace {

constexpr std::size_t kMaxPassword = 1024;

Error bad_file(const std::filesystem::path& path, const std::string& why) {
  return Error{Code::invalid_argument, "The PostgreSQL password file " + path.string() + " " + why};
}

}  // namespace

Result<SecretBytes> read_password_file(const std::filesystem::path& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return Error{Code::io_error, "Cannot open the PostgreSQL password file " + path.string() +
                                     ": " + std::strerror(errno) + "."};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Error{Code::io_error, "Cannot read the PostgreSQL password file " + path.string() +
                                     ": " + std::strerror(errno) + "."};
  }
  if (!S_ISREG(st.st_mode)) return bad_file(path, "is not a regular file.");
  if ((st.st_mode & 077) != 0) {
    return bad_file(path, "may be read or written by group or others; make it mode 0600.");
  }
  SecretBytes buffer(kMaxPassword + 1);
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    const ssize_t n = ::read(fd.get(), buffer.data() + filled, buffer.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error{Code::io_error, "Cannot read the PostgreSQL password file " + path.string() +
                                       ": " + std::strerror(errno) + "."};
    }
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  const auto bytes = buffer.bytes().first(filled);
  const auto end = std::find_if(bytes.begin(), bytes.end(),
                                [](std::uint8_t c) { return c == '\n' || c == '\r'; });
  const auto length = static_cast<std::size_t>(end - bytes.begin());
  if (length > kMaxPassword) return bad_file(path, "holds a line longer than 1024 bytes.");
  if (length == 0) return bad_file(path, "is empty: its first line is the password.");
  return SecretBytes::copy_of(bytes.first(length));
}

Result<OpenedStore> open_configured_store(const Config& config) {
  if (config.postgresql.empty()) {
    auto opened = store::open_sqlite_store(config.store);
    if (!opened.ok()) return opened.error();
    return OpenedStore{std::move(*opened), config.store.string()};
  }
  store::PostgresSettings settings;
  settings.conninfo = config.postgresql;
  settings.readers = config.postgresql_connections;
  if (!config.postgresql_password_file.empty()) {
    auto password = read_password_file(config.postgresql_password_file);
    if (!password.ok()) return password.error();
    settings.password = std::move(*password);
  }
  auto opened = store::open_postgres_store(settings);
  if (!opened.ok()) return opened.error();
  return OpenedStore{std::move(*opened), "PostgreSQL (" + config.postgresql + ")"};
}

}  // namespace touchpass::daemon
