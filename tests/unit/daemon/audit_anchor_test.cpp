// AuditAnchor and protect_store: the audit log's head kept outside the database, on a real
// SQLite store. A store that lost entries a synchronous commit anchored is refused at start;
// one that lost only what verification's batches wrote without waiting for the disk (what a
// crash loses) starts, with a warning.
#include "daemon/audit_anchor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/secret.h"
#include "store/integrity.h"
#include "store/sqlite_store.h"

namespace touchpass::daemon {
namespace {

namespace fs = std::filesystem;

constexpr store::UnixTime kNow = 1764000000;

store::AuditHead head_at(std::int64_t seq, std::uint8_t fill) {
  store::AuditHead h;
  h.seq = seq;
  h.hash = Bytes(32, fill);
  h.keyed_from = 1;
  return h;
}

class AuditAnchorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("touchpass-anchor-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Opens the store and protects it with `anchor`, as touchpassd's start does.
  Status start(const AuditAnchor& anchor, std::unique_ptr<store::SqlStore>& out) {
    auto opened = store::open_sqlite_store(dir_ / "store.db");
    if (!opened.ok()) return opened.error();
    out = std::move(*opened);
    auto keys = store::StoreKeys::derive(pepper_.bytes());
    if (!keys.ok()) return keys.error();
    return protect_store(*out, std::move(*keys), anchor, kNow);
  }

  static store::AuditEvent event(const std::string& action) {
    store::AuditEvent e;
    e.time = kNow;
    e.action = action;
    e.user = "alice";
    e.result = "ok";
    return e;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  SecretBytes pepper_ = SecretBytes::copy_of(std::string(32, '\x5e'));
};

TEST_F(AuditAnchorTest, ADurableHeadReplacesBothAndABatchsHeadComesAfterIt) {
  const AuditAnchor anchor(dir_ / "audit-head");
  EXPECT_FALSE(anchor.load()->has_value());
  ASSERT_TRUE(anchor.record(head_at(5, 0xa5), true).ok());
  auto loaded = anchor.load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->synced.seq, 5);
  EXPECT_FALSE((*loaded)->unsynced);

  ASSERT_TRUE(anchor.record(head_at(7, 0xa7), false).ok());
  loaded = anchor.load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->synced.seq, 5);
  EXPECT_EQ((*loaded)->synced.hash, Bytes(32, 0xa5));
  ASSERT_TRUE((*loaded)->unsynced);
  EXPECT_EQ((*loaded)->unsynced->seq, 7);
  EXPECT_EQ((*loaded)->newest().hash, Bytes(32, 0xa7));

  ASSERT_TRUE(anchor.record(head_at(8, 0xa8), true).ok());
  loaded = anchor.load();
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->synced.seq, 8);
  EXPECT_FALSE((*loaded)->unsynced);
}

TEST_F(AuditAnchorTest, AFileWithAMalformedUnsyncedHeadIsDamaged) {
  const fs::path path = dir_ / "audit-head";
  const std::string hash(64, 'a');
  const std::string tails[] = {"unsynced_seq 9\n", "unsynced_seq 9\nunsynced_hash zz\n",
                               "unsynced_seq 4\nunsynced_hash " + hash + "\n", "later 9\n"};
  for (const std::string& tail : tails) {
    std::ofstream(path) << "touchpass audit head v1\nkeyed_from 1\nseq 5\nhash " << hash << "\n"
                        << tail;
    EXPECT_EQ(AuditAnchor(path).load().code(), Code::integrity) << tail;
  }
}

TEST_F(AuditAnchorTest, OnlyEntriesABatchWroteMayBeMissingAtStart) {
  const AuditAnchor anchor(dir_ / "audit-head");
  std::unique_ptr<store::SqlStore> store;
  ASSERT_TRUE(start(anchor, store).ok());
  ASSERT_TRUE(store->append_audit(event("enroll")).ok());
  ASSERT_TRUE(store->append_audit(event("issue")).ok());
  auto head = store->audit_head();
  ASSERT_TRUE(head.ok());
  store.reset();

  // A batch anchored two entries the store no longer holds: a crash lost them.
  store::AuditHead lost = *head;
  lost.seq += 2;
  lost.hash = Bytes(32, 0x77);
  ASSERT_TRUE(anchor.record(lost, false).ok());
  const Status after_crash = start(anchor, store);
  EXPECT_TRUE(after_crash.ok()) << after_crash.message();
  // It anchored the head it found: the next start is clean.
  EXPECT_EQ(anchor.load()->value().newest().seq, head->seq);
  EXPECT_FALSE(anchor.load()->value().unsynced);
  store.reset();

  // A synchronous commit's entry that is gone is tampering (or a wrong backup): refused.
  ASSERT_TRUE(anchor.record(lost, true).ok());
  const Status removed = start(anchor, store);
  EXPECT_EQ(removed.code(), Code::integrity) << removed.message();
}

}  // namespace
}  // namespace touchpass::daemon
