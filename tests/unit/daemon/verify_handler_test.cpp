// The verify handler on a real store with a fake clock and no real sleeping: what is accepted,
// what is refused (never saying why), who may ask, per-source locks that never lock the user
// out, and concurrent guesses that are never evaluated past the limit. The handler needs only
// the verification side of the store: the last test runs it on a store that has nothing else.
#include "daemon/verify_handler.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/verifier.h"
#include "store/integrity.h"
#include "store/sqlite_store.h"

namespace touchpass::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr store::UnixTime kNow = 1764000000;
constexpr const char* kPassword = "k7qm-x9fj-4tca-2hwe-p3vn";
constexpr const char* kWrong = "a7qm-x9fj-4tca-2hwe-p3vn";

class VerifyHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("touchpass-verify-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto s = store::open_sqlite_store(dir_ / "store.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    auto keys = store::StoreKeys::derive(pepper_.bytes());
    ASSERT_TRUE(keys.ok());
    ASSERT_TRUE(store_->use_keys(std::move(*keys), kNow, true).ok());
    ThrottlePolicy policy;
    policy.base_delay = 100ms;
    policy.source_failures = 10;
    policy.user_failures = 3;
    throttle_ = std::make_unique<Throttle>(policy, std::vector<store::Throttle>{}, kNow);
    recorder_ = std::make_unique<VerificationRecorder>(*store_, *throttle_, refusals_, 1h,
                                                       [this] { return now_.load(); });
    handler_ = std::make_unique<VerifyHandler>(
        *store_, *throttle_, refusals_, *recorder_, pepper_,
        VerifyHandler::Settings{64, "touchpass-service"}, [this] { return now_.load(); },
        [this](std::chrono::milliseconds d) { slept_ += d.count(); });
    grant("alice", "mail", {"imap"}, kPassword);
  }
  void TearDown() override {
    handler_.reset();
    recorder_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void grant(const std::string& user, const std::string& name, std::vector<std::string> scopes,
             const std::string& password, store::UnixTime expires = 0) {
    store::AuditEvent e;
    e.action = "enroll";
    store::TokenRecord t;
    t.user = user;
    t.label = name + "-key";
    t.kind = TokenKind::fido2;
    t.credential = Bytes(32, 0xaa);
    t.uv = "pin";
    auto token = store_->add_token(t, e);
    ASSERT_TRUE(token.ok()) << token.error().message;
    std::string normalized;
    for (char c : password)
      if (c != '-') normalized += c;
    auto v = compute_verifier(pepper_.bytes(), normalized);
    ASSERT_TRUE(v.ok());
    store::GrantRecord g;
    g.grant_id = Bytes(16, static_cast<std::uint8_t>(counter_++));
    g.user = user;
    g.name = name;
    g.scopes = std::move(scopes);
    g.expires = expires;
    g.token_id = *token;
    g.kind = TokenKind::fido2;
    g.credential = t.credential;
    g.verifier = Bytes(v->bytes().begin(), v->bytes().end());
    ASSERT_TRUE(store_->add_grant(g, 0, e).ok());
    token_id_ = *token;
  }

  Code verify(const std::string& user, const std::string& password,
              const std::string& service = "imap", const std::string& remote = "192.0.2.7",
              Peer peer = service_peer()) {
    ipc::Request r;
    r.op = ipc::Op::verify;
    r.user = user;
    r.service = service;
    r.remote = remote;
    return handler_->verify(peer, r, SecretBytes::copy_of(password)).code();
  }

  static Peer service_peer() {
    Peer p;
    p.uid = 0;
    p.user = "root";
    p.verifier = true;
    return p;
  }

  // Refusal reasons recorded for the audit log, as "reason ×count" details.
  std::string audit_details() {
    recorder_->flush();
    std::string out;
    auto entries = store_->list_audit("", 0);
    if (!entries.ok()) return "cannot read the audit log";
    for (const auto& e : entries.value()) {
      if (e.event.action == "verify" || e.event.action == "lockout" || e.event.action == "refuse") {
        out += e.event.action + ": " + e.event.detail + "\n";
      }
    }
    return out;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  SecretBytes pepper_ = SecretBytes::copy_of(std::string(32, 'p'));
  std::unique_ptr<store::SqlStore> store_;
  std::unique_ptr<Throttle> throttle_;
  RefusalLog refusals_;
  std::unique_ptr<VerificationRecorder> recorder_;
  std::unique_ptr<VerifyHandler> handler_;
  std::atomic<store::UnixTime> now_{kNow};
  std::atomic<std::int64_t> slept_{0};
  std::int64_t token_id_ = 0;
};

TEST_F(VerifyHandlerTest, AcceptsTheRightPasswordAndRefusesEverythingElseWithoutSayingWhy) {
  EXPECT_EQ(verify("alice", kPassword), Code::ok);
  EXPECT_EQ(verify("alice", "K7QM X9FJ 4TCA 2HWE P3VN"), Code::ok);  // as a person types it
  EXPECT_EQ(slept_, 0);
  EXPECT_EQ(verify("alice", kPassword, "smtp"), Code::refused);
  EXPECT_EQ(verify("bob", kPassword), Code::refused);
  EXPECT_EQ(verify("alice", kWrong), Code::refused);
  EXPECT_EQ(verify("alice", "not a password"), Code::refused);
  const std::string details = audit_details();
  EXPECT_NE(details.find("app password \"mail\" is not for smtp"), std::string::npos) << details;
  EXPECT_NE(details.find("a password that is not this user's"), std::string::npos);
  EXPECT_NE(details.find("unknown password"), std::string::npos);
  EXPECT_NE(details.find("not an app password"), std::string::npos);
}

TEST_F(VerifyHandlerTest, ExpiredRevokedAndRevokedTokenPasswordsAreRefused) {
  grant("alice", "short", {}, "b7qm-x9fj-4tca-2hwe-p3vn", kNow + 10);
  EXPECT_EQ(verify("alice", "b7qm-x9fj-4tca-2hwe-p3vn"), Code::ok);
  now_ = kNow + 10;
  EXPECT_EQ(verify("alice", "b7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);
  store::AuditEvent e;
  e.action = "revoke";
  ASSERT_TRUE(store_->revoke_token(token_id_, kNow, e).ok());
  EXPECT_EQ(verify("alice", "b7qm-x9fj-4tca-2hwe-p3vn"), Code::refused);
  EXPECT_NE(audit_details().find("expired app password \"short\""), std::string::npos);
}

TEST_F(VerifyHandlerTest, AGrantRevivedInTheDatabaseIsRefused) {
  store::AuditEvent e;
  e.action = "revoke";
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", kNow, e).ok());
  // Someone with write access to the database file, but not the pepper, revives it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE grants SET revoked = NULL", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(verify("alice", kPassword), Code::refused);
  EXPECT_NE(audit_details().find("was changed outside touchpassd"), std::string::npos)
      << audit_details();
}

TEST_F(VerifyHandlerTest, OnlyVerifiersMayAsk) {
  Peer nobody;
  nobody.uid = 65534;
  nobody.user = "nobody";
  EXPECT_EQ(verify("alice", kPassword, "imap", "", nobody), Code::permission_denied);
  EXPECT_NE(audit_details().find("refuse: 1 refusal from uid 65534"), std::string::npos);
}

TEST_F(VerifyHandlerTest, ALockedSourceIsRefusedButTheUserStillLogsInFromElsewhere) {
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(verify("alice", kWrong, "imap", "2001:db8::1"), Code::refused);
  // The source is locked — a neighbour in the same /64 too — even with the right password.
  EXPECT_EQ(verify("alice", kPassword, "imap", "2001:db8::1"), Code::refused);
  EXPECT_EQ(verify("alice", kPassword, "imap", "2001:db8::2"), Code::refused);
  // From another network, and from a service that gives no address: accepted.
  EXPECT_EQ(verify("alice", kPassword, "imap", "2001:db8:1::1"), Code::ok);
  EXPECT_EQ(verify("alice", kPassword, "imap", ""), Code::ok);
  const std::string details = audit_details();
  EXPECT_NE(details.find("lockout: too many failed verifications from 2001:db8::/64"),
            std::string::npos)
      << details;
  EXPECT_NE(details.find("source locked after too many failures; not evaluated ×2"),
            std::string::npos)
      << details;
}

TEST_F(VerifyHandlerTest, ManyFailuresForOneUserSlowItsRefusalsButNeverItsLogins) {
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(verify("alice", kWrong, "imap", "198.51.100." + std::to_string(i)), Code::refused);
  }
  const std::int64_t before = slept_;
  EXPECT_EQ(verify("alice", kWrong, "imap", "198.51.100.99"), Code::refused);
  EXPECT_GT(slept_ - before, 100);  // beyond a first failure's delay: the user is being guessed
  const std::int64_t ok_before = slept_;
  EXPECT_EQ(verify("alice", kPassword, "imap", "203.0.113.1"), Code::ok);
  EXPECT_EQ(slept_, ok_before);
}

TEST_F(VerifyHandlerTest, ConcurrentGuessesAreNeverEvaluatedPastTheLimit) {
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&] { refused += verify("alice", kWrong) == Code::refused; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(refused.load(), 200);
  const std::string details = audit_details();
  // One aggregated entry: 10 evaluated (unknown password), the rest not evaluated.
  EXPECT_NE(details.find("200 refusals from 192.0.2.7"), std::string::npos) << details;
  EXPECT_NE(details.find("unknown password ×10"), std::string::npos) << details;
  EXPECT_NE(details.find("not evaluated ×190"), std::string::npos) << details;
}

TEST_F(VerifyHandlerTest, RefusalsCostNoWriteUntilTheBatch) {
  const auto count = [this] {
    auto entries = store_->list_audit("", 0);
    return entries.ok() ? entries.value().size() : 0u;
  };
  const auto before = count();
  for (int i = 0; i < 500; ++i)
    verify("alice", kWrong, "imap", "10.0.0." + std::to_string(i % 250));
  EXPECT_EQ(count(), before);  // nothing written yet
  recorder_->flush();
  const auto after = count();
  EXPECT_LE(after - before, 65u);  // bounded per batch, however many sources
}

// A store with only the verification interface (all a verify-only host has), whose look-ups
// can be made to fail.
class VerificationOnlyStore final : public store::VerificationStore {
 public:
  std::optional<store::GrantRecord> grant;  // found for any verifier
  bool unreadable = false;
  std::vector<store::VerificationBatch> batches;

  Result<std::optional<store::GrantRecord>> find_grant_by_verifier(const Bytes&) override {
    if (unreadable) return Error{Code::io_error, "The store cannot be read."};
    return grant;
  }
  Status write_verification_batch(const store::VerificationBatch& batch) override {
    if (unwritable) return Error{Code::io_error, "The store cannot be written."};
    batches.push_back(batch);
    return {};
  }
  bool unwritable = false;
  Result<std::vector<store::Throttle>> list_throttles() override {
    return std::vector<store::Throttle>{};
  }
  // One host: failures are counted in memory only, never here.
  bool shares_throttles() const override { return false; }
  Result<store::Reservation> reserve_attempt(const std::string&, store::UnixTime,
                                             const store::FailureRule&) override {
    return Error{Code::internal, "not a shared store"};
  }
  Result<store::Throttle> end_attempt(const std::string&, store::UnixTime, bool,
                                      const store::FailureRule&) override {
    return Error{Code::internal, "not a shared store"};
  }
  Result<store::Throttle> throttle_state(const std::string&) override {
    return Error{Code::internal, "not a shared store"};
  }
  Status forget_throttles(const std::vector<std::string>&) override {
    return Error{Code::internal, "not a shared store"};
  }
};

TEST(VerifyHandlerOnAVerificationStoreTest, AnUnreadableStoreGivesNoVerdictAndCountsNoFailure) {
  VerificationOnlyStore store;
  ThrottlePolicy policy;
  policy.source_failures = 1;
  Throttle throttle(policy, {}, kNow);
  RefusalLog refusals;
  VerificationRecorder recorder(store, throttle, refusals, 1h, [] { return kNow; });
  const SecretBytes pepper = SecretBytes::copy_of(std::string(32, 'p'));
  VerifyHandler handler(
      store, throttle, refusals, recorder, pepper, VerifyHandler::Settings{64, "touchpass-service"},
      [] { return kNow; }, [](std::chrono::milliseconds) {});
  ipc::Request r;
  r.op = ipc::Op::verify;
  r.user = "alice";
  r.service = "imap";
  r.remote = "192.0.2.7";
  Peer service;
  service.uid = 0;
  service.verifier = true;

  store.unreadable = true;
  EXPECT_EQ(handler.verify(service, r, SecretBytes::copy_of(kPassword)).code(), Code::io_error);
  EXPECT_EQ(handler.verify(service, r, SecretBytes::copy_of(kPassword)).code(), Code::io_error);

  // Not a failure of the source (its limit is one): the right password is accepted next.
  store.unreadable = false;
  store::GrantRecord g;
  g.grant_id = Bytes(16, 0x42);
  g.user = "alice";
  g.name = "mail";
  store.grant = g;
  EXPECT_EQ(handler.verify(service, r, SecretBytes::copy_of(kPassword)).code(), Code::ok);
  recorder.flush();
  ASSERT_FALSE(store.batches.empty());
  ASSERT_EQ(store.batches.back().usages.size(), 1u);
  EXPECT_EQ(store.batches.back().usages[0].grant_id, g.grant_id);
  EXPECT_TRUE(store.batches.back().throttles.empty());  // nothing was locked
}

TEST(VerificationRecorderTest, ABatchTheStoreRefusedIsWrittenWithTheNextOne) {
  VerificationOnlyStore store;
  Throttle throttle(ThrottlePolicy{}, {}, kNow);
  RefusalLog refusals;
  VerificationRecorder recorder(store, throttle, refusals, 1h, [] { return kNow; });
  store.unwritable = true;
  recorder.record_use({Bytes(16, 0x01), kNow, "imap", "192.0.2.7"});
  refusals.refused({0, "root"}, "verify", "alice", "imap", "192.0.2.8", "unknown password", kNow);
  recorder.flush();
  EXPECT_TRUE(store.batches.empty());
  // A use of another grant while the store is still down, then a newer use of the first.
  recorder.record_use({Bytes(16, 0x02), kNow + 1, "smtp", "192.0.2.9"});
  recorder.flush();
  store.unwritable = false;
  recorder.record_use({Bytes(16, 0x01), kNow + 2, "pop3", "192.0.2.7"});
  recorder.flush();
  ASSERT_EQ(store.batches.size(), 1u);
  const store::VerificationBatch written = store.batches.front();
  ASSERT_EQ(written.usages.size(), 2u);
  for (const store::Usage& u : written.usages) {
    EXPECT_EQ(u.service, u.grant_id == Bytes(16, 0x01) ? "pop3" : "smtp");
  }
  ASSERT_EQ(written.audits.size(), 1u);
  EXPECT_EQ(written.audits.front().user, "alice");
  // Written once: the next batch holds nothing of it.
  recorder.flush();
  ASSERT_EQ(store.batches.size(), 2u);
  EXPECT_TRUE(store.batches.back().usages.empty());
  EXPECT_TRUE(store.batches.back().audits.empty());
}

}  // namespace
}  // namespace touchpass::daemon
