// The virtual token's CTAP2 command layer (Authenticator::handle_cbor), past the PIN protocol:
// before the fuzzed commands the harness does what a platform does — a real key agreement
// (clientPIN getKeyAgreement, ECDH with a fixed platform key, the protocol's KDF) — so that it
// can build clientPIN commands (setPIN, changePIN, getPinToken,
// getPinUvAuthToken...WithPermissions) whose PINs and hashes are encrypted and authenticated
// correctly from fuzz bytes, and makeCredential / getAssertion (with hmac-secret salts) carrying a
// valid pinUvAuthParam. The checks after the crypto are then reached with fuzzed contents.
//
// Every input starts from the same token (a pristine state file, with or without the PIN
// "123456"), so runs do not depend on each other. Input: one settings byte (bit 0: PIN protocol
// 2, else 1; bit 1: the user denies touches; bit 2: the token has no PIN yet), then commands,
// each a head byte — bits 0-3 the kind (see Kind), bit 4 corrupt the authentication, bit 5 leave
// it out, bit 6 use the right PIN (else PIN bytes from the input), bit 7 use the other PIN
// protocol than the settings say (the token offers both) — and its fields from the input. Nothing
// may crash or leak; every request gets a status byte; and the token must never accept a corrupted
// authentication or a wrong PIN.
#include <openssl/sha.h>
#include <unistd.h>

#include <cbor.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/cbor_writer.h"
#include "devices/virtual/authenticator.h"
#include "devices/virtual/pin_protocol.h"
#include "fixed_key.h"
#include "fuzz.h"

namespace {

using touchpass::Bytes;
using touchpass::CborWriter;
using touchpass::SecretBytes;
using touchpass::fuzzing::FixedP256Key;
namespace vtoken = touchpass::vtoken;

constexpr std::string_view kInitialPin = "123456";
constexpr std::size_t kMaxCommands = 6;
constexpr std::uint8_t kOk = 0x00;
constexpr std::uint8_t kCorrupt = 0x10;
constexpr std::uint8_t kOmit = 0x20;
constexpr std::uint8_t kRightPin = 0x40;
constexpr std::uint8_t kOtherProtocol = 0x80;

enum class Kind {
  raw,                         // u16 length, bytes: a command as it is
  set_pin,                     // new PIN
  change_pin,                  // new PIN [, current PIN]
  get_pin_token,               // [current PIN]
  get_token_with_permissions,  // permissions byte, RP id [, current PIN]
  make_credential,             // client data hash, RP id, user id, options, extensions
  get_assertion,               // RP id, client data hash, allow list, options, hmac-secret salts
  get_next_assertion,
  other,  // getInfo, getRetries, a new key agreement, or a power cycle
  count
};

void require(bool condition) {
  if (!condition) std::abort();
}

// The simulated user: touches the token when asked, or refuses to.
class User final : public vtoken::PresenceWaiter {
 public:
  explicit User(bool deny) : deny_(deny) {}
  vtoken::Presence wait_for_presence() override {
    return deny_ ? vtoken::Presence::denied : vtoken::Presence::approved;
  }

 private:
  bool deny_;
};

// Reads fields from the fuzz input; past its end every field is empty (zero-filled).
class Fields {
 public:
  explicit Fields(std::span<const std::uint8_t> in) : in_(in) {}
  bool empty() const { return in_.empty(); }
  std::uint8_t byte() {
    if (in_.empty()) return 0;
    const std::uint8_t b = in_[0];
    in_ = in_.subspan(1);
    return b;
  }
  // Exactly n bytes.
  Bytes fixed(std::size_t n) {
    Bytes out(n, 0);
    const std::size_t k = std::min(n, in_.size());
    std::copy_n(in_.begin(), k, out.begin());
    in_ = in_.subspan(k);
    return out;
  }
  // A length byte (at most `max`), then that many bytes.
  Bytes chunk(std::size_t max) { return fixed(std::min<std::size_t>(byte(), max)); }
  std::string text(std::size_t max) {
    const Bytes b = chunk(max);
    return std::string(b.begin(), b.end());
  }

