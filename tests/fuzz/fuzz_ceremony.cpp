// The daemon's side of a ceremony: what a client sends to finish one, parsed (ipc::Request with
// op finish, ipc::Finish) and checked as touchpassd checks it — the grant assertion of issue and
// show (verify_grant_assertion, v1 and v2) and the attestation of enroll (verify_attestation) —
// and the offers touchpassd sends (CeremonyOffer, EnrollOffer), parsed as clients parse them.
//
// Input: one flags byte, then either the JSON of a finish request (or of an offer reply) or the
// finish's parts in binary, each a 2-byte big-endian length and its bytes: authenticator data,
// client data JSON, signature, attestation certificate, attestation format.
//   flags bits 0-1: 0 grant v1, 1 grant v2, 2 enroll, 3 offers
//         bit 2: the harness signs the message with the credential's (or the attestation
//                certificate's) fixed key, replacing the signature, so that every check after
//                the signature runs on the fuzzed data
//         bit 3: the credential was enrolled with user verification
//         bit 4: the stored signature counter is 7 (else 0)
//         bit 5: the rest is JSON text; else binary parts
// Nothing may crash, and whatever is accepted must be bound to this relying party, challenge
// and key: that is checked here again, independently of the code under test.
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/assertion.h"
#include "core/attestation.h"
#include "core/bytes.h"
#include "core/cbor_writer.h"
#include "core/grant.h"
#include "fixed_key.h"
#include "fuzz.h"
#include "ipc/ceremony.h"
#include "ipc/frame.h"
#include "ipc/messages.h"

namespace {

using touchpass::Bytes;
using touchpass::fuzzing::FixedP256Key;
namespace ipc = touchpass::ipc;

constexpr std::string_view kRpId = "touchpass";  // touchpassd's default rp_id, also its origin
constexpr std::uint8_t kFlagUp = 0x01;
constexpr std::uint8_t kFlagUv = 0x04;
constexpr std::uint8_t kFlagAt = 0x40;
constexpr std::uint8_t kFlagEd = 0x80;
constexpr std::uint32_t kStoredCount = 7;

enum class Check { grant_v1, grant_v2, enroll, offers };

struct Flags {
  Check check = Check::grant_v1;
  bool sign = false;
  bool user_verification = false;
  std::uint32_t sign_count = 0;
  bool json = false;

