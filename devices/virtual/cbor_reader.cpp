#include "devices/virtual/cbor_reader.h"

#include <limits>

#include "core/cbor_extent.h"
#include "devices/virtual/authenticator.h"

namespace touchpass::vtoken {

namespace {

[[noreturn]] void fail(std::uint8_t status) {
  throw CtapError(status);
}

// Checks that `data` is one well-formed definite-length CBOR item and nothing else.
bool well_formed(std::span<const std::uint8_t> data) {
  return cbor_item_extent(data) == data.size();
}

}  // namespace

CborItem decode_cbor(std::span<const std::uint8_t> data) {
  if (data.empty() || !well_formed(data)) fail(ctap::kInvalidCbor);
  cbor_load_result result{};
  CborItem item(cbor_load(data.data(), data.size(), &result));
  if (!item || result.error.code != CBOR_ERR_NONE || result.read != data.size())
    fail(ctap::kInvalidCbor);
  return item;
}

std::int64_t as_int(const cbor_item_t* item) {
  if (!cbor_isa_uint(item) && !cbor_isa_negint(item)) fail(ctap::kCborUnexpectedType);
  const std::uint64_t magnitude = cbor_get_int(item);
  if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail(ctap::kCborUnexpectedType);
  const auto v = static_cast<std::int64_t>(magnitude);
  return cbor_isa_uint(item) ? v : -1 - v;
}

std::span<const std::uint8_t> bytes_view(const cbor_item_t* item) {
  if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item))
    fail(ctap::kCborUnexpectedType);
  const std::size_t size = cbor_bytestring_length(item);
  if (size == 0) return {};
  return {cbor_bytestring_handle(item), size};
}

Bytes as_bytes(const cbor_item_t* item) {
  auto view = bytes_view(item);
  return Bytes(view.begin(), view.end());
}

std::string as_text(const cbor_item_t* item) {
  if (!cbor_isa_string(item) || !cbor_string_is_definite(item)) fail(ctap::kCborUnexpectedType);
  const std::size_t size = cbor_string_length(item);
  if (size == 0) return {};
  return std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), size);
}

bool as_bool(const cbor_item_t* item) {
  if (!cbor_isa_float_ctrl(item) || !cbor_is_bool(item)) fail(ctap::kCborUnexpectedType);
  return cbor_get_bool(item);
}

std::span<cbor_item_t*> as_array(const cbor_item_t* item) {
  if (!cbor_isa_array(item) || !cbor_array_is_definite(item)) fail(ctap::kCborUnexpectedType);
  const std::size_t size = cbor_array_size(item);
  if (size == 0) return {};
  return {cbor_array_handle(item), size};
}

std::span<cbor_pair> as_map(const cbor_item_t* item) {
  if (!cbor_isa_map(item) || !cbor_map_is_definite(item)) fail(ctap::kCborUnexpectedType);
  const std::size_t size = cbor_map_size(item);
  if (size == 0) return {};
  return {cbor_map_handle(item), size};
}

CborMap::CborMap(const cbor_item_t* item) : pairs_(as_map(item)) {}

const cbor_item_t* CborMap::find(std::int64_t key) const {
  for (const auto& pair : pairs_) {
    if (!cbor_isa_uint(pair.key) && !cbor_isa_negint(pair.key)) continue;
    if (cbor_get_int(pair.key) >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      continue;
    if (as_int(pair.key) == key) return pair.value;
  }
  return nullptr;
}

const cbor_item_t* CborMap::find(std::string_view key) const {
  for (const auto& pair : pairs_) {
    if (!cbor_isa_string(pair.key) || !cbor_string_is_definite(pair.key)) continue;
    if (as_text(pair.key) == key) return pair.value;
  }
  return nullptr;
}

const cbor_item_t* CborMap::require(std::int64_t key) const {
  const cbor_item_t* value = find(key);
  if (value == nullptr) fail(ctap::kMissingParameter);
  return value;
}

const cbor_item_t* CborMap::require(std::string_view key) const {
  const cbor_item_t* value = find(key);
  if (value == nullptr) fail(ctap::kMissingParameter);
  return value;
}

}  // namespace touchpass::vtoken
