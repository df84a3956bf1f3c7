#include "web/xml_writer.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/secret.h"
#include "core/utf8.h"

namespace touchpass::web {

namespace {

const xmlChar* xml(const char* text) {
  return reinterpret_cast<const xmlChar*>(text);
}

}  // namespace

void XmlWriter::WipeAndFreeBuffer::operator()(xmlBuffer* b) const {
  const int length = xmlBufferLength(b);
  if (length > 0)
    OPENSSL_cleanse(const_cast<xmlChar*>(xmlBufferContent(b)), static_cast<std::size_t>(length));
  xmlBufferFree(b);
}

Result<XmlWriter> XmlWriter::create(std::size_t expected_size) {
  XmlWriter w;
  w.buffer_.reset(xmlBufferCreateSize(expected_size));
  if (!w.buffer_) return Error{Code::internal, "Out of memory for an XML document."};
  w.writer_.reset(xmlNewTextWriterMemory(w.buffer_.get(), 0));
  if (!w.writer_) return Error{Code::internal, "Out of memory for an XML document."};
  w.check(xmlTextWriterSetIndent(w.writer_.get(), 1));
  w.check(xmlTextWriterSetIndentString(w.writer_.get(), xml("\t")));
  w.check(xmlTextWriterStartDocument(w.writer_.get(), "1.0", "UTF-8", nullptr));
  if (w.failure_) return *w.failure_;
  return w;
}

void XmlWriter::check(int rc) {
  if (rc < 0 && !failure_) failure_ = Error{Code::internal, "libxml2 could not write XML."};
}

bool XmlWriter::usable(std::string_view text, std::string_view what) {
  if (failure_) return false;
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (control ||
      !is_valid_utf8({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})) {
    failure_ = Error{Code::invalid_argument,
                     "The " + std::string(what) +
                         " is not UTF-8 text without control characters: it cannot go in XML."};
    return false;
  }
  return true;
}

void XmlWriter::doctype(const char* name, const char* public_id, const char* system_id) {
  if (failure_) return;
  // Indented, libxml2 would break the declaration over three lines: keep it on one, as Apple's.
  check(xmlTextWriterSetIndent(writer_.get(), 0));
  check(xmlTextWriterWriteDTD(writer_.get(), xml(name), xml(public_id), xml(system_id), nullptr));
  check(xmlTextWriterWriteRaw(writer_.get(), xml("\n")));
  check(xmlTextWriterSetIndent(writer_.get(), 1));
}

void XmlWriter::start(const char* element) {
  if (failure_) return;
  check(xmlTextWriterStartElement(writer_.get(), xml(element)));
}

void XmlWriter::attribute(const char* name, std::string_view value, std::string_view what) {
  if (!usable(value, what)) return;
  check(xmlTextWriterWriteAttribute(writer_.get(), xml(name), xml(std::string(value).c_str())));
}

void XmlWriter::end() {
  if (failure_) return;
  check(xmlTextWriterEndElement(writer_.get()));
}

void XmlWriter::text_element(const char* element, std::string_view text, std::string_view what) {
  if (!usable(text, what)) return;
  check(xmlTextWriterWriteElement(writer_.get(), xml(element), xml(std::string(text).c_str())));
}

void XmlWriter::secret_element(const char* element, std::string_view secret,
                               std::string_view what) {
  if (!usable(secret, what)) return;
  SecretBytes terminated(secret.size() + 1);  // zero-filled: the last byte ends the string
  std::copy(secret.begin(), secret.end(), terminated.data());
  check(xmlTextWriterWriteElement(writer_.get(), xml(element),
                                  reinterpret_cast<const xmlChar*>(terminated.data())));
}

Result<std::string> XmlWriter::finish() {
  if (!failure_) check(xmlTextWriterEndDocument(writer_.get()));
  if (!failure_) check(xmlTextWriterFlush(writer_.get()));
  if (failure_) return *failure_;
  return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer_.get())),
                     static_cast<std::size_t>(xmlBufferLength(buffer_.get())));
}

}  // namespace touchpass::web
