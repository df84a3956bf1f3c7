#include "devices/virtual/fault.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "core/cbor_writer.h"
#include "devices/virtual/cbor_reader.h"

namespace touchpass::vtoken {

namespace {

// What becomes of each byte string when a reply is re-encoded: `bytes` is the string, `key` the
// map key (an integer) it is the value of, if any.
using ByteStringEdit =
    std::function<Bytes(std::span<const std::uint8_t> bytes, std::optional<std::int64_t> key)>;

// Re-encodes `item` (of the types the authenticator writes), its byte strings edited.
void reencode(const cbor_item_t* item, CborWriter& out, const ByteStringEdit& edit,
              std::optional<std::int64_t> key = std::nullopt) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
    case CBOR_TYPE_NEGINT:
      out.nint(as_int(item));
      break;
    case CBOR_TYPE_BYTESTRING:
      out.bytes(edit(bytes_view(item), key));
      break;
    case CBOR_TYPE_STRING:
      out.text(as_text(item));
      break;
    case CBOR_TYPE_ARRAY: {
      auto elements = as_array(item);
      out.array(elements.size());
      for (const cbor_item_t* e : elements) reencode(e, out, edit);
      break;
    }
    case CBOR_TYPE_MAP: {
      auto pairs = as_map(item);
      out.map(pairs.size());
      for (const auto& pair : pairs) {
        reencode(pair.key, out, edit);
        const bool integer_key =
            cbor_typeof(pair.key) == CBOR_TYPE_UINT || cbor_typeof(pair.key) == CBOR_TYPE_NEGINT;
        reencode(pair.value, out, edit,
                 integer_key ? std::optional<std::int64_t>(as_int(pair.key)) : std::nullopt);
      }
      break;
    }
    default:
      out.boolean(as_bool(item));
      break;
  }
}

// The reply with its body re-encoded through `edit`.
Bytes reencoded_reply(const Bytes& reply, const ByteStringEdit& edit) {
  CborItem body = decode_cbor(std::span(reply).subspan(1));
  CborWriter out;
  reencode(body.get(), out, edit);
  Bytes edited(1 + out.data().size());
  edited[0] = ctap::kOk;
  std::copy(out.data().begin(), out.data().end(), edited.begin() + 1);
  return edited;
}

// Authenticator data whose embedded CBOR is the header of an array of 2^28 items where libfido2
// decodes it: the COSE key after the credential id when AT is set (makeCredential), otherwise
// the extension outputs right after signCount (getAssertion).
Bytes with_huge_embedded_array(std::span<const std::uint8_t> auth_data) {
  constexpr std::size_t kFixed = 32 + 1 + 4;
  constexpr std::size_t kFlags = 32;
  constexpr std::uint8_t kAt = 0x40;
  constexpr std::uint8_t kEd = 0x80;
  if (auth_data.size() < kFixed) return Bytes(auth_data.begin(), auth_data.end());
  std::size_t keep = kFixed;
  const bool attested = (auth_data[kFlags] & kAt) != 0;
  if (attested) {
    if (auth_data.size() < kFixed + 18) return Bytes(auth_data.begin(), auth_data.end());
    keep += 18 + ((std::size_t{auth_data[kFixed + 16]} << 8) | auth_data[kFixed + 17]);
    keep = std::min(keep, auth_data.size());
  }
  Bytes out(auth_data.begin(), auth_data.begin() + static_cast<std::ptrdiff_t>(keep));
  out[kFlags] = static_cast<std::uint8_t>(attested ? out[kFlags] & ~kEd : out[kFlags] | kEd);
  out.insert(out.end(), {0x9a, 0x10, 0x00, 0x00, 0x00});
  return out;
}

}  // namespace

Bytes apply_fault(Fault fault, Bytes reply, bool has_auth_data) {
  if (fault == Fault::none || reply.size() < 2 || reply[0] != ctap::kOk) return reply;
  switch (fault) {
    case Fault::truncated:
      reply.resize(1 + (reply.size() - 1) / 2);
      return reply;
    case Fault::wrong_length: {
      bool shortened = false;
      return reencoded_reply(reply, [&](std::span<const std::uint8_t> bytes, auto) {
        if (!shortened && !bytes.empty()) {
          shortened = true;
          bytes = bytes.first(bytes.size() - 1);
        }
        return Bytes(bytes.begin(), bytes.end());
      });
    }
    case Fault::huge_array_in_auth_data:
      if (!has_auth_data) return reply;
      return reencoded_reply(
          reply, [](std::span<const std::uint8_t> bytes, std::optional<std::int64_t> key) {
            constexpr std::int64_t kAuthDataKey = 2;  // makeCredential's and getAssertion's
            return key == kAuthDataKey ? with_huge_embedded_array(bytes)
                                       : Bytes(bytes.begin(), bytes.end());
          });
    case Fault::bad_cbor:
      return Bytes{ctap::kOk, 0xff, 0xfe, 0xfd, 0x1c};
    case Fault::huge_array:
      return Bytes{ctap::kOk, 0x9a, 0x10, 0x00, 0x00, 0x00};
    case Fault::none:
      break;
  }
  return reply;
}

}  // namespace touchpass::vtoken
