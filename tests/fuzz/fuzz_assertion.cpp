// What a client relays to finish a ceremony: authenticator data, clientDataJSON and a signature.
// The input is split at its first two NUL-separated boundaries into the three parts; each is
// parsed on its own too, and the whole assertion is checked against a fixed key. Nothing may
// crash, and nothing but a real signature by that key may verify.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

#include "core/assertion.h"
#include "core/authenticator_data.h"
#include "core/bytes.h"
#include "core/client_data.h"
#include "fuzz.h"
#include "ipc/ceremony.h"

namespace {

// A point on P-256 (the generator), so the signature check itself is reached.
touchpass::Es256PublicKey fixed_key() {
  touchpass::Es256PublicKey k;
  const auto x =
      touchpass::from_hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
  const auto y =
      touchpass::from_hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  std::copy(x->begin(), x->end(), k.x.begin());
  std::copy(y->begin(), y->end(), k.y.begin());
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t first = std::min(input.find('\0'), input.size());
  const std::size_t second =
      first < input.size() ? std::min(input.find('\0', first + 1), input.size()) : input.size();
  touchpass::SignedAssertion a;
  a.authenticator_data.assign(input.begin(), input.begin() + static_cast<long>(first));
  if (first < input.size()) a.client_data_json = input.substr(first + 1, second - first - 1);
  if (second < input.size())
    a.signature.assign(input.begin() + static_cast<long>(second) + 1, input.end());

  const auto auth = touchpass::parse_authenticator_data(a.authenticator_data);
  if (auth.ok() && auth->attested) (void)touchpass::parse_cose_public_key(auth->attested->cose_key);
  (void)touchpass::parse_cose_public_key(a.authenticator_data);
  (void)touchpass::parse_client_data(a.client_data_json);

  static const touchpass::Es256PublicKey key = fixed_key();
  static const std::array<std::uint8_t, 32> challenge{};
  static const std::string origins[] = {"https://mail.example.org"};
  touchpass::AssertionExpectation expected;
  expected.rp_id = "example.org";
  expected.client_data = {touchpass::kClientDataGet, challenge, origins};
  // Nobody holds the generator's private key 1 in a way a fuzzer finds: nothing may verify.
  if (touchpass::verify_assertion(a, key, expected).ok()) std::abort();
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  // rpIdHash of "example.org", flags UP, counter 1; a client data; a DER signature shape.
  const auto auth = touchpass::from_hex(
      "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b501000000"
      "01");
  std::string auth_text(auth->begin(), auth->end());
  const std::string client =
      R"({"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",)"
      R"("origin":"https://mail.example.org"})";
  const std::string sig = std::string("\x30\x06\x02\x01\x01\x02\x01\x01", 8);
  const auto attested = touchpass::from_hex(
      "bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b541000000"
      "0100000000000000000000000000000000000401020304a501020326200121582000000000000000000000"
      "000000000000000000000000000000000000000000000022582000000000000000000000000000000000"
      "00000000000000000000000000000000");
  return {auth_text + '\0' + client + '\0' + sig,
          std::string(attested->begin(), attested->end()) + '\0' + client + '\0' + sig,
          std::string(1, '\0') + R"({"a":[[[[[[[[[[1]]]]]]]]]]})"};
}

// The three parts as a finish message may carry them (ipc/ceremony.h), and two separators.
std::size_t fuzz_max_len() {
  return touchpass::ipc::kMaxAuthenticatorDataBytes + touchpass::ipc::kMaxFinishClientDataBytes +
         touchpass::ipc::kMaxSignatureBytes + 2;
}
