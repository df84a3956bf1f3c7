// touchpass-catalog-gen: turns the catalog (tokens.json) into the C++ table behind catalog.h and
// into the udev rules (udev/70-touchpass.rules). Run by the build; a file is rewritten only when
// its content changes.
//
//   touchpass-catalog-gen TOKENS_JSON OUT_CPP OUT_RULES
//
// It checks the catalog first and refuses it, naming the entry and the reason, when an id is
// malformed or repeated, a name is empty or holds control characters or quotes, an interface
// or capability is unknown, a capability needs an interface the entry lacks, or an AAGUID is
// malformed, repeated or belongs to a vendor no token has. Exit status: 0 done, 1 refused or
// I/O error, 2 usage.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

struct Token {
  std::string vid;  // 4 lowercase hex digits
  std::string pid;
  std::string vendor;
  std::string product;
  std::vector<std::string> interfaces;
  std::vector<std::string> capabilities;
  std::string note;
};

struct Model {
  std::string aaguid;
  std::string vendor;
  std::string name;
};

class CatalogError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

const std::map<std::string, std::string> kInterfaceConstants = {
    {"fido-hid", "kFidoHid"},
    {"otp-hid", "kOtpHid"},
};
const std::map<std::string, std::string> kCapabilityConstants = {
    {"u2f", "kU2f"},
    {"fido2", "kFido2"},
    {"hmac-secret", "kHmacSecret"},
    {"otp-chalresp", "kOtpChallengeResponse"},
};
// The interface each capability is reached through.
const std::map<std::string, std::string> kCapabilityInterface = {
    {"u2f", "fido-hid"},
    {"fido2", "fido-hid"},
    {"hmac-secret", "fido-hid"},
    {"otp-chalresp", "otp-hid"},
};

bool is_hex(const std::string& s, std::size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_aaguid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(std::string(1, s[i]), 1)) return false;
  }
  return true;
}

// Printable text that can go into a C++ string literal and a udev comment unchanged.
std::string text(const json& object, const char* key, bool required, const std::string& where) {
  if (!object.contains(key)) {
    if (required) throw CatalogError(where + ": \"" + key + "\" is missing");
    return "";
  }
  if (!object.at(key).is_string()) throw CatalogError(where + ": \"" + key + "\" is not a string");
  const std::string value = object.at(key).get<std::string>();
  if (required && value.empty()) throw CatalogError(where + ": \"" + key + "\" is empty");
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      throw CatalogError(where + ": \"" + key + "\" holds a control character, '\"' or '\\'");
    }
  }
  return value;
}