 private:
  std::span<const std::uint8_t> in_;
};

std::filesystem::path work_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? "/dev/shm"
                                           : std::filesystem::temp_directory_path();
    std::string pattern = (base / "touchpass-fuzz-cbor-XXXXXX").string();
    require(::mkdtemp(pattern.data()) != nullptr);
    static const std::filesystem::path made = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(made, ignored);
    });
    return made;
  }();
  return dir;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The state file of a fresh token (made once per process), with or without the initial PIN.
const std::string& pristine_state(bool with_pin) {
  static const auto make = [](bool pin) {
    const auto path = work_dir() / (pin ? "pristine-pin.json" : "pristine.json");
    vtoken::Config config;
    if (pin) config.initial_pin = std::string(kInitialPin);
    require(vtoken::Authenticator::open(config, path).ok());
    return read_file(path);
  };
  static const std::string with = make(true);
  static const std::string without = make(false);
  return with_pin ? with : without;
}

// A token in the pristine state.
std::unique_ptr<vtoken::Authenticator> fresh_token(bool with_pin) {
  const auto path = work_dir() / "state.json";
  const std::string& state = pristine_state(with_pin);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(state.data(), static_cast<std::streamsize>(state.size()));
    require(static_cast<bool>(out));
  }
  auto token = vtoken::Authenticator::open({}, path);
  require(token.ok());
  return std::move(*token);
}

const FixedP256Key& platform_key() {
  static const FixedP256Key key("vtoken platform");
  return key;
}

// A COSE key that is not the one the shared secret was made with.
const FixedP256Key& stranger_key() {
  static const FixedP256Key key("vtoken stranger");
  return key;
}

struct CborDeleter {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborPtr = std::unique_ptr<cbor_item_t, CborDeleter>;

// The body of a successful reply as CBOR; nullptr otherwise.
CborPtr reply_body(const Bytes& reply) {
  if (reply.size() < 2 || reply[0] != kOk) return nullptr;
  cbor_load_result result{};
  CborPtr item(cbor_load(reply.data() + 1, reply.size() - 1, &result));
  if (result.error.code != CBOR_ERR_NONE || !item || !cbor_isa_map(item.get())) return nullptr;
  return item;
}

// The value of integer key `key` in `map`, or nullptr.
const cbor_item_t* member(const cbor_item_t* map, std::int64_t key) {
  const cbor_pair* pairs = cbor_map_handle(map);
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const cbor_item_t* k = pairs[i].key;
    if (!cbor_is_int(k)) continue;
    const auto v = static_cast<std::int64_t>(cbor_get_int(k));
    if ((cbor_isa_uint(k) && v == key) || (cbor_isa_negint(k) && -1 - v == key)) {
      return pairs[i].value;
    }
  }
  return nullptr;
}

std::optional<Bytes> bytes_member(const cbor_item_t* map, std::int64_t key) {
  const cbor_item_t* v = member(map, key);
  if (v == nullptr || !cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v)) {
    return std::nullopt;
  }
  return Bytes(cbor_bytestring_handle(v), cbor_bytestring_handle(v) + cbor_bytestring_length(v));
}

Bytes pin_hash(std::span<const std::uint8_t> pin) {
  Bytes digest(SHA256_DIGEST_LENGTH);
  SHA256(pin.data(), pin.size(), digest.data());
  digest.resize(16);
  return digest;
}

Bytes text_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// The platform: its key agreement with the token, the PIN it knows, the pinUvAuthToken it
// holds, the credentials the token made.
class Platform {
 public:
  Platform(vtoken::Authenticator& token, int protocol, bool deny, bool pin_set)
      : token_(token), presence_(deny), protocol_(protocol) {
    if (pin_set) pin_ = text_bytes(kInitialPin);
    agree();
  }

  Bytes send(std::span<const std::uint8_t> request) {
    Bytes reply = token_.handle_cbor(request, presence_);
    require(!reply.empty());  // every request gets at least a status byte
    return reply;
  }

