// CBOR-level tests of the virtual token's CTAP2 authenticator, without transport: getInfo and
// its switches, strict and crash-free parsing of hostile input, clientPIN retries and blocks,
// persistence of the state file, presence answers and fault injection. The full PIN,
// makeCredential and getAssertion flows are tested through libfido2 in the fido2 backend tests.
#include "devices/virtual/authenticator.h"

#include <cbor.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/cbor_writer.h"
#include "devices/virtual/auth_data.h"
#include "devices/virtual/crypto.h"
#include "devices/virtual/pin_policy.h"
#include "devices/virtual/pin_protocol.h"

namespace touchpass::vtoken {
namespace {

namespace fs = std::filesystem;

constexpr std::uint8_t kMakeCredential = 0x01;
constexpr std::uint8_t kGetAssertion = 0x02;
constexpr std::uint8_t kGetInfo = 0x04;
constexpr std::uint8_t kClientPin = 0x06;
constexpr std::uint8_t kReset = 0x07;
constexpr std::uint8_t kGetNextAssertion = 0x08;

// Answers every touch request with `answer` and counts them.
class FakePresence : public PresenceWaiter {
 public:
  Presence answer = Presence::approved;
  int requests = 0;
  Presence wait_for_presence() override {
    ++requests;
    return answer;
  }
};

struct CborFree {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using Cbor = std::unique_ptr<cbor_item_t, CborFree>;

// Decodes a reply body; fails the test when it is not exactly one CBOR item.
Cbor decode(std::span<const std::uint8_t> body) {
  cbor_load_result result{};
  Cbor item(cbor_load(body.data(), body.size(), &result));
  EXPECT_EQ(result.error.code, CBOR_ERR_NONE);
  EXPECT_EQ(result.read, body.size());
  return item;
}

const cbor_item_t* map_get(const cbor_item_t* map, std::int64_t key) {
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const cbor_pair& p = cbor_map_handle(map)[i];
    const bool negative = cbor_isa_negint(p.key);
    if (!negative && !cbor_isa_uint(p.key)) continue;
    const auto v = static_cast<std::int64_t>(cbor_get_int(p.key));
    if ((negative ? -1 - v : v) == key) return p.value;
  }
  return nullptr;
}

const cbor_item_t* map_get(const cbor_item_t* map, std::string_view key) {
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const cbor_pair& p = cbor_map_handle(map)[i];
    if (cbor_isa_string(p.key) &&
        std::string_view(reinterpret_cast<const char*>(cbor_string_handle(p.key)),
                         cbor_string_length(p.key)) == key)
      return p.value;
  }
  return nullptr;
}

std::vector<std::string> text_array(const cbor_item_t* array) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cbor_array_size(array); ++i) {
    const cbor_item_t* s = cbor_array_handle(array)[i];
    out.emplace_back(reinterpret_cast<const char*>(cbor_string_handle(s)), cbor_string_length(s));
  }
  return out;
}

Bytes bytes_of_item(const cbor_item_t* item) {
  return Bytes(cbor_bytestring_handle(item),
               cbor_bytestring_handle(item) + cbor_bytestring_length(item));
}