  static Flags from(std::uint8_t b) {
    return {static_cast<Check>(b & 3), (b & 4) != 0, (b & 8) != 0, (b & 16) != 0 ? kStoredCount : 0,
            (b & 32) != 0};
  }
  std::uint8_t byte() const {
    return static_cast<std::uint8_t>(static_cast<int>(check) | (sign ? 4 : 0) |
                                     (user_verification ? 8 : 0) | (sign_count != 0 ? 16 : 0) |
                                     (json ? 32 : 0));
  }
};

const FixedP256Key& credential_key() {
  static const FixedP256Key key("ceremony credential");
  return key;
}

const FixedP256Key& attestation_key() {
  static const FixedP256Key key("ceremony attestation");
  return key;
}

// A self-signed certificate of attestation_key() (its own signature is never checked, only the
// key it holds). Made once with: openssl req -x509 -new -key KEY.pem -subj "/CN=touchpass fuzz
// attestation" -days 36500 -sha256 -outform DER, where KEY.pem is attestation_key().private_der().
const Bytes& attestation_certificate() {
  static const Bytes der = *touchpass::from_hex(
      "308201a230820147a003020102021453ce300cb72d1fd0236d316cdd789dea71345339300a06082a8648ce3d"
      "04030230253123302106035504030c1a746f756368706173732066757a7a206174746573746174696f6e3020"
      "170d3236313230323133333630365a180f32313236313130383133333630365a30253123302106035504030c"
      "1a746f756368706173732066757a7a206174746573746174696f6e3059301306072a8648ce3d020106082a86"
      "48ce3d03010703420004f408d9e265f1bc5cbe695d7822bdd2422e66005b1ff9ac8517a5ce53555ca881ac15"
      "241173b1e9c1e566c9b8450b5b2972e8efeb0ff6794da912647b18d7280aa3533051301d0603551d0e041604"
      "1427a27c7db8470c0e5b5087c193fa86fdd86022a8301f0603551d2304183016801427a27c7db8470c0e5b50"
      "87c193fa86fdd86022a8300f0603551d130101ff040530030101ff300a06082a8648ce3d0403020349003046"
      "022100e1da601f1fd8e4957d37b79c62169fa603a5a546735eadf4106399f5e173f123022100a0eea118eb77"
      "cec35fb4c93f114a106c649845380b49fd717dc35facb670a347");
  return der;
}

Bytes sha256(std::span<const std::uint8_t> data) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Bytes text_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// The ceremony's challenge: what touchpassd issued (and the offer carried).
const Bytes& challenge() {
  static const Bytes c = sha256(text_bytes("touchpass fuzz ceremony challenge"));
  return c;
}

Bytes concat(std::initializer_list<std::span<const std::uint8_t>> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// --- The oracle: what any accepted answer must satisfy, read without the code under test.

void require(bool condition) {
  if (!condition) std::abort();
}

// The fixed part of accepted authenticator data: this relying party, a touch, UV when needed.
void require_bound(std::span<const std::uint8_t> auth_data, bool user_verification) {
  require(auth_data.size() >= 37);
  const Bytes rp_hash = sha256(text_bytes(kRpId));
  require(std::equal(rp_hash.begin(), rp_hash.end(), auth_data.begin()));
  require((auth_data[32] & kFlagUp) != 0);
  require(!user_verification || (auth_data[32] & kFlagUv) != 0);
}

// Accepted client data: the type, this ceremony's challenge, our origin, not cross-origin.
void require_client_data(std::string_view json, std::string_view type) {
  const auto parsed = ipc::Json::parse(json, nullptr, false);
  require(parsed.is_object());
  require(parsed.value("type", "") == type);
  require(parsed.value("challenge", "") == touchpass::to_base64url(challenge()));
  require(parsed.value("origin", "") == kRpId);
  require(!parsed.contains("crossOrigin") || parsed["crossOrigin"] == false);
}

std::uint32_t counter_of(std::span<const std::uint8_t> auth_data) {
  return (std::uint32_t{auth_data[33]} << 24) | (std::uint32_t{auth_data[34]} << 16) |
         (std::uint32_t{auth_data[35]} << 8) | std::uint32_t{auth_data[36]};
}

// --- The checks touchpassd makes.

void check_grant(const Flags& flags, ipc::Finish& finish) {
  const std::uint64_t version = flags.check == Check::grant_v1 ? touchpass::kGrantVersionV1 : 2;
  if (flags.sign) {
    const Bytes signed_hash = version == touchpass::kGrantVersionV1
                                  ? challenge()
                                  : sha256(text_bytes(finish.client_data_json));
    finish.signature = credential_key().sign(concat({finish.authenticator_data, signed_hash}));
  }
  const Bytes public_key = credential_key().raw();
  const touchpass::EnrolledCredential credential{public_key, kRpId, flags.user_verification,
                                                 flags.sign_count};
  const std::string origins[] = {std::string(kRpId)};
  const touchpass::SignedAssertion assertion{finish.authenticator_data, finish.client_data_json,
                                             finish.signature};
  auto data =
      touchpass::verify_grant_assertion(version, assertion, credential, challenge(), origins);
  if (!data.ok()) return;
  require_bound(finish.authenticator_data, flags.user_verification);
  const std::uint32_t seen = counter_of(finish.authenticator_data);
  require(data->sign_count == seen);
  require((seen == 0 && flags.sign_count == 0) || seen > flags.sign_count);
  if (version == touchpass::kGrantVersionV1) {
    require(finish.client_data_json.empty());
  } else {
    require_client_data(finish.client_data_json, touchpass::kClientDataGet);
  }
}

// Independent reading of attested credential data, enough to sign a fido-u2f statement: the
// credential id, or nothing when the data is too short for it.
std::optional<Bytes> credential_id_of(std::span<const std::uint8_t> auth_data) {
  if (auth_data.size() < 55) return std::nullopt;
  const std::size_t length = (std::size_t{auth_data[53]} << 8) | auth_data[54];
  if (auth_data.size() < 55 + length) return std::nullopt;
  return Bytes(auth_data.begin() + 55, auth_data.begin() + 55 + static_cast<long>(length));
}

void check_enroll(const Flags& flags, ipc::Finish& finish) {
  const Bytes client_hash = sha256(text_bytes(finish.client_data_json));
  if (flags.sign) {
    const Bytes message = concat({finish.authenticator_data, client_hash});
    if (finish.attestation_format == "fido-u2f") {
      if (const auto id = credential_id_of(finish.authenticator_data)) {
        const std::uint8_t zero = 0x00;
        const std::uint8_t uncompressed = 0x04;
        const auto rp_hash = std::span(finish.authenticator_data).first(32);
        finish.signature = attestation_key().sign(
            concat({std::span(&zero, 1), rp_hash, client_hash, *id, std::span(&uncompressed, 1),
                    credential_key().x(), credential_key().y()}));
      }
    } else if (finish.attestation_certificate.empty()) {
      finish.signature = credential_key().sign(message);
    } else {
      finish.signature = attestation_key().sign(message);
    }
  }
  const std::string origins[] = {std::string(kRpId)};
  const touchpass::AttestationStatement statement{
      finish.attestation_format, finish.authenticator_data, finish.signature,
      finish.attestation_certificate, finish.client_data_json};
  const touchpass::AttestationExpectation expected{
      kRpId, {touchpass::kClientDataCreate, challenge(), origins}, flags.user_verification};
  auto attested = touchpass::verify_attestation(statement, expected);
  if (!attested.ok()) return;
  require_bound(finish.authenticator_data, flags.user_verification);
  require((finish.authenticator_data[32] & kFlagAt) != 0);
  require(attested->credential_id == credential_id_of(finish.authenticator_data));
  require_client_data(finish.client_data_json, touchpass::kClientDataCreate);
  const std::string& format = attested->format;
  require(format == "none" || format == "packed" || format == "fido-u2f");
  require(format != "none" || (finish.signature.empty() && finish.attestation_certificate.empty()));
}

// Offers as a client reads them: the daemon's reply, then the offer in its result. An offer that
// parses must survive its own serialization unchanged.
void check_offers(std::string_view text) {
  auto reply = ipc::Reply::parse(text);
  if (!reply.ok() || reply->kind != ipc::Reply::Kind::ok) return;
  if (auto offer = ipc::CeremonyOffer::parse(reply->body); offer.ok()) {
    const ipc::Json again = offer->to_json();
    auto reparsed = ipc::CeremonyOffer::parse(again);
    require(reparsed.ok() && reparsed->to_json() == again);
  }
  if (auto offer = ipc::EnrollOffer::parse(reply->body); offer.ok()) {
    const ipc::Json again = offer->to_json();
    auto reparsed = ipc::EnrollOffer::parse(again);
    require(reparsed.ok() && reparsed->to_json() == again);
  }
}

// The finish parts from the binary form.
ipc::Finish binary_finish(std::span<const std::uint8_t> in) {
  const auto next = [&in]() {
    if (in.size() < 2) {
      in = {};
      return Bytes{};
    }
    const std::size_t length =
        std::min<std::size_t>((std::size_t{in[0]} << 8) | in[1], in.size() - 2);
    Bytes part(in.begin() + 2, in.begin() + 2 + static_cast<long>(length));
    in = in.subspan(2 + length);
    return part;
  };
  ipc::Finish f;
  f.authenticator_data = next();
  const Bytes client_data = next();
  f.client_data_json.assign(client_data.begin(), client_data.end());
  f.signature = next();
  f.attestation_certificate = next();
  const Bytes format = next();
  f.attestation_format.assign(format.begin(), format.end());
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Flags flags = Flags::from(data[0]);
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  if (flags.check == Check::offers) {
    check_offers(text);
    return 0;
  }
  ipc::Finish finish;
  if (flags.json) {
    auto request = ipc::Request::parse(text);
    if (!request.ok() || request->op != ipc::Op::finish) return 0;
    finish = std::move(request->finish);
  } else {
    finish = binary_finish(rest);
  }
  if (flags.check == Check::enroll) {
    check_enroll(flags, finish);
  } else {
    check_grant(flags, finish);
  }
  return 0;
}

namespace {

Bytes auth_data(std::uint8_t flags, std::uint32_t count, std::span<const std::uint8_t> attested,
                std::span<const std::uint8_t> extensions) {
  Bytes out = sha256(text_bytes(kRpId));
  out.push_back(flags);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(count >> shift));
  out.insert(out.end(), attested.begin(), attested.end());
  out.insert(out.end(), extensions.begin(), extensions.end());
  return out;
}

std::string client_data(std::string_view type) {
  return R"({"type":")" + std::string(type) + R"(","challenge":")" +
         touchpass::to_base64url(challenge()) + R"(","origin":")" + std::string(kRpId) +
         R"(","crossOrigin":false})";
}