  // clientPIN getKeyAgreement, then the shared secret with the platform key. False when the
  // token did not answer with a usable key (it must, while it has protocol_).
  bool agree() {
    CborWriter w;
    w.map(2).uint(1).uint(static_cast<std::uint64_t>(protocol_)).uint(2).uint(2);
    const CborPtr body = reply_body(send(command(0x06, w.data())));
    const cbor_item_t* key = body ? member(body.get(), 1) : nullptr;
    require(key != nullptr && cbor_isa_map(key));
    const auto x = bytes_member(key, -2);
    const auto y = bytes_member(key, -3);
    require(x && y);
    const auto z = platform_key().ecdh_x(*x, *y);
    require(z.has_value());
    const SecretBytes shared = SecretBytes::copy_of(*z);
    for (const int version : {1, 2})
      secrets_[static_cast<std::size_t>(version - 1)] = protocol(version).kdf(shared);
    token_value_.reset();
    return true;
  }

  void run(std::uint8_t head, Fields& in) {
    const auto kind = static_cast<Kind>((head & 0x0fU) % static_cast<unsigned>(Kind::count));
    const int version = (head & kOtherProtocol) != 0 ? 3 - protocol_ : protocol_;
    switch (kind) {
      case Kind::raw: {
        const std::size_t length = (std::size_t{in.byte()} << 8) | in.byte();
        (void)send(in.fixed(std::min<std::size_t>(length, 2048)));
        break;
      }
      case Kind::set_pin:
        set_or_change_pin(head, version, in, false);
        break;
      case Kind::change_pin:
        set_or_change_pin(head, version, in, true);
        break;
      case Kind::get_pin_token:
      case Kind::get_token_with_permissions:
        get_pin_token(head, version, in, kind == Kind::get_token_with_permissions);
        break;
      case Kind::make_credential:
        make_credential(head, version, in);
        break;
      case Kind::get_assertion:
        get_assertion(head, version, in);
        break;
      case Kind::get_next_assertion:
        (void)send(Bytes{0x08});
        break;
      case Kind::other:
        other(in.byte());
        break;
      case Kind::count:
        break;
    }
  }

 private:
  static const vtoken::PinProtocol& protocol(int version) {
    return *vtoken::find_pin_protocol(version);
  }

  static Bytes command(std::uint8_t cmd, std::span<const std::uint8_t> cbor) {
    Bytes out{cmd};
    out.insert(out.end(), cbor.begin(), cbor.end());
    return out;
  }

  // The platform's COSE key as a clientPIN or hmac-secret parameter: the one agreed with, or
  // (corrupt) another.
  static Bytes platform_cose(std::uint8_t head) {
    return ((head & kCorrupt) != 0 ? stranger_key() : platform_key()).cose_key(-25);
  }

  // The authentication of `message` under `key` with `version`, corrupted when asked.
  static Bytes authenticate(std::uint8_t head, int version, std::span<const std::uint8_t> key,
                            std::span<const std::uint8_t> message) {
    Bytes tag = protocol(version).authenticate(key, message);
    if ((head & kCorrupt) != 0 && !tag.empty()) tag[0] ^= 0x01;
    return tag;
  }

  // The PIN this command presents: the one the token has (bit 6), or bytes from the input.
  Bytes presented_pin(std::uint8_t head, Fields& in) const {
    if ((head & kRightPin) != 0 && pin_) return *pin_;
    return in.chunk(70);
  }

  // Precondition for the oracle: a PIN is known and `pin` is not it.
  bool wrong(const Bytes& pin) const { return pin_ && pin != *pin_; }

  // The shared secret as protocol `version` derives it.
  const SecretBytes& secret(int version) const {
    return secrets_[static_cast<std::size_t>(version - 1)];
  }

  Bytes encrypt(int version, std::span<const std::uint8_t> plaintext) const {
    // The protocols encrypt whole blocks only: pad with zeros.
    Bytes padded(plaintext.begin(), plaintext.end());
    padded.resize((padded.size() + 15) / 16 * 16);
    return protocol(version).encrypt(secret(version), padded);
  }