Bytes request(std::uint8_t command, const Bytes& body = {}) {
  Bytes out(1 + body.size());
  out[0] = command;
  std::copy(body.begin(), body.end(), out.begin() + 1);
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AuthenticatorTest : public ::testing::Test {
 public:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vtoken_authenticator_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path state_file() const { return dir_ / "state.json"; }

  std::unique_ptr<Authenticator> open(Config config = {}) {
    auto result = Authenticator::open(std::move(config), state_file());
    EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
    return result.ok() ? std::move(*result) : nullptr;
  }

  Bytes send(Authenticator& a, std::uint8_t command, const Bytes& body = {}) {
    return a.handle_cbor(request(command, body), presence_);
  }

  // The status byte of a reply.
  std::uint8_t status(Authenticator& a, std::uint8_t command, const Bytes& body = {}) {
    const Bytes reply = send(a, command, body);
    EXPECT_FALSE(reply.empty());
    return reply.empty() ? 0xff : reply[0];
  }

  // The decoded body of a successful reply.
  Cbor body(Authenticator& a, std::uint8_t command, const Bytes& cbor = {}) {
    const Bytes reply = send(a, command, cbor);
    EXPECT_GE(reply.size(), 2u);
    EXPECT_EQ(reply.empty() ? 0xff : reply[0], ctap::kOk);
    if (reply.size() < 2) return nullptr;
    return decode(std::span(reply).subspan(1));
  }

  fs::path dir_;
  FakePresence presence_;
};

// The platform side of a PIN protocol: key agreement and pinHashEnc.
class Platform {
 public:
  explicit Platform(int version) : protocol_(*find_pin_protocol(version)), version_(version) {}

  // Runs getKeyAgreement and derives the shared secret.
  void agree(AuthenticatorTest& t, Authenticator& a) {
    CborWriter w;
    w.map(2).uint(1).uint(static_cast<std::uint64_t>(version_)).uint(2).uint(2);
    Cbor reply = t.body(a, kClientPin, w.take());
    ASSERT_TRUE(reply);
    const cbor_item_t* cose = map_get(reply.get(), 1);
    ASSERT_NE(cose, nullptr);
    auto secret = protocol_.shared_secret(key_, bytes_of_item(map_get(cose, -2)),
                                          bytes_of_item(map_get(cose, -3)));
    ASSERT_TRUE(secret);
    secret_ = std::move(*secret);
  }

  // getPinToken (5) for `pin`.
  Bytes get_pin_token(std::string_view pin) const {
    const Bytes hash = pin_hash(bytes_of(pin));
    CborWriter w;
    w.map(4).uint(1).uint(static_cast<std::uint64_t>(version_)).uint(2).uint(5);
    w.uint(3).raw(encode_cose_key(key_, kCoseEcdhEsHkdf256));
    w.uint(6).bytes(protocol_.encrypt(secret_, hash));
    return w.take();
  }

 private:
  const PinProtocol& protocol_;
  int version_;
  crypto::P256Key key_ = crypto::P256Key::generate();
  SecretBytes secret_;
};

Bytes get_retries_request() {
  CborWriter w;
  w.map(1).uint(2).uint(1);
  return w.take();
}

// A minimal valid makeCredential request.
Bytes make_credential_request() {
  CborWriter w;
  w.map(4);
  w.uint(1).bytes(Bytes(32, 0x11));
  w.uint(2).map(1).text("id").text("example.org");
  w.uint(3).map(2).text("id").bytes(Bytes{1, 2, 3}).text("name").text("alice");
  w.uint(4).array(1).map(2).text("alg").nint(-7).text("type").text("public-key");
  return w.take();
}

TEST_F(AuthenticatorTest, GetInfoDescribesACtap21TokenWithHmacSecret) {
  auto a = open();
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  ASSERT_TRUE(cbor_isa_map(info.get()));
  EXPECT_EQ(cbor_map_size(info.get()), 7u);
  EXPECT_EQ(text_array(map_get(info.get(), 1)), (std::vector<std::string>{"FIDO_2_0", "FIDO_2_1"}));
  EXPECT_EQ(text_array(map_get(info.get(), 2)),
            (std::vector<std::string>{"credProtect", "hmac-secret"}));
  EXPECT_EQ(bytes_of_item(map_get(info.get(), 3)), a->aaguid());
  EXPECT_EQ(a->aaguid().size(), 16u);
  const cbor_item_t* options = map_get(info.get(), 4);
  ASSERT_NE(options, nullptr);
  EXPECT_TRUE(cbor_get_bool(map_get(options, "rk")));
  EXPECT_TRUE(cbor_get_bool(map_get(options, "up")));
  EXPECT_FALSE(cbor_get_bool(map_get(options, "clientPin")));
  EXPECT_TRUE(cbor_get_bool(map_get(options, "pinUvAuthToken")));
  EXPECT_EQ(map_get(options, "uv"), nullptr);
  EXPECT_EQ(cbor_get_int(map_get(info.get(), 5)), 1200u);
  const cbor_item_t* protocols = map_get(info.get(), 6);
  ASSERT_EQ(cbor_array_size(protocols), 2u);
  EXPECT_EQ(cbor_get_int(cbor_array_handle(protocols)[0]), 2u);
  EXPECT_EQ(cbor_get_int(cbor_array_handle(protocols)[1]), 1u);
  EXPECT_NE(map_get(info.get(), 10), nullptr);
}

TEST_F(AuthenticatorTest, GetInfoKeysAreInCanonicalOrder) {
  auto a = open();
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < cbor_map_size(info.get()); ++i) {
    const std::uint64_t key = cbor_get_int(cbor_map_handle(info.get())[i].key);
    EXPECT_GT(key, previous);
    previous = key;
  }
  const cbor_item_t* options = map_get(info.get(), 4);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < cbor_map_size(options); ++i) {
    const cbor_item_t* k = cbor_map_handle(options)[i].key;
    keys.emplace_back(reinterpret_cast<const char*>(cbor_string_handle(k)), cbor_string_length(k));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"rk", "up", "clientPin", "pinUvAuthToken",
                                            "makeCredUvNotRqd"}));
}

