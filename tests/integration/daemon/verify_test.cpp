// Verification through the real daemon: what is accepted, what is refused (and that the
// caller is never told why), who may ask, brute-force protection that survives a restart, and
// last_used recorded without a synchronous write per login.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "daemon/daemon_harness.h"
#include "store/sqlite_store.h"

namespace touchpass::testing {
namespace {

using namespace std::chrono_literals;
using ipc::Json;

class VerifyTest : public ::testing::Test {
 protected:
  void start(Deployment::Options options) {
    deployment_ = std::make_unique<Deployment>(std::move(options));
    ASSERT_TRUE(deployment_->start_token());
    ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
    ASSERT_EQ(::chmod(deployment_->token_socket().c_str(), 0666), 0);  // nobody may use it too
  }
  void SetUp() override {
    {
      Deployment::Options options;
      options.extra_config = "failure_delay_ms = 0\n";
      start(options);
    }
  }

  std::optional<Exchange> call(const Json& request, const std::string& pin = "123456") {
    auto client = Client::connect(deployment_->socket());
    if (!client) return std::nullopt;
    return client->call(request, pin);
  }

  // Issues an app password for root; returns it.
  std::string issue(const std::string& name, Json extra = Json::object()) {
    extra["name"] = name;
    auto issued = call(req("issue", extra));
    EXPECT_TRUE(issued && issued->final.kind == ipc::Reply::Kind::ok)
        << (issued ? issued->final.error.message : "no answer");
    return issued ? issued->secret : "";
  }

  // Asks the daemon (as root, a permitted caller) to verify.
  Code verify(const std::string& user, const std::string& password, const std::string& service,
              const std::string& remote = "") {
    auto client = Client::connect(deployment_->socket());
    if (!client) return Code::io_error;
    Json r = req("verify", {{"user", user}, {"service", service}});
    if (!remote.empty()) r["remote"] = remote;
    auto ex = client->send(r, password);
    if (!ex) return Code::io_error;
    if (ex->final.kind == ipc::Reply::Kind::ok) return Code::ok;
    EXPECT_EQ(ex->final.error.message, "Refused.");  // never why
    return ex->final.error.code;
  }

  std::vector<std::string> verify_audit_details() {
    auto log = call(req("log", {{"all_users", true}}));
    std::vector<std::string> details;
    for (const auto& e : log->final.body["entries"]) {
      if (e["action"] == "verify") {
        details.push_back(e["result"].get<std::string>() + ": " + e["detail"].get<std::string>());
      }
    }
    return details;
  }

  std::unique_ptr<Deployment> deployment_;
};

TEST_F(VerifyTest, AcceptsTheRightPasswordForItsScopesAndRefusesEverythingElse) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue("mail", {{"scopes", {"imap"}}});
  const std::string any = issue("anything");
  EXPECT_EQ(verify("root", mail, "imap"), Code::ok);
  // What a person might type: upper case, spaces instead of dashes, O for 0.
  std::string typed = mail;
  for (auto& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::toupper(c));
  EXPECT_EQ(verify("root", typed, "imap"), Code::ok);
  EXPECT_EQ(verify("root", any, "smtp"), Code::ok);  // no scopes: every service

  EXPECT_EQ(verify("root", mail, "smtp"), Code::refused);  // not its scope
  EXPECT_EQ(verify("root", "k7qm-x9fj-4tca-2hwe-p3vn", "imap"), Code::refused);
  EXPECT_EQ(verify("root", "not a password", "imap"), Code::refused);
  EXPECT_EQ(verify("nobody", mail, "imap"), Code::refused);  // another user's
  ASSERT_EQ(call(req("revoke", {{"name", "mail"}}))->final.kind, ipc::Reply::Kind::ok);
  EXPECT_EQ(verify("root", mail, "imap"), Code::refused);  // revoked

