#include "devices/virtual/fault.h"

#include "core/cbor_writer.h"
#include "devices/virtual/cbor_reader.h"

namespace touchpass::vtoken {

namespace {

// Re-encodes `item` (of the types the authenticator writes), shortening the first byte string.
void reencode_shortened(const cbor_item_t* item, CborWriter& out, bool& shortened) {
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_UINT:
    case CBOR_TYPE_NEGINT:
      out.nint(as_int(item));
      break;
    case CBOR_TYPE_BYTESTRING: {
      auto bytes = bytes_view(item);
      if (!shortened && !bytes.empty()) {
        bytes = bytes.first(bytes.size() - 1);
        shortened = true;
      }
      out.bytes(bytes);
      break;
    }
    case CBOR_TYPE_STRING:
      out.text(as_text(item));
      break;
    case CBOR_TYPE_ARRAY: {
      auto elements = as_array(item);
      out.array(elements.size());
      for (const cbor_item_t* e : elements) reencode_shortened(e, out, shortened);
      break;
    }
    case CBOR_TYPE_MAP: {
      auto pairs = as_map(item);
      out.map(pairs.size());
      for (const auto& pair : pairs) {
        reencode_shortened(pair.key, out, shortened);
        reencode_shortened(pair.value, out, shortened);
      }
      break;
    }
    default:
      out.boolean(as_bool(item));
      break;
  }
}

}  // namespace

Bytes apply_fault(Fault fault, Bytes reply) {
  if (fault == Fault::none || reply.size() < 2 || reply[0] != ctap::kOk) return reply;
  switch (fault) {
    case Fault::truncated:
      reply.resize(1 + (reply.size() - 1) / 2);
      return reply;
    case Fault::wrong_length: {
      CborItem body = decode_cbor(std::span(reply).subspan(1));
      CborWriter out;
      bool shortened = false;
      reencode_shortened(body.get(), out, shortened);
      Bytes corrupted{ctap::kOk};
      corrupted.insert(corrupted.end(), out.data().begin(), out.data().end());
      return corrupted;
    }
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
