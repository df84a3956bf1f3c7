#include "devices/virtual/state.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/fd.h"
#include "devices/virtual/crypto.h"

namespace touchpass::vtoken {

namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

// A state file that parses but does not describe a valid state.
class InvalidState : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The file's text; wipes itself since it holds private keys.
struct FileText {
  std::string text;
  ~FileText() { OPENSSL_cleanse(text.data(), text.size()); }
};

std::string errno_text() {
  return std::strerror(errno);
}

const json& field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) throw InvalidState(std::string("missing field ") + name);
  return *it;
}

Bytes hex_field(const json& object, const char* name, std::optional<std::size_t> size = {}) {
  const json& value = field(object, name);
  if (!value.is_string()) throw InvalidState(std::string(name) + " is not a string");
  auto bytes = from_hex(value.get_ref<const std::string&>());
  if (!bytes) throw InvalidState(std::string(name) + " is not hexadecimal");
  if (size && bytes->size() != *size) throw InvalidState(std::string(name) + " has a wrong size");
  return std::move(*bytes);
}

SecretBytes secret_field(const json& object, const char* name,
                         std::optional<std::size_t> size = {}) {
  Bytes bytes = hex_field(object, name, size);
  SecretBytes secret = SecretBytes::copy_of(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return secret;
}

SecretBytes key_field(const json& object, const char* name) {
  SecretBytes der = secret_field(object, name);
  if (!crypto::P256Key::from_private_der(der.bytes()))
    throw InvalidState(std::string(name) + " is not a P-256 private key");
  return der;
}

template <class T>
T integer_field(const json& object, const char* name, T min, T max) {
  const json& value = field(object, name);
  if (!value.is_number_integer()) throw InvalidState(std::string(name) + " is not an integer");
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(max) || (min > 0 && v < static_cast<std::uint64_t>(min)))
      throw InvalidState(std::string(name) + " is out of range");
    return static_cast<T>(v);
  }
  const auto v = value.get<std::int64_t>();
  if (v < static_cast<std::int64_t>(min) ||
      (v >= 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(max)))
    throw InvalidState(std::string(name) + " is out of range");
  return static_cast<T>(v);
}

bool bool_field(const json& object, const char* name) {
  const json& value = field(object, name);
  if (!value.is_boolean()) throw InvalidState(std::string(name) + " is not a boolean");
  return value.get<bool>();
}

std::optional<std::string> optional_text(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw InvalidState(std::string(name) + " is not a string");
  return it->get<std::string>();
}

UserEntity parse_user(const json& object) {
  if (!object.is_object()) throw InvalidState("user is not an object");
  return UserEntity{hex_field(object, "id"), optional_text(object, "name"),
                    optional_text(object, "display_name")};
}

StoredCredential parse_credential(const json& object) {
  if (!object.is_object()) throw InvalidState("a credential is not an object");
  StoredCredential c;
  c.id = hex_field(object, "id");
  if (c.id.empty()) throw InvalidState("a credential id is empty");
  c.rp_id_hash = hex_field(object, "rp_id_hash", 32);
  c.private_key = key_field(object, "private_key");
  c.cred_random_uv = secret_field(object, "cred_random_uv", 32);
  c.cred_random_no_uv = secret_field(object, "cred_random_no_uv", 32);
  c.cred_protect = integer_field<int>(object, "cred_protect", 1, 3);
  c.hmac_secret = bool_field(object, "hmac_secret");
  c.resident = bool_field(object, "resident");
  c.user = parse_user(field(object, "user"));
  c.created =
      integer_field<std::uint64_t>(object, "created", 0, std::numeric_limits<std::uint64_t>::max());
  return c;
}

State parse_state(const json& doc) {
  if (!doc.is_object()) throw InvalidState("not a JSON object");
  if (integer_field<int>(doc, "version", 0, std::numeric_limits<int>::max()) != kFormatVersion)
    throw InvalidState("unsupported format version");
  State state;
  state.aaguid = hex_field(doc, "aaguid", 16);
  state.attestation_key = key_field(doc, "attestation_key");
  state.attestation_certificate = hex_field(doc, "attestation_certificate");
  const json& pin_hash = field(doc, "pin_hash");
  if (!pin_hash.is_null()) state.pin_hash = hex_field(doc, "pin_hash", 16);
  state.pin_retries = integer_field<int>(doc, "pin_retries", 0, 255);
  state.sign_count =
      integer_field<std::uint32_t>(doc, "sign_count", 0, std::numeric_limits<std::uint32_t>::max());
  const json& credentials = field(doc, "credentials");
  if (!credentials.is_array()) throw InvalidState("credentials is not an array");
  for (const json& c : credentials) state.credentials.push_back(parse_credential(c));
  return state;
}