  void set_or_change_pin(std::uint8_t head, int version, Fields& in, bool change) {
    Bytes new_pin = in.chunk(80);
    Bytes padded = new_pin;
    if (padded.size() < 64) padded.resize(64);
    const Bytes new_pin_enc = encrypt(version, padded);
    Bytes current;
    Bytes pin_hash_enc;
    if (change) {
      current = presented_pin(head, in);
      pin_hash_enc = encrypt(version, pin_hash(current));
    }
    Bytes message = new_pin_enc;
    message.insert(message.end(), pin_hash_enc.begin(), pin_hash_enc.end());
    CborWriter w;
    const bool omit = (head & kOmit) != 0;
    w.map(4U + (omit ? 0U : 1U) + (change ? 1U : 0U));  // 1, 2, 3, [4,] 5[, 6]
    w.uint(1).uint(static_cast<std::uint64_t>(version)).uint(2).uint(change ? 4 : 3);
    w.uint(3).raw(platform_cose(head));
    if (!omit) w.uint(4).bytes(authenticate(head, version, secret(version).bytes(), message));
    w.uint(5).bytes(new_pin_enc);
    if (change) w.uint(6).bytes(pin_hash_enc);
    const Bytes reply = send(command(0x06, w.data()));
    const bool accepted = reply[0] == kOk;
    if ((head & (kCorrupt | kOmit)) != 0) require(!accepted);
    if (change && wrong(current)) require(!accepted);
    if (accepted) {
      const auto end = std::find(new_pin.begin(), new_pin.end(), std::uint8_t{0});
      pin_ = Bytes(new_pin.begin(), end);
      token_value_.reset();
    }
    after_pin_attempt(reply);
  }

  void get_pin_token(std::uint8_t head, int version, Fields& in, bool with_permissions) {
    std::uint8_t permissions = 0;
    std::string rp_id;
    if (with_permissions) {
      permissions = in.byte();
      rp_id = in.text(64);
    }
    const Bytes current = presented_pin(head, in);
    CborWriter w;
    w.map(with_permissions ? 6 : 4);
    w.uint(1).uint(static_cast<std::uint64_t>(version));
    w.uint(2).uint(with_permissions ? 9 : 5);
    w.uint(3).raw(platform_cose(head));
    w.uint(6).bytes(encrypt(version, pin_hash(current)));
    if (with_permissions) w.uint(9).uint(permissions).uint(10).text(rp_id);
    const Bytes reply = send(command(0x06, w.data()));
    const bool accepted = reply[0] == kOk;
    if ((head & kCorrupt) != 0 || wrong(current)) require(!accepted);
    if (accepted) {
      const CborPtr body = reply_body(reply);
      const auto encrypted = body ? bytes_member(body.get(), 2) : std::nullopt;
      require(encrypted.has_value());
      auto value = protocol(version).decrypt(secret(version), *encrypted);
      require(value.has_value());
      token_value_ = std::move(*value);
    }
    after_pin_attempt(reply);
  }

  // A wrong PIN makes the token change its key agreement key: agree again, as a platform does.
  void after_pin_attempt(const Bytes& reply) {
    constexpr std::uint8_t kPinInvalid = 0x31;
    constexpr std::uint8_t kPinBlocked = 0x32;
    constexpr std::uint8_t kPinAuthBlocked = 0x34;
    if (reply[0] == kPinInvalid || reply[0] == kPinBlocked || reply[0] == kPinAuthBlocked) {
      (void)agree();
    }
  }

  // A pinUvAuthToken for makeCredential and getAssertion, got with the right PIN when none is
  // held; nullopt when the token has no PIN (or refuses).
  const SecretBytes* pin_uv_auth_token() {
    if (token_value_) return &*token_value_;
    if (!pin_) return nullptr;
    CborWriter w;
    w.map(4).uint(1).uint(static_cast<std::uint64_t>(protocol_)).uint(2).uint(5);
    w.uint(3).raw(platform_key().cose_key(-25)).uint(6).bytes(encrypt(protocol_, pin_hash(*pin_)));
    const CborPtr body = reply_body(send(command(0x06, w.data())));
    const auto encrypted = body ? bytes_member(body.get(), 2) : std::nullopt;
    if (!encrypted) return nullptr;
    auto value = protocol(protocol_).decrypt(secret(protocol_), *encrypted);
    if (!value) return nullptr;
    token_value_ = std::move(*value);
    return &*token_value_;
  }