std::string binary(const Flags& flags, const ipc::Finish& f) {
  std::string out(1, static_cast<char>(flags.byte()));
  const auto put = [&out](std::span<const std::uint8_t> part) {
    out.push_back(static_cast<char>(part.size() >> 8));
    out.push_back(static_cast<char>(part.size()));
    out.append(part.begin(), part.end());
  };
  put(f.authenticator_data);
  put(text_bytes(f.client_data_json));
  put(f.signature);
  put(f.attestation_certificate);
  put(text_bytes(f.attestation_format));
  return out;
}

std::string json(Flags flags, const ipc::Finish& f) {
  flags.json = true;
  ipc::Request request;
  request.op = ipc::Op::finish;
  request.finish = f;
  return std::string(1, static_cast<char>(flags.byte())) + request.to_json();
}

}  // namespace

std::vector<std::string> fuzz_seeds() {
  std::vector<std::string> seeds;
  const auto add = [&seeds](const Flags& flags, const ipc::Finish& f) {
    seeds.push_back(binary(flags, f));
    seeds.push_back(json(flags, f));
    Flags signing = flags;
    signing.sign = true;
    seeds.push_back(binary(signing, f));
  };
  ipc::Finish base;
  base.ceremony = Bytes(ipc::kCeremonyIdBytes, 0xce);
  base.credential = Bytes(16, 0xc1);

  // Grants: v1 signs the challenge itself, v2 the hash of a webauthn.get client data.
  for (const bool uv : {false, true}) {
    ipc::Finish v1 = base;
    v1.authenticator_data = auth_data(kFlagUp | (uv ? kFlagUv : 0), 8, {}, {});
    v1.signature = credential_key().sign(concat({v1.authenticator_data, challenge()}));
    add({Check::grant_v1, false, uv, kStoredCount, false}, v1);
    ipc::Finish v2 = base;
    v2.authenticator_data = v1.authenticator_data;
    v2.client_data_json = client_data(touchpass::kClientDataGet);
    v2.signature = credential_key().sign(
        concat({v2.authenticator_data, sha256(text_bytes(v2.client_data_json))}));
    add({Check::grant_v2, false, uv, kStoredCount, false}, v2);
  }

  // Enroll: a new credential with hmac-secret, in every format touchpassd verifies.
  Bytes attested(16, 0xaa);  // AAGUID
  attested.push_back(0);
  attested.push_back(16);
  attested.insert(attested.end(), base.credential.begin(), base.credential.end());
  const Bytes cose = credential_key().cose_key();
  attested.insert(attested.end(), cose.begin(), cose.end());
  touchpass::CborWriter extensions;
  extensions.map(1).text("hmac-secret").boolean(true);
  ipc::Finish enroll = base;
  enroll.authenticator_data =
      auth_data(kFlagUp | kFlagUv | kFlagAt | kFlagEd, 0, attested, extensions.data());
  enroll.client_data_json = client_data(touchpass::kClientDataCreate);
  const Bytes client_hash = sha256(text_bytes(enroll.client_data_json));
  const Bytes message = concat({enroll.authenticator_data, client_hash});
  const Flags enrolling{Check::enroll, false, true, 0, false};

  ipc::Finish none = enroll;
  none.attestation_format = "none";
  add(enrolling, none);
  ipc::Finish self = enroll;
  self.attestation_format = "packed";
  self.signature = credential_key().sign(message);
  add(enrolling, self);
  ipc::Finish packed = self;
  packed.attestation_certificate = attestation_certificate();
  packed.signature = attestation_key().sign(message);
  add(enrolling, packed);
  ipc::Finish u2f = packed;
  u2f.attestation_format = "fido-u2f";
  const std::uint8_t zero = 0x00;
  const std::uint8_t uncompressed = 0x04;
  u2f.signature = attestation_key().sign(concat(
      {std::span(&zero, 1), std::span(enroll.authenticator_data).first(32), client_hash,
       base.credential, std::span(&uncompressed, 1), credential_key().x(), credential_key().y()}));
  add(enrolling, u2f);

  // Offers, as touchpassd sends them.
  const std::string offers(1, static_cast<char>(Flags{Check::offers}.byte()));
  ipc::CeremonyOffer offer;
  offer.ceremony = base.ceremony;
  offer.expires_in = 180;
  offer.origin = kRpId;
  offer.salt = Bytes(32, 0x5a);
  ipc::OfferedCredential fido2;
  fido2.token = "blue key";
  fido2.credential = base.credential;
  fido2.rp_id = kRpId;
  fido2.user_verification = true;
  fido2.public_key = credential_key().raw();
  fido2.sign_count = 7;
  fido2.challenge = challenge();
  ipc::OfferedCredential v1 = fido2;
  v1.challenge.clear();
  v1.client_data_hash = challenge();
  ipc::OfferedCredential yubikey;
  yubikey.kind = touchpass::TokenKind::yubikey;
  yubikey.token = "YubiKey 12345678 slot 2";
  yubikey.credential = {0x00, 0xbc, 0x61, 0x4e, 0x02};
  yubikey.rolling_challenge = Bytes(64, 0x11);
  yubikey.next_challenge = Bytes(64, 0x22);
  offer.yubikey_challenge = Bytes(64, 0x33);
  offer.credentials = {fido2, v1, yubikey};
  seeds.push_back(offers + ipc::ok_message(offer.to_json()));
  ipc::EnrollOffer enroll_offer;
  enroll_offer.ceremony = base.ceremony;
  enroll_offer.expires_in = 180;
  enroll_offer.rp_id = kRpId;
  enroll_offer.rp_name = "touchpass";
  enroll_offer.user_id = Bytes(16, 0x75);
  enroll_offer.user_name = "alice";
  enroll_offer.origin = kRpId;
  enroll_offer.challenge = challenge();
  seeds.push_back(offers + ipc::ok_message(enroll_offer.to_json()));
  enroll_offer.kind = touchpass::TokenKind::yubikey;
  enroll_offer.program = true;
  enroll_offer.rolling_challenge = Bytes(64, 0x44);
  seeds.push_back(offers + ipc::ok_message(enroll_offer.to_json()));
  // Found by this target: an offer without "expires_in" used to parse, and its to_json() did not.
  ipc::Json no_expiry = enroll_offer.to_json();
  no_expiry.erase("expires_in");
  seeds.push_back(offers + ipc::ok_message(no_expiry));
  return seeds;
}

// A finish arrives in one frame: the flags byte and the JSON part (the binary form is smaller).
std::size_t fuzz_max_len() {
  return 1 + ipc::kMaxJsonSize;
}
