// The generated catalog table: ordering, look-ups, the keys it must know, and the generator's
// refusal of a broken catalog.
#include "devices/catalog/catalog.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

namespace touchpass::devices::catalog {
namespace {

TEST(Catalog, TokensAreSortedAndUnique) {
  const auto tokens = all_tokens();
  ASSERT_FALSE(tokens.empty());
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_LT(std::tie(tokens[i - 1].vendor_id, tokens[i - 1].product_id),
              std::tie(tokens[i].vendor_id, tokens[i].product_id));
  }
}

TEST(Catalog, EveryEntryIsConsistent) {
  for (const CatalogEntry& e : all_tokens()) {
    SCOPED_TRACE(std::string(e.vendor) + " " + std::string(e.product));
    EXPECT_FALSE(e.vendor.empty());
    EXPECT_FALSE(e.product.empty());
    EXPECT_NE(e.interfaces, 0);
    EXPECT_NE(e.capabilities, 0);
    if (e.has_capability(kU2f) || e.has_capability(kFido2)) {
      EXPECT_TRUE(e.has_interface(kFidoHid));
    }
    if (e.has_capability(kHmacSecret)) {
      EXPECT_TRUE(e.has_capability(kFido2));
    }
    if (e.has_capability(kOtpChallengeResponse)) {
      EXPECT_TRUE(e.has_interface(kOtpHid));
    }
  }
}

TEST(Catalog, FindsEveryListedToken) {
  for (const CatalogEntry& e : all_tokens()) {
    EXPECT_EQ(find_token(e.vendor_id, e.product_id), &e);
  }
}

TEST(Catalog, UnknownIdsAreNotFound) {
  EXPECT_EQ(find_token(0x0000, 0x0000), nullptr);
  EXPECT_EQ(find_token(0x1050, 0x0404), nullptr);  // YubiKey CCID only: nothing touchpass uses
  EXPECT_EQ(find_token(0xffff, 0xffff), nullptr);
}

TEST(Catalog, KnowsTheKeysTouchpassSupports) {
  struct Expected {
    std::uint16_t vid, pid;
    std::uint8_t interfaces, capabilities;
  };
  const Expected expected[] = {
      {0x1050, 0x0407, kFidoHid | kOtpHid, kFido2 | kHmacSecret | kOtpChallengeResponse},
      {0x1050, 0x0401, kOtpHid, kOtpChallengeResponse},
      {0x1050, 0x0402, kFidoHid, kFido2 | kHmacSecret},
      {0x1050, 0x0120, kFidoHid, kFido2 | kHmacSecret},
      {0x20a0, 0x42b2, kFidoHid, kFido2 | kHmacSecret},  // Nitrokey 3
      {0x0483, 0xa2ca, kFidoHid, kFido2 | kHmacSecret},  // Solo 1
      {0x1209, 0xbeee, kFidoHid, kFido2 | kHmacSecret},  // Solo 2
      {0x18d1, 0x5026, kFidoHid, kFido2},                // Google Titan
      {0x096e, 0x0858, kFidoHid, kU2f},                  // Titan (Feitian)
      {0x349e, 0x0022, kFidoHid, kFido2},                // Token2 PIN+
      {0x1d50, 0x60fc, kFidoHid, kFido2},                // OnlyKey
  };
  for (const auto& x : expected) {
    const CatalogEntry* e = find_token(x.vid, x.pid);
    ASSERT_NE(e, nullptr) << std::hex << x.vid << ":" << x.pid;
    EXPECT_EQ(e->interfaces, x.interfaces) << std::hex << x.vid << ":" << x.pid;
    EXPECT_EQ(e->capabilities & x.capabilities, x.capabilities)
        << std::hex << x.vid << ":" << x.pid;
  }
  EXPECT_EQ(find_token(0x1050, 0x0407)->vendor, "Yubico");
}

TEST(Catalog, ModelsAreSortedUniqueAndFound) {
  const auto models = all_models();
  ASSERT_FALSE(models.empty());
  std::set<std::string_view> vendors;
  for (const CatalogEntry& e : all_tokens()) vendors.insert(e.vendor);
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(models[i - 1].aaguid, models[i].aaguid);
    }
    EXPECT_EQ(find_model(models[i].aaguid), &models[i]);
    EXPECT_EQ(vendors.count(models[i].vendor), 1u) << models[i].vendor;
  }
}