  // Writes the pinUvAuthParam and protocol of a request as map entries `param_key` and the next
  // one; returns how many entries were written (0 or 2) and whether they were corrupted.
  std::pair<std::size_t, bool> auth_entries(std::uint8_t head, int version,
                                            std::span<const std::uint8_t> client_data_hash,
                                            std::vector<std::pair<std::uint64_t, Bytes>>& map,
                                            std::uint64_t param_key) {
    if ((head & kOmit) != 0) return {0, false};
    const SecretBytes* token = pin_uv_auth_token();
    if (token == nullptr) return {0, false};
    CborWriter param;
    param.bytes(authenticate(head, version, token->bytes(), client_data_hash));
    CborWriter number;
    number.uint(static_cast<std::uint64_t>(version));
    map.emplace_back(param_key, param.take());
    map.emplace_back(param_key + 1, number.take());
    return {2, (head & kCorrupt) != 0};
  }

  static Bytes encode_map(const std::vector<std::pair<std::uint64_t, Bytes>>& entries) {
    CborWriter w;
    w.map(entries.size());
    for (const auto& [key, value] : entries) w.uint(key).raw(value);
    return w.take();
  }

  static Bytes options(std::uint8_t bits) {
    // bits 0/1: "rk" present/value, 2/3: "up", 4/5: "uv" (keys in canonical order).
    CborWriter w;
    const bool rk = (bits & 1) != 0;
    const bool up = (bits & 4) != 0;
    const bool uv = (bits & 16) != 0;
    w.map((rk ? 1U : 0U) + (up ? 1U : 0U) + (uv ? 1U : 0U));
    if (rk) w.text("rk").boolean((bits & 2) != 0);
    if (up) w.text("up").boolean((bits & 8) != 0);
    if (uv) w.text("uv").boolean((bits & 32) != 0);
    return w.take();
  }

  void make_credential(std::uint8_t head, int version, Fields& in) {
    const Bytes client_data_hash = in.fixed(32);
    const std::string rp_id = in.text(64);
    const Bytes user_id = in.chunk(64);
    const std::uint8_t option_bits = in.byte();
    const std::uint8_t extension_bits = in.byte();
    std::vector<std::pair<std::uint64_t, Bytes>> map;
    CborWriter cdh, rp, user, params;
    cdh.bytes(client_data_hash);
    rp.map(1).text("id").text(rp_id);
    user.map(2).text("id").bytes(user_id).text("name").text("alice");
    params.array(1).map(2).text("alg").nint((extension_bits & 0x80) != 0 ? -8 : -7);
    params.text("type").text("public-key");
    map.emplace_back(1, cdh.take());
    map.emplace_back(2, rp.take());
    map.emplace_back(3, user.take());
    map.emplace_back(4, params.take());
    if ((extension_bits & 0x40) != 0 && !credentials_.empty()) {
      CborWriter exclude;
      exclude.array(1).map(2).text("id").bytes(credentials_.back()).text("type").text("public-key");
      map.emplace_back(5, exclude.take());
    }
    const bool hmac = (extension_bits & 1) != 0;
    const std::uint64_t protect = (extension_bits >> 1) & 3U;
    if (hmac || protect != 0) {
      CborWriter ext;
      ext.map((hmac ? 1U : 0U) + (protect != 0 ? 1U : 0U));
      if (protect != 0) ext.text("credProtect").uint(protect);
      if (hmac) ext.text("hmac-secret").boolean(true);
      map.emplace_back(6, ext.take());
    }
    if ((option_bits & 0x40) != 0) map.emplace_back(7, options(option_bits));
    const auto [entries, corrupted] = auth_entries(head, version, client_data_hash, map, 8);
    const Bytes reply = send(command(0x01, encode_map(map)));
    if (corrupted) require(reply[0] != kOk);
    if (const CborPtr body = reply_body(reply)) {
      const auto auth_data = bytes_member(body.get(), 2);
      require(auth_data && auth_data->size() >= 55);
      const std::size_t length = (std::size_t{(*auth_data)[53]} << 8) | (*auth_data)[54];
      require(auth_data->size() >= 55 + length);
      credentials_.emplace_back(auth_data->begin() + 55,
                                auth_data->begin() + 55 + static_cast<long>(length));
    }
    (void)entries;
  }

