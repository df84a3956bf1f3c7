// touchpassd end to end as separate processes: the daemon and the virtual token are real
// programs; clients speak the protocol over the real socket, some as other uids.
#include <gtest/gtest.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "daemon/daemon_harness.h"
#include "ipc/frame.h"
#include "store/sqlite_store.h"

namespace touchpass::testing {
namespace {

using namespace std::chrono_literals;
using ipc::Json;

bool ok(const std::optional<Exchange>& ex) {
  return ex && ex->final.kind == ipc::Reply::Kind::ok;
}

Code code_of(const std::optional<Exchange>& ex) {
  return ex && ex->final.kind == ipc::Reply::Kind::error ? ex->final.error.code : Code::ok;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { start(Deployment::Options{}); }

  void start(Deployment::Options options) {
    deployment_ = std::make_unique<Deployment>(std::move(options));
    ASSERT_TRUE(deployment_->start_token());
    ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  }

  std::optional<Exchange> call(const Json& request, const std::string& pin = "123456") {
    auto client = Client::connect(deployment_->socket());
    if (!client) return std::nullopt;
    return client->call(request, pin);
  }

  // The daemon still answers a fresh client.
  void expect_serving() {
    ASSERT_TRUE(deployment_->daemon_running()) << deployment_->daemon_log();
    EXPECT_TRUE(ok(call(req("list")))) << deployment_->daemon_log();
  }

  std::unique_ptr<Deployment> deployment_;
};

TEST_F(DaemonTest, EnrollIssueShowListRevoke) {
  auto enrolled = call(req("enroll", {{"label", "blue key"}}));
  ASSERT_TRUE(ok(enrolled)) << enrolled->final.error.message;
  EXPECT_EQ(enrolled->events, (std::vector<std::string>{"need-pin", "touch-token"}));  // one touch
  EXPECT_EQ(enrolled->final.body["token"]["label"], "blue key");
  EXPECT_TRUE(enrolled->final.body["token"]["virtual"].get<bool>());

  auto issued = call(req("issue", {{"name", "thunderbird"}, {"scopes", {"smtp", "imap"}}}));
  ASSERT_TRUE(ok(issued)) << issued->final.error.message;
  EXPECT_EQ(issued->events, (std::vector<std::string>{"need-pin", "touch-token"}));
  const std::string password = issued->secret;
  ASSERT_EQ(password.size(), 24u);
  EXPECT_EQ(password[4], '-');
  EXPECT_EQ(issued->final.body["grant"]["scopes"], Json({"imap", "smtp"}));
  EXPECT_EQ(issued->final.body.dump().find(password), std::string::npos);

  auto shown = call(req("show", {{"name", "thunderbird"}}));
  ASSERT_TRUE(ok(shown)) << shown->final.error.message;
  EXPECT_EQ(shown->secret, password);

  auto listed = call(req("list"));
  ASSERT_TRUE(ok(listed));
  ASSERT_EQ(listed->final.body["grants"].size(), 1u);
  EXPECT_EQ(listed->final.body["grants"][0]["name"], "thunderbird");
  EXPECT_EQ(listed->final.body["grants"][0]["token_label"], "blue key");

  EXPECT_EQ(code_of(call(req("issue", {{"name", "thunderbird"}}))), Code::invalid_argument);

  ASSERT_TRUE(ok(call(req("revoke", {{"name", "thunderbird"}}))));
  EXPECT_TRUE(call(req("list"))->final.body["grants"].empty());
  EXPECT_EQ(code_of(call(req("show", {{"name", "thunderbird"}}))), Code::not_found);

  auto log = call(req("log", {{"verify", true}}));
  ASSERT_TRUE(ok(log));
  EXPECT_TRUE(log->final.body["chain_ok"].get<bool>());
  // Failed requests are audited too, with their error code.
  std::vector<std::string> actions;
  for (const auto& e : log->final.body["entries"]) {
    actions.push_back(e["action"].get<std::string>() + ":" + e["result"].get<std::string>());
  }
  EXPECT_EQ(actions,
            (std::vector<std::string>{"enroll:ok", "issue:ok", "show:ok", "issue:invalid_argument",
                                      "revoke:ok", "show:not_found"}));
}

TEST_F(DaemonTest, WrongPinFailsWithTriesLeftAndStoresNothing) {
  ASSERT_TRUE(ok(call(req("enroll"))));
  auto issued = call(req("issue", {{"name", "mail"}}), "999999");
  ASSERT_FALSE(ok(issued));
  EXPECT_EQ(issued->final.error.code, Code::pin_invalid);
  EXPECT_EQ(issued->final.error.retries_left, 7);
  EXPECT_TRUE(call(req("list"))->final.body["grants"].empty());
}

TEST_F(DaemonTest, AKeyIsUsedOnlyForUsersWhoCouldOpenItThemselves) {
  {
    Deployment::Options options;
    options.token_timeout = 1;
    start(options);
  }
  // The virtual token's socket is root's (mode 0660): nobody may not use it.
  const auto socket = deployment_->socket();
  auto refused = call_as(kNobody, kNogroup, socket, req("enroll"), "123456");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->final.error.code, Code::permission_denied) << refused->final.error.message;
  // No PIN was asked for, so none could be tried on the key on nobody's behalf.
  EXPECT_EQ(std::count(refused->events.begin(), refused->events.end(), "need-pin"), 0);
  EXPECT_TRUE(ok(call(req("enroll"))));  // root may use it
  ASSERT_EQ(::chmod(deployment_->token_socket().c_str(), 0666), 0);
  EXPECT_TRUE(ok(call_as(kNobody, kNogroup, socket, req("enroll"), "123456")));
}

TEST_F(DaemonTest, UsersCannotSeeOrTouchEachOthersGrants) {
  ASSERT_EQ(::chmod(deployment_->token_socket().c_str(), 0666), 0);  // a shared test key
  const auto socket = deployment_->socket();
  ASSERT_TRUE(ok(call_as(kNobody, kNogroup, socket, req("enroll"), "123456")));
  auto issued = call_as(kNobody, kNogroup, socket, req("issue", {{"name", "phone"}}), "123456");
  ASSERT_TRUE(ok(issued)) << issued->final.error.message;

  auto theirs = call_as(kDaemonUser, kDaemonGroup, socket, req("list"));
  ASSERT_TRUE(ok(theirs));
  EXPECT_TRUE(theirs->final.body["grants"].empty());
  EXPECT_EQ(code_of(call_as(kDaemonUser, kDaemonGroup, socket, req("revoke", {{"name", "phone"}}))),
            Code::not_found);
  EXPECT_EQ(code_of(call_as(kDaemonUser, kDaemonGroup, socket, req("list", {{"user", "nobody"}}))),
            Code::permission_denied);
  EXPECT_EQ(code_of(call_as(kDaemonUser, kDaemonGroup, socket,
                            req("revoke", {{"user", "nobody"}, {"all", true}}))),
            Code::permission_denied);
  EXPECT_EQ(
      code_of(call_as(kDaemonUser, kDaemonGroup, socket, req("tokens", {{"all_users", true}}))),
      Code::permission_denied);

  // Root is an admin: it sees nobody's grant, and the refusals were audited.
  auto as_root = call(req("list", {{"user", "nobody"}}));
  ASSERT_TRUE(ok(as_root));
  ASSERT_EQ(as_root->final.body["grants"].size(), 1u);
  auto log = call(req("log", {{"all_users", true}}));
  int refusals = 0;
  for (const auto& e : log->final.body["entries"]) refusals += e["action"] == "refuse";
  EXPECT_EQ(refusals, 3);
  auto still = call_as(kNobody, kNogroup, socket, req("list"));
  EXPECT_EQ(still->final.body["grants"].size(), 1u);
}

TEST_F(DaemonTest, MalformedMessagesLeaveTheDaemonServing) {
  const std::vector<std::vector<std::uint8_t>> abuses = {
      {0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'},  // not JSON
      {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, '[', ']'},                 // not an object
      {0xff, 0xff, 0xff, 0xff, 0x00, 0x00},                           // oversized
      {0x00, 0x00, 0x00, 0x00, 0x00, 0x00},                           // empty
      {0x00, 0x00, 0x10, 0x00, 0x00, 0x00, '{'},                      // truncated, then closed
      {0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, '{', '"', 'v', '"', ':', '1', ',', '"', 'o', '"', '}'},
  };
  for (const auto& bytes : abuses) {
    auto client = Client::connect(deployment_->socket());
    ASSERT_TRUE(client);
    ASSERT_EQ(::send(client->fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    ::shutdown(client->fd(), SHUT_WR);
    std::uint8_t buf[256];
    while (::recv(client->fd(), buf, sizeof buf, 0) > 0) {
    }
  }
  for (const char* text :
       {R"({"v":1,"op":"format-disk"})", R"({"v":1})", R"({"v":1,"op":"issue","name":7})",
        R"({"v":1,"op":"issue","name":"x","expires":-5})",
        R"({"v":1,"op":"revoke","name":"a","all":true})"}) {
    auto client = Client::connect(deployment_->socket());
    ASSERT_TRUE(client);
    auto ex = client->call(Json::parse(text));
    ASSERT_TRUE(ex) << text;
    EXPECT_EQ(ex->final.error.code, Code::protocol_error) << text;
  }
  expect_serving();
}

TEST_F(DaemonTest, AClientStallingMidMessageIsDroppedAndOthersAreServed) {
  auto staller = Client::connect(deployment_->socket());
  ASSERT_TRUE(staller);
  const std::uint8_t half[] = {0x00, 0x00, 0x00, 0x40, 0x00, 0x00, '{', '"'};
  ASSERT_EQ(::send(staller->fd(), half, sizeof half, MSG_NOSIGNAL), 8);
  expect_serving();  // served while the staller holds its connection
  // The daemon gives up on the staller after its stall timeout (5 s) and closes it.
  pollfd pfd{staller->fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10000), 1);
  std::uint8_t byte;
  EXPECT_LE(::recv(staller->fd(), &byte, 1, 0), 0);
  expect_serving();
}

TEST_F(DaemonTest, HundredConcurrentClients) {
  ASSERT_TRUE(ok(call(req("enroll"))));
  ASSERT_TRUE(ok(call(req("issue", {{"name", "mail"}}))));
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&] {
      auto client = Client::connect(deployment_->socket());
      if (!client) return;
      auto a = client->call(req("list"));
      auto b = client->call(req("tokens"));
      if (ok(a) && ok(b) && a->final.body["grants"].size() == 1) ++good;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 100);
  expect_serving();
}

TEST_F(DaemonTest, ListingsAreServedWhileAnIssueWaitsForATouch) {
  {
    Deployment::Options options;
    options.presence = "delay:3000";
    start(options);
  }
  ASSERT_TRUE(ok(call(req("enroll"))));  // slow: two touches
  std::atomic<bool> issued{false};
  std::thread issuer([&] { issued = ok(call(req("issue", {{"name", "slow"}}))); });
  std::this_thread::sleep_for(500ms);  // the issue is now waiting for its touch
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(ok(call(req("list"))));
  EXPECT_TRUE(ok(call(req("tokens"))));
  EXPECT_FALSE(issued.load());  // answered before the touch came
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  issuer.join();
  EXPECT_TRUE(issued.load());
}

TEST_F(DaemonTest, WithTwoKeysPresentTheOneTouchedIsUsed) {
  // token0 waits for a touch that does not come in time; token1 is touched at once.
  {
    Deployment::Options options;
    options.presence = "delay:4000";
    start(options);
  }
  ASSERT_TRUE(deployment_->start_token("token1", "approve"));
  auto enrolled = call(req("enroll"));
  ASSERT_TRUE(ok(enrolled)) << enrolled->final.error.message;
  EXPECT_EQ(enrolled->events.front(), "select-token");
  EXPECT_EQ(enrolled->final.body["token"]["device"], "virtual token token1");
  // Both keys were released: the CLI's listing of devices still shows both.
  auto cli = deployment_->cli();
  cli.insert(cli.end(), {"devices", "--json"});
  const CommandResult devices = run_command(cli);
  ASSERT_EQ(devices.exit_code, 0) << devices.err;
  EXPECT_EQ(ipc::Json::parse(devices.out)["devices"].size(), 2u);
}

TEST_F(DaemonTest, AWaitingRequestContinuesAsSoonAsAKeyIsPluggedIn) {
  deployment_ = std::make_unique<Deployment>();  // no token yet
  ASSERT_TRUE(deployment_->start_daemon());
  auto client = Client::connect(deployment_->socket());
  std::optional<Exchange> enrolled;
  std::thread enroller([&] { enrolled = client->call(req("enroll"), "123456"); });
  std::this_thread::sleep_for(500ms);  // the request now waits ("insert-token")
  const auto plugged = std::chrono::steady_clock::now();
  ASSERT_TRUE(deployment_->start_token());
  enroller.join();
  ASSERT_TRUE(ok(enrolled)) << enrolled->final.error.message;
  EXPECT_EQ(enrolled->events.front(), "insert-token");
  // Noticed through the hot-plug monitor, well before the 5 s safety-net rescan.
  EXPECT_LT(std::chrono::steady_clock::now() - plugged, 4000ms);
}

TEST_F(DaemonTest, AKeyPulledOutMidOperationIsAClearErrorAndNothingIsStored) {
  {
    Deployment::Options options;
    options.presence = "delay:10000";
    start(options);
  }
  std::optional<Exchange> enrolled;
  std::thread enroller([&] { enrolled = call(req("enroll")); });
  std::this_thread::sleep_for(1000ms);  // waiting for the touch
  deployment_->stop_token();
  enroller.join();
  ASSERT_TRUE(enrolled);
  EXPECT_EQ(enrolled->final.error.code, Code::token_removed) << enrolled->final.error.message;
  EXPECT_TRUE(call(req("tokens"))->final.body["tokens"].empty());
  expect_serving();
}

TEST_F(DaemonTest, SigtermStopsCleanly) {
  const int status = deployment_->stop_daemon();
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(deployment_->socket()));
}

TEST_F(DaemonTest, PepperIsAPrivateFileAndNeverInTheStore) {
  ASSERT_TRUE(ok(call(req("enroll"))));
  ASSERT_TRUE(ok(call(req("issue", {{"name", "mail"}}))));
  deployment_->stop_daemon();
  const fs::path pepper_path = deployment_->dir() / "state" / "pepper";
  struct stat st {};
  ASSERT_EQ(::stat(pepper_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const std::string pepper = read_file(pepper_path);
  ASSERT_EQ(pepper.size(), 32u);
  for (const char* suffix : {"", "-wal"}) {
    EXPECT_EQ(read_file(deployment_->store().string() + suffix).find(pepper), std::string::npos)
        << suffix;
  }
  // The same pepper is used after a restart: the password still shows.
  ASSERT_TRUE(deployment_->start_daemon());
  EXPECT_TRUE(ok(call(req("show", {{"name", "mail"}}))));
}

// Starts the daemon once more and returns what it said; it must refuse (exit status 1).
CommandResult refused_start(Deployment& deployment) {
  CommandResult r = run_command({TOUCHPASSD_BINARY, "--config", deployment.config().string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  return r;
}

TEST_F(DaemonTest, AMissingOrDifferentPepperIsNeverReplacedWhileTheStoreHoldsPasswords) {
  ASSERT_TRUE(ok(call(req("enroll"))));
  auto issued = call(req("issue", {{"name", "mail"}}));
  ASSERT_TRUE(ok(issued));
  deployment_->stop_daemon();
  const fs::path pepper_path = deployment_->dir() / "state" / "pepper";
  const std::string pepper = read_file(pepper_path);
  ASSERT_EQ(pepper.size(), 32u);

  // Missing: refused, and no new pepper is made.
  ASSERT_EQ(::unlink(pepper_path.c_str()), 0);
  CommandResult missing = refused_start(*deployment_);
  EXPECT_NE(missing.err.find("is missing, but the store"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("Restore the pepper file from your backup"), std::string::npos);
  EXPECT_FALSE(fs::exists(pepper_path));

  // One byte changed: refused, naming both fingerprints.
  std::string changed = pepper;
  changed[7] = static_cast<char>(changed[7] ^ 0x01);
  {
    std::ofstream out(pepper_path, std::ios::binary);
    out << changed;
  }
  ::chmod(pepper_path.c_str(), 0600);
  CommandResult different = refused_start(*deployment_);
  EXPECT_NE(different.err.find("is not the one the store"), std::string::npos) << different.err;

  // Wrong size: refused.
  {
    std::ofstream out(pepper_path, std::ios::binary);
    out << pepper.substr(0, 16);
  }
  refused_start(*deployment_);

  // The right pepper back: everything works as before.
  {
    std::ofstream out(pepper_path, std::ios::binary);
    out << pepper;
  }
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
  auto shown = call(req("show", {{"name", "mail"}}));
  ASSERT_TRUE(ok(shown));
  EXPECT_EQ(shown->secret, issued->secret);
}

TEST_F(DaemonTest, AnEmptyOrForeignStoreFileIsNeverTakenForANewStore) {
  deployment_->stop_daemon();
  // A store truncated to nothing.
  { std::ofstream(deployment_->store(), std::ios::trunc); }
  fs::remove(deployment_->store().string() + "-wal");
  fs::remove(deployment_->store().string() + "-shm");
  CommandResult empty = refused_start(*deployment_);
  EXPECT_NE(empty.err.find("is an empty file (0 bytes)"), std::string::npos) << empty.err;
  EXPECT_EQ(fs::file_size(deployment_->store()), 0u);  // left alone

  // Another program's SQLite database.
  fs::remove(deployment_->store());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(deployment_->store().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE mailboxes (name TEXT)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  CommandResult foreign = refused_start(*deployment_);
  EXPECT_NE(foreign.err.find("not a touchpass store (it has the tables mailboxes)"),
            std::string::npos)
      << foreign.err;
}

TEST_F(DaemonTest, BadConfigurationStopsStartUpWithFileLineAndReason) {
  deployment_->stop_daemon();
  { std::ofstream(deployment_->config(), std::ios::app) << "max_clients = lots\n"; }
  Process daemon = Process::start({TOUCHPASSD_BINARY, "--config", deployment_->config().string()},
                                  deployment_->dir() / "bad.log");
  const int status = daemon.stop(0);  // signal 0: just wait for it to exit
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string text = read_file(deployment_->dir() / "bad.log");
  EXPECT_NE(text.find(deployment_->config().string() +
                      ":9: bad value for \"max_clients\": expected a whole number"),
            std::string::npos)
      << text;
}

TEST_F(DaemonTest, ASecondDaemonOnTheSameStoreOrSocketRefusesAndNamesTheFirst) {
  const pid_t first = [&] {
    const std::string lock = read_file(deployment_->store().string() + ".lock");
    return static_cast<pid_t>(std::atoi(lock.c_str()));
  }();
  ASSERT_GT(first, 0);
  // The same configuration: the store is taken.
  CommandResult same = run_command({TOUCHPASSD_BINARY, "--config", deployment_->config().string()});
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_NE(same.err.find("Another touchpassd (pid " + std::to_string(first) +
                          ") is already using the store"),
            std::string::npos)
      << same.err;
  // Another store on the same socket: the socket is served.
  const fs::path other = deployment_->dir() / "other.conf";
  {
    std::ofstream out(other);
    out << "socket = " << deployment_->socket().string() << "\n"
        << "store = " << (deployment_->dir() / "other.db").string() << "\n"
        << "pepper = " << (deployment_->dir() / "other-pepper").string() << "\n"
        << "virtual_token_dir =\n";
  }
  CommandResult taken = run_command({TOUCHPASSD_BINARY, "--config", other.string()});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("Another touchpassd (pid " + std::to_string(first) + ") is serving"),
            std::string::npos)
      << taken.err;
  // The first one is still serving.
  auto client = Client::connect(deployment_->socket());
  ASSERT_TRUE(client);
  EXPECT_EQ(client->call(req("list"))->final.kind, ipc::Reply::Kind::ok);
}

TEST_F(DaemonTest, TheSocketIsCreatedWithItsModeAndAStaleOneIsReplaced) {
  struct stat st {};
  ASSERT_EQ(::lstat(deployment_->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);  // though the daemon's umask is 077
  deployment_->kill_daemon();           // leaves the socket file behind
  ASSERT_EQ(::lstat(deployment_->socket().c_str(), &st), 0);
  ASSERT_TRUE(deployment_->start_daemon()) << deployment_->daemon_log();
}

TEST_F(DaemonTest, ServesASocketPassedBySystemd) {
  deployment_->stop_daemon();
  const fs::path activated = deployment_->dir() / "activated.sock";
  Process daemon = Process::start({"/usr/bin/systemd-socket-activate", "-l", activated.string(),
                                   TOUCHPASSD_BINARY, "--config", deployment_->config().string()},
                                  deployment_->dir() / "activated.log");
  ASSERT_TRUE(wait_for_socket(activated, 5000ms));
  auto client = Client::connect(activated);
  ASSERT_TRUE(client);
  EXPECT_TRUE(ok(client->call(req("list"))));
  EXPECT_FALSE(fs::exists(deployment_->socket()));  // it did not bind its own
}

// kill -9 at various moments of an issuance: afterwards there is either no grant or a complete
// one, and the audit chain verifies.
TEST_F(DaemonTest, KillDuringIssuanceLeavesNoHalfWrittenGrant) {
  {
    Deployment::Options options;
    options.presence = "delay:400";
    start(options);
  }
  ASSERT_TRUE(ok(call(req("enroll"))));
  for (int i = 0; i < 6; ++i) {
    std::thread issuer([&] { (void)call(req("issue", {{"name", "g" + std::to_string(i)}})); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + 80 * i));
    deployment_->kill_daemon();
    issuer.join();
    ASSERT_TRUE(deployment_->start_daemon());
  }
  deployment_->stop_daemon();
  auto store = deployment_->open_store();
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->verify_audit(std::nullopt).ok());
  auto grants = (*store)->list_grants("", true);
  ASSERT_TRUE(grants.ok());
  for (const auto& g : *grants) {
    EXPECT_EQ(g.grant_id.size(), 16u);
    EXPECT_EQ(g.verifier.size(), 32u);
    EXPECT_FALSE(g.proof_auth_data.empty());
    EXPECT_FALSE(g.proof_signature.empty());
  }
  // Every issued grant has its audit entry (same transaction).
  auto audit = (*store)->list_audit("", 0);
  int issued = 0;
  for (const auto& e : *audit) issued += e.event.action == "issue" && e.event.result == "ok";
  EXPECT_EQ(issued, static_cast<int>(grants->size()));
}

}  // namespace
}  // namespace touchpass::testing

namespace touchpass::testing {
namespace {

TEST(LargeAnswerTest, ThreeHundredGrantsAndTenThousandAuditEntriesAreListedAndVerified) {
  Deployment deployment;
  ASSERT_TRUE(deployment.start_token());
  ASSERT_TRUE(deployment.start_daemon());
  {
    auto client = Client::connect(deployment.socket());
    ASSERT_TRUE(client &&
                client->call(req("enroll"), "123456")->final.kind == ipc::Reply::Kind::ok);
  }
  ASSERT_EQ(deployment.stop_daemon(), 0);
  {
    // Grants and audit entries written straight into the store (issuing 300 passwords with a
    // key would only make the test slow); the daemon then has to answer with all of them.
    auto opened = deployment.open_store();
    ASSERT_TRUE(opened.ok());
    store::SqlStore& store = **opened;
    const auto tokens = store.list_tokens("root", false);
    ASSERT_TRUE(tokens.ok() && tokens->size() == 1);
    store::AuditEvent issued;
    issued.action = "issue";
    issued.user = "root";
    issued.result = "ok";
    for (int i = 0; i < 300; ++i) {
      store::GrantRecord g;
      g.grant_id = Bytes(16, 0);
      g.grant_id[0] = static_cast<std::uint8_t>(i);
      g.grant_id[1] = static_cast<std::uint8_t>(i >> 8);
      g.user = "root";
      g.name = "thunderbird on the office laptop, password-" + std::to_string(i);
      g.scopes = {"imap", "smtp"};
      g.token_id = (*tokens)[0].id;
      g.kind = TokenKind::fido2;
      g.credential = (*tokens)[0].credential;
      g.verifier = Bytes(32, static_cast<std::uint8_t>(i));
      g.verifier[1] = static_cast<std::uint8_t>(i >> 8);
      issued.object = g.name;
      // Each use moves the key's counter forward, as the store demands.
      const std::uint32_t counter = (*tokens)[0].sign_count + 1 + static_cast<std::uint32_t>(i);
      ASSERT_TRUE(store.add_grant(g, counter, issued).ok());
    }
    store::VerificationBatch batch;
    batch.now = 1764000000;
    for (int i = 0; i < 10000; ++i) {
      store::AuditEvent e;
      e.time = 1764000000 + i;
      e.action = "verify";
      e.user = "root";
      e.object = "imap";
      e.result = "refused";
      e.detail = "1 refusal from 192.0.2." + std::to_string(i % 250) + ": unknown password";
      batch.audits.push_back(e);
    }
    ASSERT_TRUE(store.write_verification_batch(batch).ok());
  }
  ASSERT_TRUE(deployment.start_daemon()) << deployment.daemon_log();

  auto client = Client::connect(deployment.socket());
  auto listed = client->call(req("list"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->final.kind, ipc::Reply::Kind::ok) << listed->final.error.message;
  EXPECT_EQ(listed->final.body["grants"].size(), 300u);
  EXPECT_GT(listed->pieces, 0);  // it did not fit one message
  auto log = client->call(req("log", {{"verify", true}}));
  ASSERT_TRUE(log);
  ASSERT_EQ(log->final.kind, ipc::Reply::Kind::ok) << log->final.error.message;
  EXPECT_GE(log->final.body["entries"].size(), 10301u);
  EXPECT_TRUE(log->final.body["chain_ok"].get<bool>());
  // The 300 grants written here carry no proof: each is counted, the first 50 are named, and
  // the answer still fits.
  EXPECT_EQ(log->final.body["proofs_checked"], 300);
  EXPECT_EQ(log->final.body["proofs_failed"], 300);
  EXPECT_EQ(log->final.body["proof_errors"].size(), 50u);
  // In order, none lost between the pieces.
  std::int64_t seq = 0;
  for (const auto& e : log->final.body["entries"]) {
    EXPECT_EQ(e["seq"].get<std::int64_t>(), ++seq);
    if (e["seq"].get<std::int64_t>() != seq) break;
  }

  // The CLI, as a person runs it.
  const std::string socket = deployment.socket().string();
  CommandResult list = run_command({TOUCHPASS_BINARY, "--socket", socket, "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("password-299"), std::string::npos);
  CommandResult verified = run_command({TOUCHPASS_BINARY, "--socket", socket, "log", "--verify"});
  EXPECT_EQ(verified.exit_code, 1) << verified.err;  // the proofless grants
  EXPECT_NE(verified.err.find("hash chain is intact"), std::string::npos) << verified.err;
  EXPECT_NE(verified.err.find("300 app password(s) have a proof that does not verify"),
            std::string::npos)
      << verified.err;
  EXPECT_GT(std::count(verified.out.begin(), verified.out.end(), '\n'), 10300);
  EXPECT_EQ(deployment.daemon_log().find("answer could not be sent"), std::string::npos)
      << deployment.daemon_log();
}

}  // namespace
}  // namespace touchpass::testing
