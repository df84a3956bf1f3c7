// Strict reading of CTAP2 request CBOR with libcbor. Malformed or mistyped input ends the command
// with a CTAP status: the helpers throw CtapError, which the authenticator turns into the status
// byte of its reply (CtapError never leaves Authenticator::handle_cbor).
#pragma once

#include <cbor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/bytes.h"

namespace touchpass::vtoken {

// Ends the current command with `status`.
class CtapError {
 public:
  explicit CtapError(std::uint8_t status) : status_(status) {}
  std::uint8_t status() const { return status_; }

 private:
  std::uint8_t status_;
};

struct CborFree {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborItem = std::unique_ptr<cbor_item_t, CborFree>;

// Decodes `data` as exactly one well-formed, definite-length CBOR item (no trailing bytes).
// Before libcbor allocates anything, every length is checked against the bytes present, so a
// hostile header cannot make it allocate more than a small multiple of data.size().
// Throws CtapError(kInvalidCbor).
CborItem decode_cbor(std::span<const std::uint8_t> data);

// Typed views of items. Each throws CtapError(kCborUnexpectedType) on a different type.
std::int64_t as_int(const cbor_item_t* item);  // major types 0 and 1 within int64
Bytes as_bytes(const cbor_item_t* item);
std::span<const std::uint8_t> bytes_view(const cbor_item_t* item);
std::string as_text(const cbor_item_t* item);
bool as_bool(const cbor_item_t* item);
std::span<cbor_item_t*> as_array(const cbor_item_t* item);
std::span<cbor_pair> as_map(const cbor_item_t* item);

// A CBOR map read by key: integer keys (CTAP parameters) or text keys (entities, options).
class CborMap {
 public:
  // Throws CtapError(kCborUnexpectedType) when `item` is not a map.
  explicit CborMap(const cbor_item_t* item);

  // The value under the key, or nullptr.
  const cbor_item_t* find(std::int64_t key) const;
  const cbor_item_t* find(std::string_view key) const;
  // The value under the key; throws CtapError(kMissingParameter) when absent.
  const cbor_item_t* require(std::int64_t key) const;
  const cbor_item_t* require(std::string_view key) const;

 private:
  std::span<cbor_pair> pairs_;
};

}  // namespace touchpass::vtoken
