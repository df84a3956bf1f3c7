// udev/70-touchpass.rules: every line follows a strict subset of the udev rules grammar
// (udev(7)), and the rules and the catalog agree both ways: every catalog interface has exactly
// one rule giving the expected access, and every rule comes from the catalog.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "devices/catalog/catalog.h"

namespace touchpass::devices::catalog {
namespace {

struct Token {
  std::string key;        // e.g. "ENV"
  std::string attribute;  // e.g. "TOUCHPASS_KIND", empty for keys without {}
  std::string op;
  std::string value;
};

struct Rule {
  int line = 0;
  std::string section;  // the last LABEL before it ("" before any)
  std::vector<Token> tokens;

  std::optional<std::string> find(const std::string& key, const std::string& attribute,
                                  const std::string& op) const {
    for (const auto& t : tokens)
      if (t.key == key && t.attribute == attribute && t.op == op) return t.value;
    return std::nullopt;
  }
};

// Which operators each key accepts, and whether it takes an {attribute}.
struct KeySpec {
  bool attribute;
  std::set<std::string> ops;
};
const std::map<std::string, KeySpec>& key_specs() {
  static const std::map<std::string, KeySpec> specs = {
      {"ACTION", {false, {"==", "!="}}},
      {"SUBSYSTEM", {false, {"==", "!="}}},
      {"KERNEL", {false, {"==", "!="}}},
      {"ATTRS", {true, {"==", "!="}}},
      {"ATTR", {true, {"==", "!=", "="}}},
      {"ENV", {true, {"==", "!=", "=", "+="}}},
      {"TAG", {false, {"==", "!=", "+=", "-="}}},
      {"GROUP", {false, {"=", ":="}}},
      {"MODE", {false, {"=", ":="}}},
      {"GOTO", {false, {"="}}},
      {"LABEL", {false, {"="}}},
  };
  return specs;
}

bool is_match(const std::string& op) {
  return op == "==" || op == "!=";
}

// Parses one rule line; on error returns nullopt and sets `error`.
std::optional<std::vector<Token>> parse_line(const std::string& line, std::string& error) {
  static const std::regex token_re(
      R"(^([A-Z]+)(\{([A-Za-z0-9_]+)\})?(==|!=|\+=|-=|:=|=)\"([^\"\\]*)\"$)");
  std::vector<Token> tokens;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = line.find(", ", pos);
    const std::string part =
        line.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    std::smatch m;
    if (!std::regex_match(part, m, token_re)) {
      error = "malformed token \"" + part + "\"";
      return std::nullopt;
    }
    Token t{m[1], m[3], m[4], m[5]};
    const auto spec = key_specs().find(t.key);
    if (spec == key_specs().end()) {
      error = "unknown key " + t.key;
      return std::nullopt;
    }
    if (spec->second.attribute != !t.attribute.empty()) {
      error = t.key + (spec->second.attribute ? " needs" : " takes no") + " {attribute}";
      return std::nullopt;
    }
    if (spec->second.ops.count(t.op) == 0) {
      error = "operator " + t.op + " is not allowed for " + t.key;
      return std::nullopt;
    }
    tokens.push_back(std::move(t));
    if (comma == std::string::npos) break;
    pos = comma + 2;
  }
  return tokens;
}

struct Parsed {
  std::vector<Rule> rules;
  std::vector<std::string> errors;
};

Parsed parse_rules_file() {
  Parsed parsed;
  std::ifstream in(TOUCHPASS_UDEV_RULES);
  if (!in) {
    parsed.errors.push_back("cannot read " + std::string(TOUCHPASS_UDEV_RULES));
    return parsed;
  }
  std::string line;
  std::string section;
  std::set<std::string> labels;
  std::vector<std::pair<int, std::string>> gotos;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto fail = [&](const std::string& why) {
      parsed.errors.push_back("line " + std::to_string(number) + ": " + why);
    };
    if (line.empty() || line[0] == '#') continue;
    if (line.back() == '\\') {
      fail("continuation lines are not used");
      continue;
    }
    std::string error;
    auto tokens = parse_line(line, error);
    if (!tokens) {
      fail(error);
      continue;
    }
    Rule rule{number, section, std::move(*tokens)};
    bool has_match = false;
    bool has_action = false;
    for (std::size_t i = 0; i < rule.tokens.size(); ++i) {
      const Token& t = rule.tokens[i];
      if (t.key == "LABEL") {
        if (rule.tokens.size() != 1) fail("LABEL stands alone on its line");
        if (!labels.insert(t.value).second) fail("LABEL " + t.value + " is defined twice");
        section = t.value;
      } else if (t.key == "GOTO") {
        if (i + 1 != rule.tokens.size()) fail("GOTO is the last token of its rule");
        gotos.emplace_back(number, t.value);
        has_action = true;
      } else if (is_match(t.op)) {
        if (has_action) fail("match " + t.key + " after an assignment");
        has_match = true;
      } else {
        has_action = true;
      }
      if (t.key == "GROUP" && t.value != "touchpass") fail("GROUP is not touchpass");
      if (t.key == "MODE" && !std::regex_match(t.value, std::regex("0[0-7]{3}")))
        fail("MODE is not an octal mode");
    }
    if (rule.tokens[0].key != "LABEL" && !has_match && rule.tokens[0].key != "GOTO")
      fail("a rule without a match would apply to every device");
    parsed.rules.push_back(std::move(rule));
  }
  // udev jumps forward only: every GOTO needs a LABEL after it.
  for (const auto& [from, label] : gotos) {
    bool found = false;
    for (const Rule& r : parsed.rules)
      if (r.line > from && r.tokens[0].key == "LABEL" && r.tokens[0].value == label) found = true;
    if (!found)
      parsed.errors.push_back("line " + std::to_string(from) + ": GOTO " + label +
                              " has no LABEL after it");
  }
  return parsed;
}