  // The log says why, aggregated per user, source and service.
  std::string details;
  for (const auto& d : verify_audit_details()) details += d + "\n";
  for (const char* reason :
       {"refused: 1 refusal from (no address)", "app password \"mail\" is not for smtp",
        "unknown password", "not an app password", "a password that is not this user's",
        "revoked app password \"mail\""}) {
    EXPECT_NE(details.find(reason), std::string::npos) << reason << " in\n" << details;
  }
}

TEST_F(VerifyTest, ARestrictedPasswordIsAcceptedOnlyFromItsNetworks) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string office =
      issue("office", {{"networks", {"2001:db8::/32", "192.168.0.0/16", "::ffff:10.1.2.0/120"}}});
  EXPECT_EQ(verify("root", office, "imap", "192.168.7.1"), Code::ok);
  EXPECT_EQ(verify("root", office, "imap", "::ffff:192.168.7.1"), Code::ok);
  EXPECT_EQ(verify("root", office, "imap", "10.1.2.3"), Code::ok);
  EXPECT_EQ(verify("root", office, "imap", "2001:db8:1::25"), Code::ok);
  EXPECT_EQ(verify("root", office, "imap", "198.51.100.7"), Code::refused);
  EXPECT_EQ(verify("root", office, "imap", "2001:db9::25"), Code::refused);
  EXPECT_EQ(verify("root", office, "imap"), Code::refused);  // no address: fail closed
  EXPECT_EQ(verify("root", office, "imap", "mail.example.org"), Code::refused);

  // `list` shows the restriction, canonically and sorted.
  auto listed = call(req("list"));
  ASSERT_TRUE(listed && listed->final.kind == ipc::Reply::Kind::ok);
  ASSERT_EQ(listed->final.body["grants"].size(), 1u);
  EXPECT_EQ(listed->final.body["grants"][0]["networks"],
            Json({"10.1.2.0/24", "192.168.0.0/16", "2001:db8::/32"}));

  // The log says why, with the address and the grant; the caller never learnt it.
  std::string details;
  for (const auto& d : verify_audit_details()) details += d + "\n";
  for (const char* reason :
       {"refused: 1 refusal from 198.51.100.7",
        "app password \"office\" is not for address 198.51.100.7 (restricted to "
        "10.1.2.0/24,192.168.0.0/16,2001:db8::/32)",
        "app password \"office\" is not for address 2001:db9::25",
        "app password \"office\" is not for a client without an address",
        "app password \"office\" is not for address mail.example.org"}) {
    EXPECT_NE(details.find(reason), std::string::npos) << reason << " in\n" << details;
  }
  // Each refusal counted as a failure of its source, as for any other refusal.
  auto throttled = call(req("list"));
  ASSERT_TRUE(throttled);
  EXPECT_EQ(throttled->final.body["throttle"]["recent_failures"], 4);
}

TEST_F(VerifyTest, ABadNetworkAtIssueIsRefusedByNameAndNothingIsStored) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  for (const char* bad : {"192.168.1.7/24", "192.168.0.0/33", "mail.example.org"}) {
    auto issued = call(req("issue", {{"name", "office"}, {"networks", {"10.0.0.0/8", bad}}}));
    ASSERT_TRUE(issued);
    EXPECT_EQ(issued->final.kind, ipc::Reply::Kind::error) << bad;
    EXPECT_EQ(issued->final.error.code, Code::invalid_argument) << bad;
    EXPECT_NE(issued->final.error.message.find(std::string("\"") + bad + "\""), std::string::npos)
        << issued->final.error.message;
    EXPECT_TRUE(issued->secret.empty());
  }
  Json many = Json::array();
  for (int i = 0; i < 33; ++i) many.push_back("10.0.0." + std::to_string(i));
  auto too_many = call(req("issue", {{"name", "office"}, {"networks", many}}));
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->final.error.code, Code::invalid_argument);
  auto listed = call(req("list"));
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->final.body["grants"].empty());
  // The name is still free.
  EXPECT_FALSE(issue("office", {{"networks", {"10.0.0.0/8"}}}).empty());
}

