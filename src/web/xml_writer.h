// An XML document written with libxml2's xmlTextWriter into memory (the library escapes the
// text), for the mail clients' documents (mail_autoconfig.h, apple_profile.h). The document's
// buffer is wiped when the writer is destroyed, since a profile holds a password; it is sized
// at creation so that it is not reallocated (a reallocation would leave an unwiped copy).
// libxml2 still makes short-lived copies of escaped text inside its own buffers, which it frees
// without wiping.
#pragma once

#include <libxml/xmlwriter.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace touchpass::web {

class XmlWriter {
 public:
  // A writer that indents with tabs and has written the XML declaration (UTF-8). `expected_size`
  // is what the document will take at most, with room to spare. Error internal when libxml2
  // cannot make one (memory).
  static Result<XmlWriter> create(std::size_t expected_size);

  // Each call writes one piece; after the first failure the others do nothing and finish()
  // returns the failure. Text must be UTF-8 without control characters (XML 1.0 cannot hold
  // them): invalid_argument otherwise, naming `what` the caller gave for it.
  void doctype(const char* name, const char* public_id, const char* system_id);
  void start(const char* element);
  void attribute(const char* name, std::string_view value, std::string_view what);
  void end();
  // <element>text</element>
  void text_element(const char* element, std::string_view text, std::string_view what);
  // As text_element, for a secret: the NUL-terminated copy libxml2 needs is wiped.
  void secret_element(const char* element, std::string_view secret, std::string_view what);

  // Closes every open element and returns the document. The caller owns (and, for a secret,
  // wipes) the copy. Error: the first failure, or internal when libxml2 failed.
  Result<std::string> finish();

 private:
  struct FreeWriter {
    void operator()(xmlTextWriter* w) const { xmlFreeTextWriter(w); }
  };
  struct WipeAndFreeBuffer {
    void operator()(xmlBuffer* b) const;
  };
  XmlWriter() = default;
  // Records libxml2's result `rc` (negative: failure).
  void check(int rc);
  bool usable(std::string_view text, std::string_view what);

  std::unique_ptr<xmlBuffer, WipeAndFreeBuffer> buffer_;  // destroyed after writer_ flushed
  std::unique_ptr<xmlTextWriter, FreeWriter> writer_;
  std::optional<Error> failure_;
};

}  // namespace touchpass::web
