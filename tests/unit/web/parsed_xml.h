// A document the tests parse back with libxml2 (xmlReadMemory, no network, no entities) and
// read with XPath, so that they check what a client reads, not how the text looks.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpass::web::testing {

class ParsedXml {
 public:
  // Parses `text`; ok() is false when it is not well-formed XML.
  explicit ParsedXml(std::string_view text)
      : doc_(xmlReadMemory(text.data(), static_cast<int>(text.size()), "test.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) {
    if (doc_) context_.reset(xmlXPathNewContext(doc_.get()));
  }
  bool ok() const { return doc_ != nullptr && context_ != nullptr; }

  // The text of every node `xpath` selects, in document order.
  std::vector<std::string> all(const std::string& xpath) const {
    std::vector<std::string> out;
    std::unique_ptr<xmlXPathObject, FreeObject> result(
        xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath.c_str()), context_.get()));
    if (!result || result->type != XPATH_NODESET || result->nodesetval == nullptr) return out;
    for (int i = 0; i < result->nodesetval->nodeNr; ++i) {
      std::unique_ptr<xmlChar, FreeChars> content(
          xmlNodeGetContent(result->nodesetval->nodeTab[i]));
      out.emplace_back(content ? reinterpret_cast<const char*>(content.get()) : "");
    }
    return out;
  }
  // The text of the only node `xpath` selects; nullopt when it selects none or several.
  std::optional<std::string> one(const std::string& xpath) const {
    auto found = all(xpath);
    if (found.size() != 1) return std::nullopt;
    return found.front();
  }
  // How many nodes `xpath` selects.
  std::size_t count(const std::string& xpath) const { return all(xpath).size(); }

  xmlDoc* doc() const { return doc_.get(); }

 private:
  struct FreeDoc {
    void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
  };
  struct FreeContext {
    void operator()(xmlXPathContext* c) const { xmlXPathFreeContext(c); }
  };
  struct FreeObject {
    void operator()(xmlXPathObject* o) const { xmlXPathFreeObject(o); }
  };
  struct FreeChars {
    void operator()(xmlChar* c) const { xmlFree(c); }
  };
  std::unique_ptr<xmlDoc, FreeDoc> doc_;
  std::unique_ptr<xmlXPathContext, FreeContext> context_;
};

}  // namespace touchpass::web::testing
