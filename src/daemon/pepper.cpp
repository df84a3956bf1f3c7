#include "daemon/pepper.h"

#include "core/crypto.h"
#include "core/fd.h"
#include "core/random.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace touchpass::daemon {

namespace {

Error io_error(const std::filesystem::path& path, const std::string& what) {
  return Error{Code::io_error,
               "The pepper file " + path.string() + " " + what + ": " + std::strerror(errno) + "."};
}

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

Result<SecretBytes> read_pepper(const std::filesystem::path& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path, "cannot be examined");
  if (!S_ISREG(st.st_mode)) {
    return Error{Code::invalid_argument, "The pepper file " + path.string() + " is not a file."};
  }
  if ((st.st_mode & 077) != 0) {
    return Error{Code::invalid_argument,
                 "The pepper file " + path.string() +
                     " may be read or written by others; fix it with chmod 600."};
  }
  if (st.st_size != static_cast<off_t>(kPepperSize)) {
    return Error{Code::invalid_argument, "The pepper file " + path.string() + " is not " +
                                             std::to_string(kPepperSize) + " bytes long."};
  }
  SecretBytes pepper(kPepperSize);
  std::size_t got = 0;
  while (got < kPepperSize) {
    const ssize_t n = ::read(fd, pepper.data() + got, kPepperSize - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(path, "cannot be read");
    got += static_cast<std::size_t>(n);
  }
  return pepper;
}

}  // namespace

Result<SecretBytes> load_or_create_pepper(const std::filesystem::path& path, bool may_create) {
  if (const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)); fd.valid()) {
    return read_pepper(path, fd.get());
  }
  if (errno != ENOENT) return io_error(path, "cannot be opened");
  if (!may_create) return Error{Code::not_found, "The pepper " + path.string() + " is missing."};

  SecretBytes pepper(kPepperSize);
  if (Status s = fill_random(pepper.bytes()); !s.ok()) return s.error();
  const std::filesystem::path tmp = path.string() + ".new";
  ::unlink(tmp.c_str());
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!out.valid()) return io_error(tmp, "cannot be created");
  const bool written = write_all(out.get(), pepper.data(), kPepperSize) && ::fsync(out.get()) == 0;
  out.reset();
  // link(2), unlike rename(2), never replaces a pepper another process created meanwhile.
  if (!written || ::link(tmp.c_str(), path.c_str()) != 0) {
    const bool raced = written && errno == EEXIST;
    const Error e = io_error(path, "cannot be written");
    ::unlink(tmp.c_str());
    if (raced) return load_or_create_pepper(path, may_create);
    return e;
  }
  ::unlink(tmp.c_str());
  const UniqueFd dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) ::fsync(dir.get());
  return pepper;
}

Result<Bytes> pepper_fingerprint(const SecretBytes& pepper) {
  Bytes mac(32);
  constexpr std::string_view kLabel = "touchpass/pepper-fingerprint/v1";
  if (Status s = crypto::hmac_sha256(pepper.bytes(), crypto::text_bytes(kLabel), mac); !s.ok()) {
    return s;
  }
  mac.resize(16);
  return mac;
}

Result<SecretBytes> load_pepper_for_store(const std::filesystem::path& path,
                                          store::AdminStore& store, std::string_view store_name) {
  auto recorded = store.pepper_fingerprint();
  if (!recorded.ok()) return recorded.error();
  auto in_use = store.holds_data();
  if (!in_use.ok()) return in_use.error();
  const bool bound = recorded->has_value() || *in_use;
  auto pepper = load_or_create_pepper(path, !bound);
  if (!pepper.ok()) {
    if (pepper.code() != Code::not_found) return pepper.error();
    return Error{Code::not_found,
                 "The pepper " + path.string() + " is missing, but the store " +
                     std::string(store_name) +
                     " holds security keys and app passwords that need it. Restore the pepper "
                     "file from your backup (a new pepper would make every app password fail); "
                     "or, to start afresh, move the store away."};
  }
  auto fingerprint = pepper_fingerprint(*pepper);
  if (!fingerprint.ok()) return fingerprint.error();
  if (recorded->has_value() && **recorded != *fingerprint) {
    return Error{Code::invalid_argument,
                 "The pepper " + path.string() + " is not the one the store " +
                     std::string(store_name) + " was made with (fingerprint " +
                     to_hex(*fingerprint) + ", the store expects " + to_hex(**recorded) +
                     "). Restore the store's pepper file from your backup."};
  }
  if (!recorded->has_value()) {
    if (Status s = store.set_pepper_fingerprint(*fingerprint); !s.ok()) return s.error();
    // The store keeps the first fingerprint: another host sharing it may have been first.
    auto kept = store.pepper_fingerprint();
    if (!kept.ok()) return kept.error();
    if (!kept->has_value() || **kept != *fingerprint) {
      return Error{Code::invalid_argument,
                   "Another host recorded its pepper in the store " + std::string(store_name) +
                       " first, and it is not " + path.string() +
                       ". Every host of one store needs the same pepper: copy that host's "
                       "pepper file here (mode 0600) and start touchpassd again."};
    }
  }
  return pepper;
}

}  // namespace touchpass::daemon
