#include "web/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/fd.h"

namespace touchpass::web {

Result<SecretBytes> read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    return Error{Code::io_error,
                 "Cannot read " + path.string() + ": " + std::strerror(errno) + "."};
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 || static_cast<std::size_t>(st.st_size) > max_bytes) {
    return Error{Code::invalid_argument,
                 path.string() + " is not a file of 1 to " + std::to_string(max_bytes) + " bytes."};
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  SecretBytes bytes(size + 1);
  for (std::size_t got = 0; got < size;) {
    const ssize_t n = ::read(fd.get(), bytes.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{Code::io_error, "Cannot read " + path.string() + " to its end."};
    got += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace touchpass::web