TEST_F(VerifyTest, AnExpiredPasswordIsRefused) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const auto soon = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count() +
                    2;
  const std::string password = issue("short", {{"expires", soon}});
  EXPECT_EQ(verify("root", password, "imap"), Code::ok);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(verify("root", password, "imap"), Code::refused);
  EXPECT_NE(verify_audit_details().back().find("expired app password \"short\""),
            std::string::npos);
}

TEST_F(VerifyTest, OnlyRootAndTheServiceGroupMayVerify) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string password = issue("mail");
  auto ex = call_as(kNobody, kNogroup, deployment_->socket(),
                    req("verify", {{"user", "root"}, {"service", "imap"}}), "", password);
  ASSERT_TRUE(ex);
  EXPECT_EQ(ex->final.error.code, Code::permission_denied);
  EXPECT_NE(ex->final.error.message.find("touchpass-service"), std::string::npos);
}

TEST_F(VerifyTest, FailuresAreSlowedThenTheSourceIsLockedAcrossARestart) {
  {
    Deployment::Options options;
    options.extra_config = "failure_delay_ms = 100\nlockout_failures = 3\nlockout_seconds = 600\n";
    start(options);
  }
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string password = issue("mail");
  const std::string wrong = "k7qm-x9fj-4tca-2hwe-p3vn";
  std::vector<std::chrono::steady_clock::duration> took;
  for (int i = 0; i < 3; ++i) {
    const auto start_time = std::chrono::steady_clock::now();
    EXPECT_EQ(verify("root", wrong, "imap", "192.0.2.9"), Code::refused);
    took.push_back(std::chrono::steady_clock::now() - start_time);
  }
  // Lower bounds only: each failure waits at least 100, 200, 400 ms.
  EXPECT_GE(took[0], 100ms);
  EXPECT_GE(took[1], 200ms);
  EXPECT_GE(took[2], 400ms);
  // The source is locked: even the right password is refused from there, and the log says so.
  EXPECT_EQ(verify("root", password, "imap", "192.0.2.9"), Code::refused);
  EXPECT_NE(verify_audit_details().back().find("not evaluated"), std::string::npos);
  // The user is not: the right password from elsewhere logs in.
  EXPECT_EQ(verify("root", password, "imap", "198.51.100.3"), Code::ok);
  // `list` shows the lock to the user it concerns.
  auto listed = call(req("list"));
  ASSERT_TRUE(listed);
  const auto& locked = listed->final.body["throttle"]["locked_sources"];
  ASSERT_EQ(locked.size(), 1u);
  EXPECT_EQ(locked[0]["source"], "192.0.2.9");
  EXPECT_EQ(listed->final.body["throttle"]["recent_failures"], 3);

  ASSERT_EQ(deployment_->stop_daemon(), 0);
  ASSERT_TRUE(deployment_->start_daemon());
  EXPECT_EQ(verify("root", password, "imap", "192.0.2.9"), Code::refused);
  EXPECT_EQ(verify("root", password, "imap", "198.51.100.3"), Code::ok);
  auto log = call(req("log"));
  int lockouts = 0;
  for (const auto& e : log->final.body["entries"]) lockouts += e["action"] == "lockout";
  EXPECT_EQ(lockouts, 1);  // the source only

  // An admin lifts the lock.
  auto unlocked = call(req("unlock", {{"source", "192.0.2.9"}}));
  ASSERT_TRUE(unlocked);
  EXPECT_EQ(unlocked->final.body["unlocked"], 1);
  EXPECT_EQ(verify("root", password, "imap", "192.0.2.9"), Code::ok);
  auto refused = call_as(kNobody, kNogroup, deployment_->socket(), req("unlock", {{"all", true}}));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->final.error.code, Code::permission_denied);
}