TEST_F(AuthenticatorTest, AlwaysUvTokenReportsBuiltInUv) {
  Config config;
  config.always_uv = true;
  auto a = open(config);
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  const cbor_item_t* options = map_get(info.get(), 4);
  ASSERT_NE(map_get(options, "uv"), nullptr);
  EXPECT_TRUE(cbor_get_bool(map_get(options, "uv")));
  EXPECT_EQ(cbor_map_size(options), 6u);
}

TEST_F(AuthenticatorTest, GetInfoOfACtap20TokenHasNoPinUvAuthToken) {
  Config config;
  config.ctap21 = false;
  auto a = open(config);
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  EXPECT_EQ(text_array(map_get(info.get(), 1)), std::vector<std::string>{"FIDO_2_0"});
  EXPECT_EQ(map_get(map_get(info.get(), 4), "pinUvAuthToken"), nullptr);
  EXPECT_EQ(map_get(info.get(), 10), nullptr);
}

TEST_F(AuthenticatorTest, GetInfoWithoutHmacSecretListsOnlyCredProtect) {
  Config config;
  config.hmac_secret = false;
  auto a = open(config);
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  EXPECT_EQ(text_array(map_get(info.get(), 2)), std::vector<std::string>{"credProtect"});
}

TEST_F(AuthenticatorTest, GetInfoListsTheConfiguredPinProtocols) {
  Config config;
  config.pin_protocols = {1};
  auto a = open(config);
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  const cbor_item_t* protocols = map_get(info.get(), 6);
  ASSERT_EQ(cbor_array_size(protocols), 1u);
  EXPECT_EQ(cbor_get_int(cbor_array_handle(protocols)[0]), 1u);
}

TEST_F(AuthenticatorTest, GetInfoReportsAnInitialPin) {
  Config config;
  config.initial_pin = "1234";
  auto a = open(config);
  Cbor info = body(*a, kGetInfo);
  ASSERT_TRUE(info);
  EXPECT_TRUE(cbor_get_bool(map_get(map_get(info.get(), 4), "clientPin")));
}