  void get_assertion(std::uint8_t head, int version, Fields& in) {
    const std::string rp_id = in.text(64);
    const Bytes client_data_hash = in.fixed(32);
    const std::uint8_t allow = in.byte();
    const std::uint8_t option_bits = in.byte();
    const std::uint8_t salt_bits = in.byte();
    std::vector<std::pair<std::uint64_t, Bytes>> map;
    CborWriter rp, cdh;
    rp.text(rp_id);
    cdh.bytes(client_data_hash);
    map.emplace_back(1, rp.take());
    map.emplace_back(2, cdh.take());
    if ((allow & 3U) != 0) {
      // The newest credentials the token made, or (none made yet) an id from the input.
      std::vector<Bytes> ids(credentials_.end() - static_cast<long>(std::min<std::size_t>(
                                                      allow & 3U, credentials_.size())),
                             credentials_.end());
      if (ids.empty()) ids.push_back(in.chunk(64));
      CborWriter list;
      list.array(ids.size());
      for (const Bytes& id : ids) list.map(2).text("id").bytes(id).text("type").text("public-key");
      map.emplace_back(3, list.take());
    }
    if ((salt_bits & 1) != 0) {
      const Bytes salts = in.fixed((salt_bits & 2) != 0 ? 64 : 32);
      const Bytes salt_enc = encrypt(version, salts);
      CborWriter hmac;
      hmac.map(1).text("hmac-secret").map(4);
      hmac.uint(1).raw(platform_cose(head)).uint(2).bytes(salt_enc);
      hmac.uint(3).bytes(authenticate(head, version, secret(version).bytes(), salt_enc));
      hmac.uint(4).uint(static_cast<std::uint64_t>(version));
      map.emplace_back(4, hmac.take());
    }
    if ((option_bits & 0x40) != 0) map.emplace_back(5, options(option_bits));
    const auto [entries, corrupted] = auth_entries(head, version, client_data_hash, map, 6);
    const Bytes reply = send(command(0x02, encode_map(map)));
    if (corrupted && entries != 0) require(reply[0] != kOk);
  }

  void other(std::uint8_t which) {
    switch (which % 4U) {
      case 0:
        (void)send(Bytes{0x04});  // getInfo
        break;
      case 1: {
        CborWriter w;
        w.map(2).uint(1).uint(1).uint(2).uint(1);  // getRetries
        (void)send(command(0x06, w.data()));
        break;
      }
      case 2:
        (void)agree();
        break;
      default:
        token_.power_cycle();
        (void)agree();
        break;
    }
  }

  vtoken::Authenticator& token_;
  User presence_;
  int protocol_;
  std::array<SecretBytes, 2> secrets_;      // the shared secret of protocols 1 and 2
  std::optional<Bytes> pin_;                // the PIN the token has, as far as we know
  std::optional<SecretBytes> token_value_;  // the pinUvAuthToken we hold
  std::vector<Bytes> credentials_;          // ids of the credentials the token made
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t settings = data[0];
  const bool pin_set = (settings & 4) == 0;
  auto token = fresh_token(pin_set);
  Platform platform(*token, (settings & 1) != 0 ? 2 : 1, (settings & 2) != 0, pin_set);
  Fields in({data + 1, size - 1});
  for (std::size_t i = 0; i < kMaxCommands && !in.empty(); ++i) {
    const std::uint8_t head = in.byte();
    platform.run(head, in);
  }
  return 0;
}