std::string hex4(std::uint16_t v) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "%04x", v);
  return buf;
}

TEST(UdevRules, EveryLineFollowsTheGrammar) {
  const Parsed parsed = parse_rules_file();
  for (const auto& e : parsed.errors) ADD_FAILURE() << TOUCHPASS_UDEV_RULES << ": " << e;
  EXPECT_FALSE(parsed.rules.empty());
}

TEST(UdevRules, TheParserRejectsWhatUdevWouldNot) {
  std::string error;
  EXPECT_FALSE(parse_line("ATTRS{idVendor}=\"1050\"", error));  // assignment to a match key
  EXPECT_FALSE(parse_line("GROUP==\"touchpass\"", error));
  EXPECT_FALSE(parse_line("ENV=\"1\"", error));  // ENV without {name}
  EXPECT_FALSE(parse_line("SUBSYSTEM{x}==\"usb\"", error));
  EXPECT_FALSE(parse_line("OWNER=\"root\"", error));  // not a key these rules use
  EXPECT_FALSE(parse_line("TAG+=\"uaccess\",GROUP=\"touchpass\"", error));  // ", " separates
  EXPECT_FALSE(parse_line("MODE=\"0660", error));
  EXPECT_TRUE(parse_line("SUBSYSTEM==\"usb\", TAG+=\"uaccess\"", error)) << error;
}

TEST(UdevRules, OnlyFidoInterfacesAndUsbDevicesEnterTheSections) {
  const Parsed parsed = parse_rules_file();
  std::map<std::string, const Rule*> entry;  // label -> the rule that jumps there
  for (const Rule& r : parsed.rules)
    if (r.tokens.back().key == "GOTO") entry[r.tokens.back().value] = &r;
  ASSERT_TRUE(entry.count("touchpass_fido"));
  ASSERT_TRUE(entry.count("touchpass_usb"));
  EXPECT_EQ(entry["touchpass_fido"]->find("SUBSYSTEM", "", "=="), "hidraw");
  EXPECT_EQ(entry["touchpass_fido"]->find("ENV", "ID_FIDO_TOKEN", "=="), "1");
  EXPECT_EQ(entry["touchpass_usb"]->find("SUBSYSTEM", "", "=="), "usb");
  EXPECT_EQ(entry["touchpass_usb"]->find("ENV", "DEVTYPE", "=="), "usb_device");
}

TEST(UdevRules, RulesAndCatalogAgreeBothWays) {
  const Parsed parsed = parse_rules_file();
  ASSERT_TRUE(parsed.errors.empty());
  struct Section {
    std::string label, id_key, kind;
    std::uint8_t interface;
  };
  const Section sections[] = {
      {"touchpass_fido", "ATTRS", "fido2", kFidoHid},
      {"touchpass_usb", "ATTR", "yubikey", kOtpHid},
  };
  for (const Section& s : sections) {
    std::set<std::string> from_rules;
    for (const Rule& r : parsed.rules) {
      const auto vid = r.find(s.id_key, "idVendor", "==");
      const auto pid = r.find(s.id_key, "idProduct", "==");
      if (r.section != s.label) {
        if (vid || pid) ADD_FAILURE() << "line " << r.line << ": an id rule outside a section";
        continue;
      }
      if (r.tokens[0].key == "LABEL" || r.tokens.back().key == "GOTO") continue;
      SCOPED_TRACE("line " + std::to_string(r.line));
      ASSERT_TRUE(vid && pid) << "every rule in " << s.label << " matches one USB id";
      EXPECT_TRUE(from_rules.insert(*vid + ":" + *pid).second) << *vid << ":" << *pid << " twice";
      EXPECT_EQ(r.find("ENV", "TOUCHPASS_TOKEN", "="), "1");
      EXPECT_EQ(r.find("ENV", "TOUCHPASS_KIND", "="), s.kind);
      // The user at the seat, whose client talks to the key; no group (touchpassd opens no
      // device, and nobody else needs one).
      EXPECT_EQ(r.find("TAG", "", "+="), "uaccess");
      EXPECT_FALSE(r.find("GROUP", "", "="));
      EXPECT_FALSE(r.find("MODE", "", "="));
    }
    std::set<std::string> from_catalog;
    for (const CatalogEntry& e : all_tokens())
      if (e.has_interface(s.interface))
        from_catalog.insert(hex4(e.vendor_id) + ":" + hex4(e.product_id));
    EXPECT_EQ(from_rules, from_catalog) << "section " << s.label;
    EXPECT_FALSE(from_catalog.empty());
  }
}

}  // namespace
}  // namespace touchpass::devices::catalog