TEST_F(AuthenticatorTest, MalformedRequestsGetCtapErrors) {
  auto a = open();
  EXPECT_EQ(a->handle_cbor(Bytes{}, presence_), Bytes{ctap::kInvalidLength});
  EXPECT_EQ(send(*a, 0x42), Bytes{ctap::kInvalidCommand});
  EXPECT_EQ(send(*a, kGetInfo, Bytes{0xa0}), Bytes{ctap::kInvalidLength});
  // Truncated map, trailing bytes, indefinite length.
  EXPECT_EQ(send(*a, kClientPin, Bytes{0xa2, 0x01, 0x02}), Bytes{ctap::kInvalidCbor});
  EXPECT_EQ(send(*a, kClientPin, Bytes{0xa1, 0x02, 0x01, 0x00}), Bytes{ctap::kInvalidCbor});
  EXPECT_EQ(send(*a, kClientPin, Bytes{0xbf, 0x02, 0x01, 0xff}), Bytes{ctap::kInvalidCbor});
  // Huge lengths that the message cannot hold.
  EXPECT_EQ(send(*a, kMakeCredential, Bytes{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
            Bytes{ctap::kInvalidCbor});
  EXPECT_EQ(send(*a, kMakeCredential, Bytes{0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}),
            Bytes{ctap::kInvalidCbor});
  EXPECT_EQ(send(*a, kGetAssertion, Bytes{0x5a, 0x7f, 0xff, 0xff, 0xff, 0x00}),
            Bytes{ctap::kInvalidCbor});
  // Wrong types.
  EXPECT_EQ(send(*a, kMakeCredential, Bytes{0x80}), Bytes{ctap::kCborUnexpectedType});
  EXPECT_EQ(send(*a, kClientPin, Bytes{0xa1, 0x02, 0x61, 0x31}), Bytes{ctap::kCborUnexpectedType});
  // Missing keys.
  EXPECT_EQ(send(*a, kMakeCredential, Bytes{0xa0}), Bytes{ctap::kMissingParameter});
  EXPECT_EQ(send(*a, kGetAssertion, Bytes{0xa1, 0x01, 0x61, 0x61}), Bytes{ctap::kMissingParameter});
  EXPECT_EQ(send(*a, kClientPin, Bytes{0xa1, 0x01, 0x02}), Bytes{ctap::kMissingParameter});
  // Too large for maxMsgSize.
  EXPECT_EQ(send(*a, kMakeCredential, Bytes(1201, 0x00)), Bytes{ctap::kRequestTooLarge});
  // Nothing to continue.
  EXPECT_EQ(send(*a, kGetNextAssertion), Bytes{ctap::kNotAllowed});
}

TEST_F(AuthenticatorTest, RandomAndMutatedRequestsNeverCrash) {
  auto a = open();
  std::mt19937 rng(20240601);
  const std::vector<Bytes> seeds = {
      request(kGetInfo), request(kClientPin, get_retries_request()),
      request(kMakeCredential, make_credential_request()),
      request(kGetAssertion, Bytes{0xa2, 0x01, 0x61, 0x61, 0x02, 0x42, 0x00, 0x00})};
  for (int i = 0; i < 3000; ++i) {
    Bytes message;
    if (i % 2 == 0) {
      message.resize(std::uniform_int_distribution<std::size_t>(0, 80)(rng));
      for (auto& b : message) b = static_cast<std::uint8_t>(rng());
    } else {
      message = seeds[static_cast<std::size_t>(i / 2) % seeds.size()];
      const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
      for (int e = 0; e < edits && !message.empty(); ++e) {
        const std::size_t pos =
            std::uniform_int_distribution<std::size_t>(0, message.size() - 1)(rng);
        switch (rng() % 3) {
          case 0:
            message[pos] = static_cast<std::uint8_t>(rng());
            break;
          case 1:
            message.resize(pos);
            break;
          default:
            message.insert(message.begin() + static_cast<std::ptrdiff_t>(pos),
                           static_cast<std::uint8_t>(rng()));
            break;
        }
      }
    }
    const Bytes reply = a->handle_cbor(message, presence_);
    ASSERT_FALSE(reply.empty()) << "message " << to_hex(message);
    if (reply[0] != ctap::kOk) {
      EXPECT_EQ(reply.size(), 1u) << "message " << to_hex(message);
      EXPECT_NE(reply[0], ctap::kOther) << "message " << to_hex(message);
    }
  }
  EXPECT_EQ(status(*a, kGetInfo), ctap::kOk);
}

TEST_F(AuthenticatorTest, GetRetriesStartsAtTheMaximum) {
  auto a = open();
  Cbor reply = body(*a, kClientPin, get_retries_request());
  ASSERT_TRUE(reply);
  EXPECT_EQ(cbor_get_int(map_get(reply.get(), 3)), 8u);
  EXPECT_EQ(a->pin_retries(), 8);
}

TEST_F(AuthenticatorTest, ClientPinWithAnUnofferedProtocolIsAnInvalidParameter) {
  Config config;
  config.pin_protocols = {1};
  auto a = open(config);
  CborWriter unknown;
  unknown.map(2).uint(1).uint(3).uint(2).uint(2);
  EXPECT_EQ(send(*a, kClientPin, unknown.take()), Bytes{ctap::kInvalidParameter});
  CborWriter not_offered;
  not_offered.map(2).uint(1).uint(2).uint(2).uint(2);
  EXPECT_EQ(send(*a, kClientPin, not_offered.take()), Bytes{ctap::kInvalidParameter});
  CborWriter offered;
  offered.map(2).uint(1).uint(1).uint(2).uint(2);
  EXPECT_EQ(status(*a, kClientPin, offered.take()), ctap::kOk);
}

TEST_F(AuthenticatorTest, GetKeyAgreementReturnsAnEcdhCoseKey) {
  auto a = open();
  CborWriter w;
  w.map(2).uint(1).uint(2).uint(2).uint(2);
  Cbor reply = body(*a, kClientPin, w.take());
  ASSERT_TRUE(reply);
  const cbor_item_t* key = map_get(reply.get(), 1);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(cbor_get_int(map_get(key, 1)), 2u);
  EXPECT_TRUE(cbor_isa_negint(map_get(key, 3)));
  EXPECT_EQ(cbor_get_int(map_get(key, 3)), 24u);  // -25
  EXPECT_EQ(cbor_bytestring_length(map_get(key, -2)), 32u);
  EXPECT_EQ(cbor_bytestring_length(map_get(key, -3)), 32u);
}

TEST_F(AuthenticatorTest, PinTokenNeedsAPin) {
  auto a = open();
  Platform platform(2);
  platform.agree(*this, *a);
  EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("1234")), Bytes{ctap::kPinNotSet});
}

