// Several touchpassd hosts on one PostgreSQL store (README "Many mail servers, one store"): real
// daemons, each with its own directory, socket and configuration, on a real PostgreSQL 15 that
// the tests start on loopback. A password issued through one host verifies on the other; a
// revoke on one holds on the other at once; a host whose pepper is not the store's refuses to
// start; when the database stops, verification fails closed and comes back by itself.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "daemon/daemon_harness.h"
#include "store/postgres_connection.h"
#include "support/postgres_server.h"

namespace touchpass::testing {
namespace {

using ipc::Json;

class PostgresHostsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (auto why = PostgresServer::unavailable()) {
      skip_ = *why;
      return;
    }
    server_ = PostgresServer::start({}, &setup_error_);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(server_, nullptr) << setup_error_;
    // A schema of its own per test: the hosts' store starts empty.
    schema_ = "hosts_" + std::to_string(::getpid()) + "_" + std::to_string(++counter_);
    ASSERT_TRUE(sql("CREATE SCHEMA " + schema_));
    dir_ = fs::temp_directory_path() / ("touchpass-pg-hosts-" + schema_);
    fs::create_directories(dir_);
    password_file_ = dir_ / "postgresql-password";
    std::ofstream(password_file_) << server_->password() << "\n";
    ::chmod(password_file_.c_str(), 0600);
  }
  void TearDown() override {
    hosts_.clear();
    if (server_ && !schema_.empty()) sql("DROP SCHEMA " + schema_ + " CASCADE");
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  static bool sql(const std::string& statement, const PostgresServer* server = nullptr) {
    const PostgresServer& on = server != nullptr ? *server : *server_;
    auto c = store::sql::PostgresConnection::open(on.conninfo_without_password(), on.password());
    if (!c.ok()) return false;
    return store::sql::Query(**c, statement).run("run the test's SQL").ok();
  }

  // A host's configuration lines: the store on `server`, its password file, no failure delay.
  std::string host_config(const PostgresServer& server) const {
    return "failure_delay_ms = 0\nlockout_failures = 1000\npostgresql = " +
           server.conninfo_without_password() + " options='-c search_path=" + schema_ +
           "'\npostgresql_password_file = " + password_file_.string() + "\n";
  }

  // A host: its own directory and daemon on the shared store (on `server`, by default the
  // suite's); with `pepper_from`'s pepper (as an admin deploys the same file on every host),
  // else a pepper of its own.
  Deployment* host(const Deployment* pepper_from, bool start = true,
                   const PostgresServer* server = nullptr) {
    Deployment::Options options;
    options.extra_config = host_config(server != nullptr ? *server : *server_);
    hosts_.push_back(std::make_unique<Deployment>(options));
    Deployment* h = hosts_.back().get();
    if (pepper_from != nullptr) {
      fs::create_directories(h->pepper().parent_path());
      fs::copy_file(pepper_from->pepper(), h->pepper(), fs::copy_options::overwrite_existing);
      ::chmod(h->pepper().c_str(), 0600);
    }
    EXPECT_TRUE(h->start_token());
    if (start) {
      EXPECT_TRUE(h->start_daemon()) << h->daemon_log();
    }
    return h;
  }

  static std::optional<Exchange> call(const Deployment& h, const Json& request) {
    auto client = Client::connect(h.socket());
    if (!client) return std::nullopt;
    return client->call(request, "123456");
  }

  static std::string issue(const Deployment& h, const std::string& name) {
    auto issued = call(h, req("issue", {{"name", name}}));
    EXPECT_TRUE(issued && issued->final.kind == ipc::Reply::Kind::ok)
        << (issued ? issued->final.error.message : "no answer");
    return issued ? issued->secret : "";
  }

  // Verifies as root (a permitted caller): ok, refused or (no verdict) io_error.
  static Code verify(const Deployment& h, const std::string& password,
                     const std::string& remote = "192.0.2.10") {
    auto client = Client::connect(h.socket());
    if (!client) return Code::internal;
    auto ex = client->send(
        req("verify", {{"user", "root"}, {"service", "imap"}, {"remote", remote}}), password);
    if (!ex) return Code::internal;
    return ex->final.kind == ipc::Reply::Kind::ok ? Code::ok : ex->final.error.code;
  }

  static inline std::string skip_;
  static inline std::string setup_error_;
  static inline std::unique_ptr<PostgresServer> server_;
  static inline int counter_ = 0;
  std::string schema_;
  fs::path dir_;
  fs::path password_file_;
  std::vector<std::unique_ptr<Deployment>> hosts_;
};

TEST_F(PostgresHostsTest, APasswordIssuedOnOneHostVerifiesOnTheOtherAndARevokeHoldsEverywhere) {
  Deployment* a = host(nullptr);
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue(*a, "mail");
  Deployment* b = host(a);
  EXPECT_EQ(verify(*b, mail), Code::ok);
  EXPECT_EQ(verify(*a, mail), Code::ok);
  EXPECT_EQ(verify(*b, "k7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);
  // Revoked through B: A refuses it at once.
  ASSERT_EQ(call(*b, req("revoke", {{"name", "mail"}}))->final.kind, ipc::Reply::Kind::ok);
  EXPECT_EQ(verify(*a, mail), Code::refused);
  EXPECT_EQ(verify(*b, mail), Code::refused);
  // Issued through B (its own key), verified on A; both hosts list what both issued.
  ASSERT_EQ(call(*b, req("enroll", {{"label", "second key"}}))->final.kind, ipc::Reply::Kind::ok);
  const std::string phone = issue(*b, "phone");
  EXPECT_EQ(verify(*a, phone), Code::ok);
  auto listed = call(*a, req("list"));
  ASSERT_TRUE(listed && listed->final.kind == ipc::Reply::Kind::ok);
  EXPECT_EQ(listed->final.body["grants"].size(), 1u);  // mail is revoked; phone is active
  // The audit log, written by both, verifies on both.
  for (const Deployment* h : {a, b}) {
    auto checked = call(*h, req("log", {{"verify", true}, {"all_users", true}}));
    ASSERT_TRUE(checked);
    EXPECT_EQ(checked->final.kind, ipc::Reply::Kind::ok) << checked->final.error.message;
  }
}

TEST_F(PostgresHostsTest, ARestrictionHoldsOnEveryHostAndItsRemovalInTheDatabaseIsTampering) {
  Deployment* a = host(nullptr);
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  auto issued = call(*a, req("issue", {{"name", "office"}, {"networks", {"192.0.2.0/24"}}}));
  ASSERT_TRUE(issued && issued->final.kind == ipc::Reply::Kind::ok)
      << (issued ? issued->final.error.message : "no answer");
  const std::string office = issued->secret;
  Deployment* b = host(a);
  EXPECT_EQ(verify(*b, office, "192.0.2.10"), Code::ok);
  EXPECT_EQ(verify(*b, office, "198.51.100.10"), Code::refused);
  EXPECT_EQ(verify(*a, office, "198.51.100.10"), Code::refused);
  // Lifted in the database, without the pepper: refused from everywhere, and log --verify says
  // the row was changed.
  ASSERT_TRUE(sql("UPDATE " + schema_ + ".grants SET networks = ''"));
  EXPECT_EQ(verify(*b, office, "198.51.100.10"), Code::refused);
  EXPECT_EQ(verify(*b, office, "192.0.2.10"), Code::refused);
  auto checked = call(*a, req("log", {{"verify", true}, {"all_users", true}}));
  ASSERT_TRUE(checked);
  EXPECT_EQ(checked->final.kind, ipc::Reply::Kind::ok) << checked->final.error.message;
  EXPECT_EQ(checked->final.body.value("chain_ok", true), false) << checked->final.body.dump();
}

TEST_F(PostgresHostsTest, AHostWhosePepperIsNotTheStoresRefusesToStartAndSaysSo) {
  Deployment* a = host(nullptr);
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  // A host without the pepper file is told to restore it (no new pepper for a store in use).
  Deployment* bare = host(nullptr, false);
  EXPECT_FALSE(bare->start_daemon());
  EXPECT_NE(bare->daemon_log().find("is missing"), std::string::npos) << bare->daemon_log();
  // A host with another pepper is refused, naming both fingerprints.
  Deployment* stranger = host(nullptr, false);
  fs::create_directories(stranger->pepper().parent_path());
  std::ofstream(stranger->pepper(), std::ios::binary) << std::string(32, 'x');
  ::chmod(stranger->pepper().c_str(), 0600);
  EXPECT_FALSE(stranger->start_daemon());
  EXPECT_NE(stranger->daemon_log().find("is not the one the store"), std::string::npos)
      << stranger->daemon_log();
  // The hosts that share the pepper go on.
  EXPECT_TRUE(a->daemon_running());
  const std::string mail = issue(*a, "mail");
  EXPECT_EQ(verify(*a, mail), Code::ok);
}

TEST_F(PostgresHostsTest, WhileTheDatabaseIsDownVerificationFailsClosedAndRecoversByItself) {
  Deployment* a = host(nullptr);
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue(*a, "mail");
  ASSERT_EQ(verify(*a, mail), Code::ok);
  std::string error;
  ASSERT_TRUE(server_->stop(&error)) << error;
  // No verdict either way: the right password is not accepted, the wrong one not refused.
  EXPECT_EQ(verify(*a, mail), Code::io_error) << a->daemon_log();
  EXPECT_EQ(verify(*a, "k7qm-x9fj-4tca-2hwe-p3vn"), Code::io_error);
  auto issued = call(*a, req("issue", {{"name", "during"}}));
  ASSERT_TRUE(issued);
  EXPECT_NE(issued->final.kind, ipc::Reply::Kind::ok);
  EXPECT_TRUE(a->daemon_running());
  ASSERT_TRUE(server_->restart(&error)) << error;
  // Back by itself: the daemon was not restarted.
  EXPECT_EQ(verify(*a, mail), Code::ok);
  EXPECT_EQ(verify(*a, "k7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);
  EXPECT_EQ(issue(*a, "after").empty(), false);
}

TEST_F(PostgresHostsTest, AVerifyFloodAcrossADatabaseRestartGetsNoWrongAnswer) {
  Deployment* a = host(nullptr);
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue(*a, "mail");
  Deployment* b = host(a);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0}, answered{0}, unavailable{0};
  std::vector<std::thread> clients;
  for (const Deployment* h : {a, b}) {
    for (int t = 0; t < 2; ++t) {
      clients.emplace_back([&, h, t] {
        const bool right = t == 0;
        while (!stop) {
          const Code got = verify(*h, right ? mail : "k7qm-x9fj-4tca-2hwe-p3vn",
                                  right ? "192.0.2.10" : "198.51.100.7");
          if (got == Code::io_error) {
            ++unavailable;
          } else if (got != (right ? Code::ok : Code::refused)) {
            ++wrong;
          } else {
            ++answered;
          }
        }
      });
    }
  }
  // Until every client has had answers, then through a restart, then answers again.
  while (answered < 20) std::this_thread::yield();
  std::string error;
  ASSERT_TRUE(server_->restart(&error)) << error;
  const int before = answered;
  while (answered < before + 20) std::this_thread::yield();
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(a->daemon_running() && b->daemon_running());
}

TEST_F(PostgresHostsTest, AVerifyOnlyHostOnAStandbyVerifiesWithoutThePrimaryAndIssuesOncePromoted) {
  // A primary of its own (this test stops it), and its streaming-replication hot standby.
  std::string error;
  auto primary = PostgresServer::start({}, &error);
  ASSERT_NE(primary, nullptr) << error;
  std::ofstream(password_file_, std::ios::trunc) << primary->password() << "\n";
  ASSERT_TRUE(sql("CREATE SCHEMA " + schema_, primary.get()));
  Deployment* a = host(nullptr, true, primary.get());
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue(*a, "mail");
  auto standby = primary->start_standby(&error);
  ASSERT_NE(standby, nullptr) << error;
  // The verify-only host; the same user's key (A's virtual token) is at hand there too.
  Deployment* v = host(a, false, standby.get());
  fs::remove_all(v->virtual_dir());
  fs::create_directory_symlink(a->virtual_dir(), v->virtual_dir());
  ASSERT_TRUE(v->start_daemon()) << v->daemon_log();
  EXPECT_EQ(verify(*v, mail), Code::ok);
  EXPECT_EQ(verify(*v, "k7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);

  // The primary is gone: the standby's host still verifies, and refuses writes, saying why.
  a->stop_daemon();  // host A goes with its database
  ASSERT_TRUE(primary->stop(&error)) << error;
  EXPECT_EQ(verify(*v, mail), Code::ok);
  EXPECT_EQ(verify(*v, "k7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);
  auto refused = call(*v, req("issue", {{"name", "phone"}}));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->final.kind, ipc::Reply::Kind::ok);
  EXPECT_NE(refused->final.error.message.find("standby"), std::string::npos)
      << refused->final.error.message;

  // Promoted, the standby takes writes: the same host issues, without a restart.
  ASSERT_TRUE(standby->promote(&error)) << error;
  const std::string phone = issue(*v, "phone");
  ASSERT_FALSE(phone.empty());
  EXPECT_EQ(verify(*v, phone), Code::ok);
  EXPECT_EQ(verify(*v, mail), Code::ok);
  hosts_.clear();  // before their database
}

TEST_F(PostgresHostsTest, AVerifyOnlyHostsRoleVerifiesButCannotWriteGrantsOrKeys) {
  Deployment* a = host(nullptr);  // an issuing host: its role owns the tables
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue(*a, "mail");
  // The administrator runs the shipped roles script (in this test's schema), and gives the
  // verify-only role a password.
  auto admin = store::sql::PostgresConnection::open(server_->superuser_conninfo());
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  const auto run = [&](const std::string& statement) {
    const Status s = store::sql::Query(**admin, statement).run("run the roles script");
    EXPECT_TRUE(s.ok()) << statement << ": " << s.message();
  };
  run("DROP ROLE IF EXISTS touchpass_verify");
  run("SET search_path = " + schema_);
  std::ifstream script(TOUCHPASS_SOURCE_DIR "/src/store/postgresql-roles.sql");
  ASSERT_TRUE(script) << "the roles script";
  std::string statement, line;
  while (std::getline(script, line)) {
    if (line.rfind("--", 0) == 0) continue;
    statement += line + "\n";
    if (line.find(';') != std::string::npos) {
      run(statement.substr(0, statement.rfind(';')));
      statement.clear();
    }
  }
  run("GRANT USAGE ON SCHEMA " + schema_ + " TO touchpass_verify");
  run("ALTER ROLE touchpass_verify PASSWORD 'verify-only secret'");

  // The verify-only host, as touchpass_verify.
  Deployment::Options options;
  options.extra_config =
      "failure_delay_ms = 0\npostgresql = host=127.0.0.1 port=" + std::to_string(server_->port()) +
      " dbname=touchpass user=touchpass_verify sslmode=disable "
      "options='-c search_path=" +
      schema_ + "'\npostgresql_password_file = " + (dir_ / "verify").string() + "\n";
  std::ofstream(dir_ / "verify") << "verify-only secret\n";
  ::chmod((dir_ / "verify").c_str(), 0600);
  hosts_.push_back(std::make_unique<Deployment>(options));
  Deployment* v = hosts_.back().get();
  fs::create_directories(v->pepper().parent_path());
  fs::copy_file(a->pepper(), v->pepper());
  ::chmod(v->pepper().c_str(), 0600);
  fs::remove_all(v->virtual_dir());
  fs::create_directory_symlink(a->virtual_dir(), v->virtual_dir());
  ASSERT_TRUE(v->start_daemon()) << v->daemon_log();
  EXPECT_EQ(verify(*v, mail), Code::ok);
  EXPECT_EQ(verify(*v, "k7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);
  auto refused_issue = call(*v, req("issue", {{"name", "phone"}}));
  ASSERT_TRUE(refused_issue);
  EXPECT_NE(refused_issue->final.kind, ipc::Reply::Kind::ok);
  EXPECT_NE(refused_issue->final.error.message.find("permission denied"), std::string::npos)
      << refused_issue->final.error.message;
  // Its refusals and last uses reach the store and the chained log, which verifies on A.
  ASSERT_EQ(v->stop_daemon(), 0);
  auto log = call(*a, req("log", {{"verify", true}, {"all_users", true}}));
  ASSERT_TRUE(log);
  EXPECT_EQ(log->final.kind, ipc::Reply::Kind::ok) << log->final.error.message;
  EXPECT_NE(log->final.body.dump().find("unknown password"), std::string::npos);

  // With the role itself: no grant, key or invitation can be written, nor the log rewritten.
  auto as_verify = store::sql::PostgresConnection::open(
      server_->conninfo_without_password() +
          " user=touchpass_verify options='-c search_path=" + schema_ + "'",
      std::string_view("verify-only secret"));
  ASSERT_TRUE(as_verify.ok()) << as_verify.error().message;
  for (const char* forbidden :
       {"UPDATE grants SET revoked = NULL", "UPDATE grants SET expires = 0",
        "UPDATE grants SET networks = ''", "DELETE FROM grants", "UPDATE tokens SET revoked = NULL",
        "INSERT INTO invitations (\"user\", code_hash, created, expires, created_by, mac) "
        "SELECT \"user\", verifier, 0, 0, '', mac FROM grants",
        "UPDATE meta SET value = value", "DELETE FROM audit"}) {
    EXPECT_FALSE(store::sql::Query(**as_verify, forbidden).run("write").ok()) << forbidden;
  }
  EXPECT_TRUE(store::sql::Query(**as_verify, "UPDATE grants SET last_service = 'imap'")
                  .run("record a use")
                  .ok());
}

TEST_F(PostgresHostsTest, TheHostsReachTheDatabaseOverTls) {
  std::string error;
  PostgresServer::Options tls;
  tls.tls = true;
  auto server = PostgresServer::start(tls, &error);
  ASSERT_NE(server, nullptr) << error;
  std::ofstream(password_file_, std::ios::trunc) << server->password() << "\n";
  ASSERT_TRUE(sql("CREATE SCHEMA " + schema_, server.get()));
  ASSERT_NE(server->conninfo_without_password().find("sslmode=require"), std::string::npos);
  Deployment* a = host(nullptr, true, server.get());
  ASSERT_EQ(call(*a, req("enroll"))->final.kind, ipc::Reply::Kind::ok);
  const std::string mail = issue(*a, "mail");
  EXPECT_EQ(verify(*a, mail), Code::ok);
  // Every connection of touchpassd is encrypted.
  auto admin = store::sql::PostgresConnection::open(server->superuser_conninfo());
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  store::sql::Query plain(**admin,
                          "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s "
                          "ON a.pid = s.pid WHERE a.application_name = 'touchpassd' AND NOT s.ssl "
                          "AND a.pid <> pg_backend_pid()");
  ASSERT_EQ(plain.step(), store::sql::Step::row);
  EXPECT_EQ(plain.integer(0), 0);
  store::sql::Query encrypted(**admin,
                              "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s "
                              "ON a.pid = s.pid WHERE a.application_name = 'touchpassd' AND s.ssl");
  ASSERT_EQ(encrypted.step(), store::sql::Step::row);
  EXPECT_GE(encrypted.integer(0), 5);  // the writer and the four verification connections
  hosts_.clear();                      // before their database
}

}  // namespace
}  // namespace touchpass::testing