namespace {

// Builds an input: the settings byte, then commands.
class InputWriter {
 public:
  explicit InputWriter(std::uint8_t settings) : out_(1, static_cast<char>(settings)) {}
  InputWriter& head(Kind kind, std::uint8_t flags = 0) {
    return byte(static_cast<std::uint8_t>(static_cast<unsigned>(kind) | flags));
  }
  InputWriter& byte(std::uint8_t b) {
    out_.push_back(static_cast<char>(b));
    return *this;
  }
  InputWriter& chunk(std::string_view bytes) {
    byte(static_cast<std::uint8_t>(bytes.size()));
    out_.append(bytes);
    return *this;
  }
  InputWriter& fixed(std::size_t n, char value) {
    out_.append(n, value);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::vector<std::string> fuzz_seeds() {
  using W = InputWriter;
  constexpr std::uint8_t kProtocol2 = 1;
  constexpr std::uint8_t kNoPin = 4;
  // makeCredential for "localhost" with hmac-secret and credProtect 2, then getAssertion with
  // one salt for the credential just made.
  const auto enroll_and_assert = [](W w) {
    w.head(Kind::make_credential).fixed(32, 'c').chunk("localhost").chunk("user-1");
    w.byte(0x41).byte(0x05);  // options {rk: false}; hmac-secret, credProtect 2
    w.head(Kind::get_assertion).chunk("localhost").fixed(32, 'd').byte(1).byte(0x4c).byte(1);
    w.fixed(32, 's');
    return w.take();
  };
  CborWriter info_raw;
  info_raw.map(2).uint(1).uint(2).uint(2).uint(1);
  const std::string raw_retries(info_raw.data().begin(), info_raw.data().end());
  std::vector<std::string> seeds = {
      enroll_and_assert(W(0)),
      enroll_and_assert(W(kProtocol2)),
      enroll_and_assert(W(kNoPin)),
      W(0).head(Kind::set_pin).chunk("654321").take(),
      W(kNoPin).head(Kind::set_pin).chunk("654321").head(Kind::get_pin_token, kRightPin).take(),
      W(kNoPin | kProtocol2).head(Kind::set_pin).chunk("a longer PIN").take(),
      W(0).head(Kind::change_pin, kRightPin)
          .chunk("987654")
          .head(Kind::get_pin_token)
          .chunk("987654")
          .take(),
      W(kProtocol2).head(Kind::change_pin).chunk("987654").chunk("000000").take(),
      W(0).head(Kind::get_pin_token)
          .chunk("111111")
          .head(Kind::get_pin_token)
          .chunk("222222")
          .head(Kind::get_pin_token)
          .chunk("333333")
          .head(Kind::get_pin_token, kRightPin)
          .take(),
      W(kProtocol2)
          .head(Kind::get_token_with_permissions, kRightPin)
          .byte(3)
          .chunk("localhost")
          .take(),
      W(0).head(Kind::get_token_with_permissions, kRightPin)
          .byte(1)
          .chunk("example.org")
          .head(Kind::make_credential)
          .fixed(32, 'c')
          .chunk("localhost")
          .chunk("u")
          .byte(0)
          .byte(0)
          .take(),
      W(0).head(Kind::make_credential, kCorrupt)
          .fixed(32, 'c')
          .chunk("localhost")
          .chunk("u")
          .byte(0x43)
          .byte(0x07)
          .take(),
      W(kProtocol2)
          .head(Kind::make_credential)
          .fixed(32, 'c')
          .chunk("localhost")
          .chunk("u")
          .byte(0x43)
          .byte(0x01)
          .head(Kind::make_credential)
          .fixed(32, 'e')
          .chunk("localhost")
          .chunk("v")
          .byte(0x43)
          .byte(0x01)
          .head(Kind::get_assertion)
          .chunk("localhost")
          .fixed(32, 'd')
          .byte(0)
          .byte(0)
          .byte(3)
          .fixed(64, 's')
          .head(Kind::get_next_assertion)
          .take(),
      W(0).head(Kind::other)
              .byte(3)
              .head(Kind::other)
              .byte(0)
              .head(Kind::raw)
              .byte(0)
              .byte(static_cast<std::uint8_t>(raw_retries.size() + 1))
              .byte(0x06)
              .take() +
          raw_retries,
  };
  return seeds;
}

// The settings byte and kMaxCommands commands, each at most a largest CBOR request (the virtual
// token's CTAPHID layer accepts 2048 bytes) with its head.
std::size_t fuzz_max_len() {
  return 1 + kMaxCommands * (1 + 2048 + 2);
}