TEST_F(AuthenticatorTest, WrongPinsUseUpRetriesAndBlockUntilPowerCycle) {
  Config config;
  config.initial_pin = "1234";
  auto a = open(config);
  for (int version : {1, 2}) {
    Platform platform(version);
    platform.agree(*this, *a);
    EXPECT_EQ(status(*a, kClientPin, platform.get_pin_token("1234")), ctap::kOk);
  }
  Platform platform(2);
  for (int i = 1; i <= 3; ++i) {
    platform.agree(*this, *a);  // a wrong PIN regenerates the key agreement key
    EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("9999")),
              Bytes{i < 3 ? ctap::kPinInvalid : ctap::kPinAuthBlocked});
    EXPECT_EQ(a->pin_retries(), 8 - i);
  }
  platform.agree(*this, *a);
  EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("1234")), Bytes{ctap::kPinAuthBlocked});
  a->power_cycle();
  platform.agree(*this, *a);
  EXPECT_EQ(status(*a, kClientPin, platform.get_pin_token("1234")), ctap::kOk);
  EXPECT_EQ(a->pin_retries(), 8);
}

TEST_F(AuthenticatorTest, NoRetriesLeftBlocksThePin) {
  Config config;
  config.initial_pin = "1234";
  config.max_pin_retries = 2;
  auto a = open(config);
  Platform platform(1);
  platform.agree(*this, *a);
  EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("0000")), Bytes{ctap::kPinInvalid});
  platform.agree(*this, *a);
  EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("0000")), Bytes{ctap::kPinBlocked});
  platform.agree(*this, *a);
  EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("1234")), Bytes{ctap::kPinBlocked});
  EXPECT_EQ(status(*a, kReset), ctap::kOk);
  EXPECT_EQ(a->pin_retries(), 2);
}

