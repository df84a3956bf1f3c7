// A minimal CBOR reader (RFC 8949) for one purpose: taking fmt, authData and attStmt out of a
// WebAuthn attestationObject in the browser, so that the page can send them to touchpass-web.
// touchpassd verifies everything it receives; this reader only has to be safe on any input.
//
// Contract: TouchpassCbor.decode(bytes) takes a Uint8Array holding exactly one CBOR data item
// and returns it as JavaScript values:
//   unsigned and negative integers -> Number (refused beyond 2^53 - 1)
//   byte strings                   -> Uint8Array (a copy)
//   text strings                   -> String (refused unless valid UTF-8)
//   arrays                         -> Array
//   maps                           -> Map (keys as decoded; a repeated number or text key is
//                                     refused)
//   false, true, null              -> false, true, null
// It throws an Error for anything else: indefinite lengths, tags, floats, undefined and other
// simple values, nesting deeper than 8 levels, a length that runs past the end of the input,
// more than 1024 items in one array or map, reserved additional information, and bytes left
// over after the item. Every length is checked against the bytes that remain before anything is
// read or allocated.
//
// TouchpassCbor.decodeFirst(bytes) reads the one item at the start of `bytes` alone (bytes may
// follow it, as in authenticator data) and returns {value, length}: the item and its size in
// bytes. It throws as decode does, leftovers aside.
"use strict";

const TouchpassCbor = (() => {
  const maxDepth = 8;
  const maxItems = 1024;
  const utf8 = new TextDecoder("utf-8", { fatal: true });

  function fail(why) {
    throw new Error("The security key's answer is not valid CBOR: " + why + ".");
  }

  // A cursor over `bytes`; every read checks the bytes that remain.
  class Reader {
    constructor(bytes) {
      this.bytes = bytes;
      this.at = 0;
    }
    remaining() {
      return this.bytes.length - this.at;
    }
    take(count) {
      if (count > this.remaining()) fail("a length runs past the end");
      const part = this.bytes.subarray(this.at, this.at + count);
      this.at += count;
      return part;
    }
    byte() {
      return this.take(1)[0];
    }
    // The argument of a head whose additional information is `info`.
    argument(info) {
      if (info < 24) return info;
      if (info === 24) return this.byte();
      if (info === 25) return this.uint(2);
      if (info === 26) return this.uint(4);
      if (info === 27) return this.uint(8);
      if (info === 31) fail("indefinite lengths are not accepted");
      fail("reserved additional information");
    }
    uint(size) {
      const part = this.take(size);
      let value = 0;
      for (const b of part) {
        value = value * 256 + b;
      }
      if (!Number.isSafeInteger(value)) fail("an integer is too large");
      return value;
    }
  }

  function item(reader, depth) {
    if (depth > maxDepth) fail("nested too deeply");
    const head = reader.byte();
    const major = head >> 5;
    const info = head & 0x1f;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      fail("floats and simple values are not accepted");
    }
    const argument = reader.argument(info);
    switch (major) {
      case 0:
        return argument;
      case 1:
        return -1 - argument;
      case 2:
        return reader.take(argument).slice();
      case 3:
        try {
          return utf8.decode(reader.take(argument));
        } catch (error) {
          fail("a text string is not UTF-8");
        }
        break;
      case 4: {
        // Each item takes at least one byte: a count beyond the bytes left is refused at once.
        if (argument > maxItems || argument > reader.remaining()) fail("an array is too long");
        const array = [];
        for (let i = 0; i < argument; i++) array.push(item(reader, depth + 1));
        return array;
      }
      case 5: {
        if (argument > maxItems || 2 * argument > reader.remaining()) fail("a map is too long");
        const map = new Map();
        for (let i = 0; i < argument; i++) {
          const key = item(reader, depth + 1);
          if (map.has(key)) fail("a map repeats a key");
          map.set(key, item(reader, depth + 1));
        }
        return map;
      }
      default:
        fail("tags are not accepted");
    }
    return undefined;
  }

  function decodeFirst(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("TouchpassCbor needs a Uint8Array");
    const reader = new Reader(bytes);
    const value = item(reader, 1);
    return { value, length: reader.at };
  }

  function decode(bytes) {
    const { value, length } = decodeFirst(bytes);
    if (length !== bytes.length) fail("bytes are left over after the item");
    return value;
  }

  return Object.freeze({ decode, decodeFirst });
})();
