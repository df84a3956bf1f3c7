#include "core/service_catalog.h"

#include <gtest/gtest.h>

#include "core/verify_policy.h"

namespace touchpass {
namespace {

const std::vector<MailService> kServices = default_mail_services();

std::string message_of(const Result<std::vector<std::string>>& r) {
  return r.ok() ? std::string() : r.error().message;
}

TEST(ServiceCatalog, TheDefaultsAreTheMailServicesEachDescribed) {
  std::vector<std::string> names;
  for (const auto& s : kServices) {
    names.push_back(s.name);
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_EQ(service_name_problem(s.name), "") << s.name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"imap", "pop3", "smtp", "sieve", "caldav", "carddav"}));
}

TEST(ServiceCatalog, KnownScopesResolveInAnyCaseSortedWithoutRepeats) {
  auto scopes = resolve_scopes(kServices, {"SMTP", "imap", "Imap"}, false);
  ASSERT_TRUE(scopes.ok()) << message_of(scopes);
  EXPECT_EQ(*scopes, (std::vector<std::string>{"imap", "smtp"}));
}

TEST(ServiceCatalog, EveryServiceOnlyWhenAskedForExplicitly) {
  auto every = resolve_scopes(kServices, {}, true);
  ASSERT_TRUE(every.ok());
  EXPECT_TRUE(every->empty());

  auto nothing = resolve_scopes(kServices, {}, false);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.code(), Code::invalid_argument);
  EXPECT_NE(message_of(nothing).find("Say which services"), std::string::npos);
  EXPECT_NE(message_of(nothing).find("imap (IMAP: reading mail)"), std::string::npos);

  auto both = resolve_scopes(kServices, {"imap"}, true);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.code(), Code::invalid_argument);
}

TEST(ServiceCatalog, AMistypedScopeIsRefusedNamedWithTheNearestAndTheList) {
  auto typo = resolve_scopes(kServices, {"imap", "smpt"}, false);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.code(), Code::invalid_argument);
  const std::string m = message_of(typo);
  EXPECT_NE(m.find("\"smpt\" is not a service of this server"), std::string::npos) << m;
  EXPECT_NE(m.find("Did you mean \"smtp\"?"), std::string::npos) << m;
  EXPECT_NE(m.find("carddav (CardDAV: contacts)"), std::string::npos) << m;

  const std::string far = message_of(resolve_scopes(kServices, {"webmail"}, false));
  EXPECT_NE(far.find("\"webmail\" is not a service"), std::string::npos) << far;
  EXPECT_EQ(far.find("Did you mean"), std::string::npos) << far;

  EXPECT_NE(message_of(resolve_scopes(kServices, {"IMAPP"}, false)).find("Did you mean \"imap\"?"),
            std::string::npos);
}

TEST(ServiceCatalog, AnEmptyScopeOrOneUnsafeToShowIsRefusedWithoutEchoingIt) {
  EXPECT_FALSE(resolve_scopes(kServices, {""}, false).ok());
  const std::string m = message_of(resolve_scopes(kServices, {"imap", "\x1b[2Jx"}, false));
  EXPECT_NE(m.find("Service 2 is not a service"), std::string::npos) << m;
  EXPECT_EQ(m.find('\x1b'), std::string::npos);
  // "all" is the word for every service, never a scope.
  EXPECT_FALSE(resolve_scopes(kServices, {"all"}, false).ok());
}

TEST(ServiceCatalog, OnlyAConfiguredListIsAccepted) {
  const std::vector<MailService> own = {{"imap", "Mail"}, {"xmpp", "Chat"}};
  EXPECT_TRUE(resolve_scopes(own, {"XMPP"}, false).ok());
  EXPECT_FALSE(resolve_scopes(own, {"smtp"}, false).ok());
}

TEST(ServiceCatalog, ServiceNamesAreCheckedForTheConfiguration) {
  EXPECT_EQ(service_name_problem("managesieve"), "");
  EXPECT_NE(service_name_problem(""), "");
  EXPECT_NE(service_name_problem("IMAP"), "");
  EXPECT_NE(service_name_problem("im ap"), "");
  EXPECT_NE(service_name_problem(std::string(33, 'a')), "");
  EXPECT_NE(service_name_problem("all"), "");
}

TEST(ServiceCatalog, VerificationMatchesTheServiceCaseInsensitively) {
  const std::vector<std::string> scopes = {"imap"};
  GrantFacts grant{.user = "alice", .name = "mail", .scopes = &scopes};
  EXPECT_EQ(decide(grant, {"alice", "IMAP", ""}, 0), VerifyDecision::accepted);
  EXPECT_EQ(decide(grant, {"alice", "imap", ""}, 0), VerifyDecision::accepted);
  EXPECT_EQ(decide(grant, {"alice", "smtp", ""}, 0), VerifyDecision::wrong_service);
  EXPECT_EQ(decide(grant, {"alice", "imapx", ""}, 0), VerifyDecision::wrong_service);
}

}  // namespace
}  // namespace touchpass