TEST_F(AuthenticatorTest, StateSurvivesReopening) {
  Bytes aaguid;
  {
    Config config;
    config.initial_pin = "1234";
    auto a = open(config);
    aaguid = a->aaguid();
    Platform platform(2);
    platform.agree(*this, *a);
    EXPECT_EQ(send(*a, kClientPin, platform.get_pin_token("4321")), Bytes{ctap::kPinInvalid});
  }
  EXPECT_EQ(fs::status(state_file()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto again = open();
  EXPECT_EQ(again->aaguid(), aaguid);
  EXPECT_EQ(again->pin_retries(), 7);
  Cbor info = body(*again, kGetInfo);
  ASSERT_TRUE(info);
  EXPECT_TRUE(cbor_get_bool(map_get(map_get(info.get(), 4), "clientPin")));
}

TEST_F(AuthenticatorTest, ACorruptStateFileIsAnErrorAndLeftUntouched) {
  for (const std::string& corrupt : {std::string("{\"version\": 1, \"aaguid\": \"zz\"}"),
                                     std::string("not json"), std::string("")}) {
    {
      std::ofstream out(state_file(), std::ios::binary | std::ios::trunc);
      out << corrupt;
    }
    auto result = Authenticator::open(Config{}, state_file());
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.code(), Code::invalid_argument);
    EXPECT_EQ(read_file(state_file()), corrupt);
  }
}

TEST_F(AuthenticatorTest, AnInvalidInitialPinIsRefused) {
  Config config;
  config.initial_pin = "123";
  EXPECT_FALSE(Authenticator::open(config, state_file()).ok());
  EXPECT_FALSE(fs::exists(state_file()));
}

TEST_F(AuthenticatorTest, DeniedPresenceIsOperationDenied) {
  auto a = open();
  presence_.answer = Presence::denied;
  EXPECT_EQ(send(*a, kReset), Bytes{ctap::kOperationDenied});
  EXPECT_EQ(send(*a, kMakeCredential, make_credential_request()), Bytes{ctap::kOperationDenied});
  presence_.answer = Presence::timed_out;
  EXPECT_EQ(send(*a, kReset), Bytes{ctap::kUserActionTimeout});
  presence_.answer = Presence::cancelled;
  EXPECT_EQ(send(*a, kReset), Bytes{ctap::kKeepaliveCancel});
  EXPECT_EQ(presence_.requests, 4);
}

TEST_F(AuthenticatorTest, MakeCredentialChecksAlgorithmAndPin) {
  Config config;
  config.initial_pin = "1234";
  auto a = open(config);
  EXPECT_EQ(send(*a, kMakeCredential, make_credential_request()), Bytes{ctap::kPinRequired});
  CborWriter es384;
  es384.map(4);
  es384.uint(1).bytes(Bytes(32, 0x11));
  es384.uint(2).map(1).text("id").text("example.org");
  es384.uint(3).map(1).text("id").bytes(Bytes{1});
  es384.uint(4).array(1).map(2).text("alg").nint(-35).text("type").text("public-key");
  EXPECT_EQ(send(*a, kMakeCredential, es384.take()), Bytes{ctap::kUnsupportedAlgorithm});
  EXPECT_EQ(presence_.requests, 0);
}

// libfido2's touch-to-select request for a token with clientPin: a makeCredential with a
// zero-length pinUvAuthParam.
Bytes touch_probe_request() {
  CborWriter w;
  w.map(6);
  w.uint(1).bytes(Bytes(32, 0x11));
  w.uint(2).map(1).text("id").text(".dummy");
  w.uint(3).map(2).text("id").bytes(Bytes{1}).text("name").text("dummy");
  w.uint(4).array(1).map(2).text("alg").nint(-7).text("type").text("public-key");
  w.uint(8).bytes(Bytes{});
  w.uint(9).uint(2);
  return w.take();
}

TEST_F(AuthenticatorTest, TouchProbeAnswersAfterPresenceWithoutUsingAPinTry) {
  Config config;
  config.initial_pin = "1234";
  auto with_pin = open(config);
  EXPECT_EQ(send(*with_pin, kMakeCredential, touch_probe_request()), Bytes{ctap::kPinInvalid});
  EXPECT_EQ(presence_.requests, 1);
  EXPECT_EQ(with_pin->pin_retries(), 8);
  presence_.answer = Presence::denied;
  EXPECT_EQ(send(*with_pin, kMakeCredential, touch_probe_request()), Bytes{ctap::kOperationDenied});
  with_pin.reset();
  fs::remove(state_file());

  presence_.answer = Presence::approved;
  auto without_pin = open();
  EXPECT_EQ(send(*without_pin, kMakeCredential, touch_probe_request()), Bytes{ctap::kPinNotSet});
  EXPECT_EQ(presence_.requests, 3);
}

TEST_F(AuthenticatorTest, GetAssertionWithoutCredentialsNeedsNoTouch) {
  auto a = open();
  CborWriter w;
  w.map(2).uint(1).text("example.org").uint(2).bytes(Bytes(32, 0x22));
  EXPECT_EQ(send(*a, kGetAssertion, w.take()), Bytes{ctap::kNoCredentials});
  EXPECT_EQ(presence_.requests, 0);
}

TEST_F(AuthenticatorTest, TheSignatureCounterIncreasesAndPersists) {
  std::uint32_t first = 0;
  {
    auto a = open();
    const Bytes reply = send(*a, kMakeCredential, make_credential_request());
    ASSERT_EQ(reply[0], ctap::kOk);
    Cbor att = decode(std::span(reply).subspan(1));
    const Bytes auth_data = bytes_of_item(map_get(att.get(), 2));
    first = (std::uint32_t{auth_data[33]} << 24) | (std::uint32_t{auth_data[34]} << 16) |
            (std::uint32_t{auth_data[35]} << 8) | auth_data[36];
    EXPECT_GT(first, 0u);
  }
  auto again = open();
  const Bytes reply = send(*again, kMakeCredential, make_credential_request());
  ASSERT_EQ(reply[0], ctap::kOk);
  Cbor att = decode(std::span(reply).subspan(1));
  const Bytes auth_data = bytes_of_item(map_get(att.get(), 2));
  EXPECT_EQ(auth_data[36], static_cast<std::uint8_t>(first + 1));
}

TEST_F(AuthenticatorTest, FaultsCorruptRepliesButNeverGetInfo) {
  Config config;
  config.fault = Fault::bad_cbor;
  auto bad = open(config);
  EXPECT_EQ(status(*bad, kGetInfo), ctap::kOk);
  const Bytes reply = send(*bad, kClientPin, get_retries_request());
  ASSERT_GE(reply.size(), 2u);
  cbor_load_result result{};
  Cbor item(cbor_load(reply.data() + 1, reply.size() - 1, &result));
  EXPECT_NE(result.error.code, CBOR_ERR_NONE);
}

TEST_F(AuthenticatorTest, WrongLengthFaultShortensAKey) {
  Config config;
  config.fault = Fault::wrong_length;
  auto a = open(config);
  CborWriter w;
  w.map(2).uint(1).uint(2).uint(2).uint(2);
  Cbor reply = body(*a, kClientPin, w.take());
  ASSERT_TRUE(reply);
  EXPECT_EQ(cbor_bytestring_length(map_get(map_get(reply.get(), 1), -2)), 31u);
}

TEST_F(AuthenticatorTest, HugeArrayInAuthDataFaultReplacesTheCoseKey) {
  Config config;
  config.fault = Fault::huge_array_in_auth_data;
  auto a = open(config);
  const Bytes reply = send(*a, kMakeCredential, make_credential_request());
  ASSERT_EQ(reply[0], ctap::kOk);
  Cbor att = decode(std::span(reply).subspan(1));  // the answer itself stays well-formed
  ASSERT_TRUE(att);
  const Bytes auth_data = bytes_of_item(map_get(att.get(), 2));
  ASSERT_GE(auth_data.size(), 37u + 18u);
  EXPECT_EQ(auth_data[32] & 0xc0, 0x40) << "AT set, ED cleared";
  const std::size_t id_size = std::size_t{auth_data[53]} << 8 | auth_data[54];
  const Bytes tail(auth_data.begin() + 55 + static_cast<std::ptrdiff_t>(id_size), auth_data.end());
  EXPECT_EQ(tail, (Bytes{0x9a, 0x10, 0x00, 0x00, 0x00}));
}

TEST_F(AuthenticatorTest, TruncatedFaultHalvesTheReply) {
  Config config;
  config.fault = Fault::truncated;
  auto a = open(config);
  CborWriter w;
  w.map(2).uint(1).uint(2).uint(2).uint(2);
  const Bytes reply = send(*a, kClientPin, w.take());
  ASSERT_GE(reply.size(), 2u);
  EXPECT_EQ(reply[0], ctap::kOk);
  EXPECT_LE(reply.size(), 1u + 82u / 2u);  // the COSE key reply has 82 bytes
  cbor_load_result result{};
  Cbor item(cbor_load(reply.data() + 1, reply.size() - 1, &result));
  EXPECT_NE(result.error.code, CBOR_ERR_NONE);
}

TEST(PresencePolicyTest, ParsesApproveDenyAndDelay) {
  EXPECT_EQ(PresencePolicy::parse("approve")->mode, PresencePolicy::Mode::approve);
  EXPECT_EQ(PresencePolicy::parse("deny")->mode, PresencePolicy::Mode::deny);
  auto delay = PresencePolicy::parse("delay:1500");
  ASSERT_TRUE(delay);
  EXPECT_EQ(delay->mode, PresencePolicy::Mode::delay);
  EXPECT_EQ(delay->delay_ms, 1500u);
  EXPECT_TRUE(PresencePolicy::parse("delay:600000"));
  for (std::string_view bad : {"", "Approve", "delay:", "delay:-1", "delay:600001", "delay:1x",
                               "delay:99999999999", "deny "})
    EXPECT_FALSE(PresencePolicy::parse(bad)) << bad;
}

}  // namespace
}  // namespace touchpass::vtoken