std::vector<std::string> names(const json& object, const char* key,
                               const std::map<std::string, std::string>& known,
                               const std::string& where) {
  if (!object.contains(key) || !object.at(key).is_array() || object.at(key).empty()) {
    throw CatalogError(where + ": \"" + key + "\" must be a non-empty list");
  }
  std::vector<std::string> out;
  for (const auto& item : object.at(key)) {
    if (!item.is_string() || known.count(item.get<std::string>()) == 0) {
      throw CatalogError(where + ": unknown " + key + " entry " + item.dump());
    }
    if (std::find(out.begin(), out.end(), item.get<std::string>()) != out.end()) {
      throw CatalogError(where + ": " + key + " lists " + item.dump() + " twice");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

void check_keys(const json& object, const std::set<std::string>& allowed,
                const std::string& where) {
  if (!object.is_object()) throw CatalogError(where + ": not an object");
  for (const auto& [key, value] : object.items()) {
    if (allowed.count(key) == 0) throw CatalogError(where + ": unknown key \"" + key + "\"");
  }
}

std::vector<Token> read_tokens(const json& root) {
  if (!root.contains("tokens") || !root.at("tokens").is_array()) {
    throw CatalogError("\"tokens\" must be a list");
  }
  std::vector<Token> tokens;
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& item : root.at("tokens")) {
    const std::string where = "tokens[" + std::to_string(index++) + "]";
    check_keys(item, {"vid", "pid", "vendor", "product", "interfaces", "capabilities", "note"},
               where);
    Token t;
    t.vid = text(item, "vid", true, where);
    t.pid = text(item, "pid", true, where);
    if (!is_hex(t.vid, 4) || !is_hex(t.pid, 4)) {
      throw CatalogError(where + ": vid and pid must be 4 lowercase hex digits");
    }
    const std::string id = t.vid + ":" + t.pid;
    if (!seen.insert(id).second) throw CatalogError(where + ": " + id + " is listed twice");
    t.vendor = text(item, "vendor", true, where);
    t.product = text(item, "product", true, where);
    t.note = text(item, "note", false, where);
    t.interfaces = names(item, "interfaces", kInterfaceConstants, where + " (" + id + ")");
    t.capabilities = names(item, "capabilities", kCapabilityConstants, where + " (" + id + ")");
    for (const auto& capability : t.capabilities) {
      const std::string& needed = kCapabilityInterface.at(capability);
      if (std::find(t.interfaces.begin(), t.interfaces.end(), needed) == t.interfaces.end()) {
        throw CatalogError(where + " (" + id + "): capability " + capability +
                           " needs the interface " + needed);
      }
    }
    const auto has = [&](const char* c) {
      return std::find(t.capabilities.begin(), t.capabilities.end(), c) != t.capabilities.end();
    };
    if (has("hmac-secret") && !has("fido2")) {
      throw CatalogError(where + " (" + id + "): hmac-secret needs fido2");
    }
    for (const auto& interface : t.interfaces) {
      const bool used = std::any_of(
          t.capabilities.begin(), t.capabilities.end(),
          [&](const std::string& c) { return kCapabilityInterface.at(c) == interface; });
      if (!used) {
        throw CatalogError(where + " (" + id + "): no capability uses the interface " + interface);
      }
    }
    tokens.push_back(std::move(t));
  }
  if (tokens.empty()) throw CatalogError("\"tokens\" is empty");
  std::sort(tokens.begin(), tokens.end(), [](const Token& a, const Token& b) {
    return std::tie(a.vid, a.pid) < std::tie(b.vid, b.pid);
  });
  return tokens;
}

std::vector<Model> read_models(const json& root, const std::vector<Token>& tokens) {
  std::vector<Model> models;
  if (!root.contains("models")) return models;
  if (!root.at("models").is_array()) throw CatalogError("\"models\" must be a list");
  std::set<std::string> vendors;
  for (const auto& t : tokens) vendors.insert(t.vendor);
  std::set<std::string> seen;
  std::size_t index = 0;
  for (const auto& item : root.at("models")) {
    const std::string where = "models[" + std::to_string(index++) + "]";
    check_keys(item, {"aaguid", "vendor", "name"}, where);
    Model m;
    m.aaguid = text(item, "aaguid", true, where);
    if (!is_aaguid(m.aaguid)) {
      throw CatalogError(where + ": the aaguid must be lowercase 8-4-4-4-12 hex digits");
    }
    if (!seen.insert(m.aaguid).second)
      throw CatalogError(where + ": " + m.aaguid + " is listed twice");
    m.vendor = text(item, "vendor", true, where);
    if (vendors.count(m.vendor) == 0) {
      throw CatalogError(where + ": no token has the vendor \"" + m.vendor + "\"");
    }
    m.name = text(item, "name", true, where);
    models.push_back(std::move(m));
  }
  std::sort(models.begin(), models.end(),
            [](const Model& a, const Model& b) { return a.aaguid < b.aaguid; });
  return models;
}

std::string mask(const std::vector<std::string>& items,
                 const std::map<std::string, std::string>& constants) {
  std::vector<std::string> parts;
  for (const auto& [name, constant] : constants) {
    if (std::find(items.begin(), items.end(), name) != items.end()) parts.push_back(constant);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " | ") + p;
  return out;
}

std::string cpp_table(const std::vector<Token>& tokens, const std::vector<Model>& models) {
  std::ostringstream out;
  out << "// Generated by touchpass-catalog-gen from devices/catalog/tokens.json. Do not edit.\n"
      << "#include \"devices/catalog/catalog.h\"\n\n"
      << "namespace touchpass::devices::catalog {\n\nnamespace {\n\n"
      << "constexpr CatalogEntry kTokens[] = {\n";
  for (const auto& t : tokens) {
    out << "    {0x" << t.vid << ", 0x" << t.pid << ", \"" << t.vendor << "\", \"" << t.product
        << "\", static_cast<std::uint8_t>(" << mask(t.interfaces, kInterfaceConstants)
        << "), static_cast<std::uint8_t>(" << mask(t.capabilities, kCapabilityConstants) << "), \""
        << t.note << "\"},\n";
  }
  out << "};\n\n";
  if (models.empty()) {
    out << "constexpr std::span<const KnownModel> kModels{};\n";
  } else {
    out << "constexpr KnownModel kModels[] = {\n";
    for (const auto& m : models) {
      out << "    {\"" << m.aaguid << "\", \"" << m.vendor << "\", \"" << m.name << "\"},\n";
    }
    out << "};\n";
  }
  out << "\n}  // namespace\n\n"
      << "std::span<const CatalogEntry> all_tokens() { return kTokens; }\n\n"
      << "std::span<const KnownModel> all_models() { return kModels; }\n\n"
      << "}  // namespace touchpass::devices::catalog\n";
  return out.str();
}

bool has(const std::vector<std::string>& items, const char* item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::string udev_rules(const std::vector<Token>& tokens) {
  constexpr const char* kAccess = "TAG+=\"uaccess\"";
  std::ostringstream out;
  out << "# touchpass: known security keys. Generated by touchpass-catalog-gen from\n"
      << "# devices/catalog/tokens.json; do not edit. After changing the catalog, run\n"
      << "#   cmake --build BUILD_DIR --target update-udev-rules\n"
      << "#\n"
      << "# A known key's interfaces get the uaccess tag (the user at the seat may use the key: "
         "the\n"
      << "# touchpass client talks to it; touchpassd opens no device) and the properties the\n"
      << "# client's device monitor filters on: TOUCHPASS_TOKEN=1 and TOUCHPASS_KIND.\n"
      << "#   fido2    the FIDO HID interface (hidraw; fido_id marked it ID_FIDO_TOKEN=1 in\n"
      << "#            60-fido-id.rules, so a key's keyboard interface is never matched)\n"
      << "#   yubikey  the USB device of a YubiKey with the OTP application (libykpers uses "
         "libusb)\n"
      << "\n"
      << "ACTION==\"remove\", GOTO=\"touchpass_end\"\n"
      << "SUBSYSTEM==\"hidraw\", ENV{ID_FIDO_TOKEN}==\"1\", GOTO=\"touchpass_fido\"\n"
      << "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", GOTO=\"touchpass_usb\"\n"
      << "GOTO=\"touchpass_end\"\n"
      << "\n"
      << "LABEL=\"touchpass_fido\"\n";
  for (const auto& t : tokens) {
    if (!has(t.interfaces, "fido-hid")) continue;
    out << "# " << t.vendor << " " << t.product << "\n"
        << "ATTRS{idVendor}==\"" << t.vid << "\", ATTRS{idProduct}==\"" << t.pid
        << "\", ENV{TOUCHPASS_TOKEN}=\"1\", ENV{TOUCHPASS_KIND}=\"fido2\", " << kAccess << "\n";
  }
  out << "GOTO=\"touchpass_end\"\n"
      << "\n"
      << "LABEL=\"touchpass_usb\"\n";
  for (const auto& t : tokens) {
    if (!has(t.interfaces, "otp-hid")) continue;
    out << "# " << t.vendor << " " << t.product << "\n"
        << "ATTR{idVendor}==\"" << t.vid << "\", ATTR{idProduct}==\"" << t.pid
        << "\", ENV{TOUCHPASS_TOKEN}=\"1\", ENV{TOUCHPASS_KIND}=\"yubikey\", " << kAccess << "\n";
  }
  out << "\n"
      << "LABEL=\"touchpass_end\"\n";
  return out.str();
}

// Writes `content` to `path` unless the file already holds exactly that.
void write_if_changed(const std::string& path, const std::string& content) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      if (old.str() == content) return;
    }
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "Usage: touchpass-catalog-gen TOKENS_JSON OUT_CPP OUT_RULES\n";
    return 2;
  }
  const std::string source = argv[1];
  try {
    std::ifstream in(source, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + source);
    json root;
    try {
      root = json::parse(in);
    } catch (const json::parse_error& e) {
      throw CatalogError(std::string("not valid JSON: ") + e.what());
    }
    check_keys(root, {"about", "tokens", "models"}, "the top level");
    const std::vector<Token> tokens = read_tokens(root);
    const std::vector<Model> models = read_models(root, tokens);
    write_if_changed(argv[2], cpp_table(tokens, models));
    write_if_changed(argv[3], udev_rules(tokens));
  } catch (const CatalogError& e) {
    std::cerr << source << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "touchpass-catalog-gen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
