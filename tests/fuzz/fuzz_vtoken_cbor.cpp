// The virtual token's CTAP2 command layer: every CBOR request a host can send.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/cbor_writer.h"
#include "devices/virtual/authenticator.h"
#include "fuzz.h"

namespace {

class Approve final : public touchpass::vtoken::PresenceWaiter {
 public:
  touchpass::vtoken::Presence wait_for_presence() override {
    return touchpass::vtoken::Presence::approved;
  }
};

touchpass::vtoken::Authenticator& authenticator() {
  static const std::filesystem::path dir = [] {
    char tmpl[] = "/tmp/touchpass-fuzz-XXXXXX";
    std::filesystem::path made(::mkdtemp(tmpl));
    static const std::filesystem::path removed_at_exit = made;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(removed_at_exit, ec);
    });
    return made;
  }();
  static auto auth = [] {
    touchpass::vtoken::Config config;
    config.initial_pin = "123456";
    auto a = touchpass::vtoken::Authenticator::open(config, dir / "state.json");
    if (!a.ok()) std::abort();
    return std::move(*a);
  }();
  return *auth;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Approve approve;
  const touchpass::Bytes reply = authenticator().handle_cbor({data, size}, approve);
  if (reply.empty()) std::abort();  // every request gets at least a status byte
  // Never let the fuzzer block the PIN for good: power-cycle now and then.
  if (size > 0 && data[0] == 0x06) authenticator().power_cycle();
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  using touchpass::CborWriter;
  const auto command = [](std::uint8_t cmd, const CborWriter& body) {
    std::string out(1, static_cast<char>(cmd));
    out.append(body.data().begin(), body.data().end());
    return out;
  };
  const touchpass::Bytes hash(32, 'c');
  CborWriter get_retries;
  get_retries.map(2).uint(1).uint(2).uint(2).uint(1);
  CborWriter key_agreement;
  key_agreement.map(2).uint(1).uint(2).uint(2).uint(2);
  CborWriter get_assertion;
  get_assertion.map(2).uint(1).text("localhost").uint(2).bytes(hash);
  CborWriter make_credential;
  make_credential.map(4).uint(1).bytes(hash);
  make_credential.uint(2).map(1).text("id").text("localhost");
  make_credential.uint(3).map(1).text("id").bytes(touchpass::Bytes{1});
  make_credential.uint(4).array(1).map(2).text("alg").nint(-7).text("type").text("public-key");
  return {std::string(1, '\x04'),         command(0x06, get_retries),
          command(0x06, key_agreement),   command(0x02, get_assertion),
          command(0x01, make_credential), std::string(1, '\x08')};
}

// The largest CBOR request the virtual token's CTAPHID layer accepts (Options::max_cbor_request).
std::size_t fuzz_max_len() {
  return 2048;
}