TEST(Catalog, FindModelIgnoresCaseAndRefusesMalformedAaguids) {
  const KnownModel* m = find_model("EE882879-721C-4913-9775-3DFCCE97072A");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->vendor, "Yubico");
  EXPECT_EQ(find_model("ee882879721c491397753dfcce97072a"), nullptr);
  EXPECT_EQ(find_model("ee882879-721c-4913-9775-3dfcce97072"), nullptr);
  EXPECT_EQ(find_model("ge882879-721c-4913-9775-3dfcce97072a"), nullptr);
  EXPECT_EQ(find_model("00000000-0000-0000-0000-000000000000"), nullptr);
  EXPECT_EQ(find_model(""), nullptr);
}

// Runs the generator on `catalog`; returns its exit status and standard error.
std::pair<int, std::string> generate(const std::string& catalog) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("touchpass-catalog-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokens.json") << catalog;
  const std::string command = std::string("'") + TOUCHPASS_CATALOG_GEN + "' '" +
                              (dir / "tokens.json").string() + "' '" + (dir / "t.cpp").string() +
                              "' '" + (dir / "t.rules").string() + "' 2>'" +
                              (dir / "err").string() + "'";
  const int status = std::system(command.c_str());
  std::ifstream err(dir / "err");
  std::ostringstream message;
  message << err.rdbuf();
  std::filesystem::remove_all(dir);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, message.str()};
}

const char* const kGoodToken =
    R"({"vid": "1050", "pid": "0407", "vendor": "Yubico", "product": "YubiKey 5",
        "interfaces": ["fido-hid", "otp-hid"], "capabilities": ["fido2", "otp-chalresp"]})";

TEST(CatalogGenerator, AcceptsAMinimalCatalog) {
  const auto [status, message] = generate(std::string(R"({"tokens": [)") + kGoodToken + "]}");
  EXPECT_EQ(status, 0) << message;
}

TEST(CatalogGenerator, RefusesBrokenCatalogsNamingTheReason) {
  const std::pair<std::string, std::string> cases[] = {
      {std::string(R"({"tokens": [)") + kGoodToken + "," + kGoodToken + "]}", "listed twice"},
      {R"({"tokens": [{"vid": "1050", "pid": "04O7", "vendor": "Y", "product": "P",
           "interfaces": ["fido-hid"], "capabilities": ["fido2"]}]})",
       "4 lowercase hex digits"},
      {R"({"tokens": [{"vid": "1050", "pid": "0407", "vendor": "Y", "product": "P",
           "interfaces": ["fido-hid"], "capabilities": ["otp-chalresp"]}]})",
       "needs the interface otp-hid"},
      {R"({"tokens": [{"vid": "1050", "pid": "0407", "vendor": "Y", "product": "P",
           "interfaces": ["ccid"], "capabilities": ["fido2"]}]})",
       "unknown interfaces entry"},
      {R"({"tokens": [{"vid": "1050", "pid": "0407", "vendor": "Y", "product": "P\"",
           "interfaces": ["fido-hid"], "capabilities": ["fido2"]}]})",
       "control character"},
      {std::string(R"({"tokens": [)") + kGoodToken +
           R"(], "models": [{"aaguid": "EE882879-721c-4913-9775-3dfcce97072a", "vendor": "Yubico", "name": "x"}]})",
       "8-4-4-4-12"},
      {std::string(R"({"tokens": [)") + kGoodToken +
           R"(], "models": [{"aaguid": "ee882879-721c-4913-9775-3dfcce97072a", "vendor": "Nobody", "name": "x"}]})",
       "no token has the vendor"},
      {"{\"tokens\": [", "not valid JSON"},
  };
  for (const auto& [catalog, reason] : cases) {
    const auto [status, message] = generate(catalog);
    EXPECT_EQ(status, 1) << catalog;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace touchpass::devices::catalog