std::string hex(const SecretBytes& secret) {
  return to_hex(secret.bytes());
}

json user_json(const UserEntity& user) {
  json out = {{"id", to_hex(user.id)}};
  if (user.name) out["name"] = *user.name;
  if (user.display_name) out["display_name"] = *user.display_name;
  return out;
}

json credential_json(const StoredCredential& c) {
  return {{"id", to_hex(c.id)},
          {"rp_id_hash", to_hex(c.rp_id_hash)},
          {"private_key", hex(c.private_key)},
          {"cred_random_uv", hex(c.cred_random_uv)},
          {"cred_random_no_uv", hex(c.cred_random_no_uv)},
          {"cred_protect", c.cred_protect},
          {"hmac_secret", c.hmac_secret},
          {"resident", c.resident},
          {"user", user_json(c.user)},
          {"created", c.created}};
}

json state_json(const State& state) {
  json credentials = json::array();
  for (const auto& c : state.credentials) credentials.push_back(credential_json(c));
  return {{"version", kFormatVersion},
          {"aaguid", to_hex(state.aaguid)},
          {"attestation_key", hex(state.attestation_key)},
          {"attestation_certificate", to_hex(state.attestation_certificate)},
          {"pin_hash", state.pin_hash ? json(to_hex(*state.pin_hash)) : json(nullptr)},
          {"pin_retries", state.pin_retries},
          {"sign_count", state.sign_count},
          {"credentials", std::move(credentials)}};
}

Status read_file(const std::filesystem::path& path, std::string& out) {
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) {
    const Code code = errno == ENOENT ? Code::not_found : Code::io_error;
    return Status(code,
                  "cannot open the virtual token state " + path.string() + ": " + errno_text());
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(file.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      OPENSSL_cleanse(buffer, sizeof buffer);
      return Status(Code::io_error,
                    "cannot read the virtual token state " + path.string() + ": " + errno_text());
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  return Status::success();
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_directory(const std::filesystem::path& dir) {
  const UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return d.valid() && ::fsync(d.get()) == 0;
}

}  // namespace

Result<State> load_state(const std::filesystem::path& path) {
  FileText file;
  if (Status read = read_file(path, file.text); !read.ok()) return read.error();
  try {
    const json doc = json::parse(file.text);
    return parse_state(doc);
  } catch (const std::exception& e) {
    return Error(Code::invalid_argument,
                 "the virtual token state " + path.string() + " is not valid: " + e.what());
  }
}

Status save_state(const State& state, const std::filesystem::path& path) {
  FileText file{state_json(state).dump(2) + "\n"};
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  UniqueFd out(::mkstemp(temp.data()));  // mode 0600
  const auto fail = [&](const char* what) {
    const std::string reason = errno_text();
    if (out.valid()) ::unlink(temp.c_str());
    return Status(Code::io_error, std::string("cannot save the virtual token state ") +
                                      path.string() + " (" + what + "): " + reason);
  };
  if (!out.valid()) return fail("create a temporary file");
  if (::fchmod(out.get(), S_IRUSR | S_IWUSR) != 0) return fail("chmod");
  if (!write_all(out.get(), file.text)) return fail("write");
  if (::fsync(out.get()) != 0) return fail("fsync");
  if (::close(out.release()) != 0) {
    ::unlink(temp.c_str());
    return Status(Code::io_error, "cannot save the virtual token state " + path.string() +
                                      " (close): " + errno_text());
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = errno_text();
    ::unlink(temp.c_str());
    return Status(Code::io_error,
                  "cannot save the virtual token state " + path.string() + " (rename): " + reason);
  }
  if (!fsync_directory(dir))
    return Status(Code::io_error, "cannot save the virtual token state " + path.string() +
                                      " (fsync of the directory): " + errno_text());
  return Status::success();
}

}  // namespace touchpass::vtoken
