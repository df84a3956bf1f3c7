// Invitations in the SQLite store: stored with their audit entry and MAC, found by their code's
// hash, and refused when the database was written without the store's keys.
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace touchpass::store {
namespace {

class InvitationsTest : public SqliteStoreTest {
 protected:
  static InvitationRecord invitation(std::string user, std::uint8_t code_byte) {
    InvitationRecord i;
    i.user = std::move(user);
    i.code_hash = Bytes(32, code_byte);
    i.created = 1764000000;
    i.expires = 1764086400;
    i.created_by = "root";
    return i;
  }
};

TEST_F(InvitationsTest, AnInvitationIsFoundByItsCodeHashWithItsAuditEntry) {
  const std::size_t before = audit_count();
  auto id = store_->add_invitation(invitation("alice", 0x01), event("invite", "alice"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto found = store_->find_invitation(Bytes(32, 0x01));
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->id, *id);
  EXPECT_EQ(found->user, "alice");
  EXPECT_EQ(found->expires, 1764086400);
  EXPECT_EQ(found->created_by, "root");
  EXPECT_FALSE(found->used.has_value());
  EXPECT_EQ(audit_count(), before + 1);
  EXPECT_EQ(store_->find_invitation(Bytes(32, 0x02)).code(), Code::not_found);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok());
}

TEST_F(InvitationsTest, ATakenCodeHashIsRefusedAndLeavesNoTrace) {
  ASSERT_TRUE(store_->add_invitation(invitation("alice", 0x01), event("invite", "alice")).ok());
  const std::size_t before = audit_count();
  auto again = store_->add_invitation(invitation("bob", 0x01), event("invite", "bob"));
  EXPECT_EQ(again.code(), Code::invalid_argument);
  EXPECT_EQ(audit_count(), before);
  EXPECT_EQ(store_->find_invitation(Bytes(32, 0x01))->user, "alice");
}

TEST_F(InvitationsTest, AnInvitationChangedOrAddedInTheDatabaseIsRefused) {
  ASSERT_TRUE(store_->add_invitation(invitation("alice", 0x01), event("invite", "alice")).ok());
  // Redirected to another user, and extended: the MAC no longer matches.
  ASSERT_EQ(raw_exec("UPDATE invitations SET user = 'mallory'"), SQLITE_OK);
  auto redirected = store_->find_invitation(Bytes(32, 0x01));
  EXPECT_EQ(redirected.code(), Code::integrity);
  EXPECT_NE(redirected.error().message.find("mallory"), std::string::npos);
  const Status checked = store_->verify_audit(std::nullopt);
  EXPECT_EQ(checked.code(), Code::integrity);
  EXPECT_NE(checked.message().find("invitation"), std::string_view::npos) << checked.message();

  ASSERT_EQ(raw_exec("DELETE FROM invitations; INSERT INTO invitations (user, code_hash, created, "
                     "expires, created_by, mac) VALUES ('mallory', zeroblob(32), 0, 9999999999, "
                     "'root', randomblob(32))"),
            SQLITE_OK);
  EXPECT_EQ(store_->find_invitation(Bytes(32, 0x00)).code(), Code::integrity);
}

TEST_F(InvitationsTest, AnInvitationEnrollsOneTokenOnceBeforeItExpires) {
  ASSERT_TRUE(store_->add_invitation(invitation("alice", 0x05), event("invite", "alice")).ok());
  const Bytes code(32, 0x05);
  const store::UnixTime now = 1764000100;
  auto id = store_->add_invited_token(token("alice", "laptop key"), code, now,
                                      event("enroll", "alice", "laptop key"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(store_->get_token(*id)->label, "laptop key");
  EXPECT_EQ(store_->find_invitation(code)->used, now);
  EXPECT_TRUE(store_->verify_audit(std::nullopt).ok()) << "the used invitation keeps a valid MAC";

  const std::size_t before = audit_count();
  auto again = store_->add_invited_token(token("alice", "second key"), code, now,
                                         event("enroll", "alice", "second key"));
  EXPECT_EQ(again.code(), Code::invalid_argument);
  EXPECT_NE(again.error().message.find("used already"), std::string::npos);
  EXPECT_EQ(audit_count(), before);
  EXPECT_EQ(store_->list_tokens("alice", false)->size(), 1u);
}

TEST_F(InvitationsTest, AnExpiredUnknownOrSomeoneElsesInvitationEnrollsNothing) {
  ASSERT_TRUE(store_->add_invitation(invitation("alice", 0x06), event("invite", "alice")).ok());
  const Bytes code(32, 0x06);
  const std::size_t before = audit_count();
  EXPECT_EQ(
      store_
          ->add_invited_token(token("alice", "k"), code, 1764086400, event("enroll", "alice", "k"))
          .code(),
      Code::invalid_argument);
  EXPECT_EQ(
      store_->add_invited_token(token("bob", "k"), code, 1764000100, event("enroll", "bob", "k"))
          .code(),
      Code::permission_denied);
  EXPECT_EQ(store_
                ->add_invited_token(token("alice", "k"), Bytes(32, 0x07), 1764000100,
                                    event("enroll", "alice", "k"))
                .code(),
            Code::not_found);
  // A label already taken: the invitation stays unused.
  enroll("alice", "k");
  const std::size_t with_token = audit_count();
  EXPECT_EQ(
      store_
          ->add_invited_token(token("alice", "k"), code, 1764000100, event("enroll", "alice", "k"))
          .code(),
      Code::invalid_argument);
  EXPECT_FALSE(store_->find_invitation(code)->used.has_value());
  EXPECT_EQ(audit_count(), with_token);
  EXPECT_EQ(with_token, before + 1);
}

TEST_F(InvitationsTest, AStoreOfSchema7GainsTheInvitationsTable) {
  store_.reset();
  ASSERT_EQ(raw_exec("ALTER TABLE throttle DROP COLUMN pending; "
                     "ALTER TABLE throttle DROP COLUMN pending_since; "
                     "DROP TABLE invitations; ALTER TABLE grants DROP COLUMN networks; "
                     "PRAGMA user_version=7"),
            SQLITE_OK);
  auto reopened = open_keyed(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(*reopened);
  EXPECT_EQ(raw_value("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_TRUE(store_->add_invitation(invitation("alice", 0x03), event("invite", "alice")).ok());
}

TEST_F(InvitationsTest, NothingIsWrittenWithoutTheStoresKeys) {
  store_.reset();
  auto unkeyed = open_sqlite_store(path_);
  ASSERT_TRUE(unkeyed.ok());
  EXPECT_EQ((*unkeyed)->add_invitation(invitation("alice", 0x04), event("invite", "alice")).code(),
            Code::internal);
  EXPECT_EQ((*unkeyed)->find_invitation(Bytes(32, 0x04)).code(), Code::internal);
}

}  // namespace
}  // namespace touchpass::store