// Runs SQL on the stopped daemon's store through its own connection: someone with write access
// to the database file, without the pepper.
int tamper(const Deployment& deployment, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(deployment.store().c_str(), &db) != SQLITE_OK) return -1;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

TEST_F(VerifyTest, AGrantRevivedInTheDatabaseIsRefusedAndLogVerifyNamesIt) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string password = issue("mail");
  ASSERT_EQ(call(req("revoke", {{"name", "mail"}}))->final.kind, ipc::Reply::Kind::ok);
  ASSERT_EQ(deployment_->stop_daemon(), 0);
  ASSERT_EQ(tamper(*deployment_, "UPDATE grants SET revoked = NULL, expires = 0"), SQLITE_OK);
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  EXPECT_EQ(verify("root", password, "imap"), Code::refused);
  auto log = call(req("log", {{"verify", true}}));
  ASSERT_TRUE(log && log->final.kind == ipc::Reply::Kind::ok);
  EXPECT_FALSE(log->final.body["chain_ok"].get<bool>());
  EXPECT_NE(log->final.body["chain_error"].get<std::string>().find("\"mail\""), std::string::npos)
      << log->final.body.dump();
  EXPECT_NE(deployment_->daemon_log().find("changed outside touchpassd"), std::string::npos);
}

TEST_F(VerifyTest, TheDaemonRefusesAStoreWhoseLogLostItsNewestEntries) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  issue("mail");
  ASSERT_EQ(call(req("revoke", {{"name", "mail"}}))->final.kind, ipc::Reply::Kind::ok);
  ASSERT_EQ(deployment_->stop_daemon(), 0);
  // The newest entry (the revoke) goes: the chain alone cannot tell, the anchor can.
  ASSERT_EQ(tamper(*deployment_,
                   "DROP TRIGGER audit_append_only_delete; "
                   "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)"),
            SQLITE_OK);
  EXPECT_FALSE(deployment_->start_daemon());
  EXPECT_NE(deployment_->daemon_log().find("removed from its end"), std::string::npos)
      << deployment_->daemon_log();
  // The admin who restored an older store on purpose moves the anchor aside, as told.
  EXPECT_NE(deployment_->daemon_log().find(deployment_->audit_anchor().string()),
            std::string::npos);
  std::filesystem::rename(deployment_->audit_anchor(),
                          deployment_->audit_anchor().string() + ".old");
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  auto log = call(req("log", {{"verify", true}}));
  ASSERT_TRUE(log && log->final.kind == ipc::Reply::Kind::ok);
  EXPECT_TRUE(log->final.body["chain_ok"].get<bool>()) << log->final.body.dump();
}

TEST_F(VerifyTest, LastUseIsRecordedInBatches) {
  ASSERT_EQ(call(req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string password = issue("mail");
  EXPECT_EQ(verify("root", password, "imap", "192.0.2.10"), Code::ok);
  ASSERT_EQ(deployment_->stop_daemon(), 0);  // a clean stop writes what is pending
  auto store = deployment_->open_store();
  ASSERT_TRUE(store.ok());
  auto grant = (*store)->find_grant("root", "mail");
  ASSERT_TRUE(grant.ok());
  ASSERT_TRUE(grant->last_used.has_value());
  EXPECT_EQ(grant->last_service, "imap");
  EXPECT_EQ(grant->last_remote, "192.0.2.10");
  // The listing shows it (the page's "last used with service and address").
  store->reset();
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  auto listed = call(req("list"));
  ASSERT_TRUE(listed && listed->final.kind == ipc::Reply::Kind::ok);
  const auto& listed_grant = listed->final.body["grants"][0];
  EXPECT_EQ(listed_grant.value("last_service", ""), "imap");
  EXPECT_EQ(listed_grant.value("last_address", ""), "192.0.2.10");
}

}  // namespace
}  // namespace touchpass::testing
