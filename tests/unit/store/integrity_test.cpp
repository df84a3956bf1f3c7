// Tampering with the store by someone who can write its file but does not have the pepper:
// every change to what verification trusts, and every change to the audit log, is found.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store_fixture.h"

namespace touchpass::store {
namespace {

class IntegrityTest : public SqliteStoreTest {
 protected:
  // An active grant "mail" of alice, issued with her key.
  GrantRecord issue_mail() {
    const std::int64_t key = enroll("alice", "key");
    GrantRecord g = grant(key, "alice", "mail");
    EXPECT_TRUE(store_->add_grant(g, 2, event("issue", "alice", "mail")).ok());
    return g;
  }
  bool verifies(const GrantRecord& g) {
    store_.reset();  // a fresh process: nothing remembered
    auto reopened = open_keyed(path_);
    EXPECT_TRUE(reopened.ok());
    store_ = std::move(*reopened);
    auto found = store_->find_grant_by_verifier(g.verifier);
    EXPECT_TRUE(found.ok() && found->has_value());
    return found.ok() && found->has_value() && (*found)->intact && !(*found)->revoked;
  }
  Status verify_all() { return store_->verify_audit(std::nullopt); }
  static std::string hex(const Bytes& b) { return "x'" + to_hex(b) + "'"; }
};

TEST_F(IntegrityTest, AnUntouchedStoreVerifiesAndItsRowsAreIntact) {
  const GrantRecord g = issue_mail();
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", 1764000100, event("revoke", "alice")).ok());
  ASSERT_TRUE(store_->add_grant(grant(1, "alice", "mail"), 3, event("issue", "alice")).ok());
  ASSERT_TRUE(store_->rename_grant("alice", "mail", "phone", event("rename", "alice")).ok());
  EXPECT_TRUE(verify_all().ok()) << verify_all().message();
  EXPECT_FALSE(verifies(g));  // revoked, but intact
  auto found = store_->find_grant_by_verifier(g.verifier);
  EXPECT_TRUE((*found)->intact);
  EXPECT_TRUE(store_->get_token(1)->intact);
}

TEST_F(IntegrityTest, TheMacOfAVersion1GrantIsUnchanged) {
  // Fixed vectors (computed independently of this code): a version 1 grant's MAC is the one
  // stores before schema v7 wrote, so their rows keep verifying without being rewritten.
  GrantRecord g;
  for (std::uint8_t i = 0; i < 16; ++i) g.grant_id.push_back(i);
  g.user = "alice";
  g.name = "mail";
  g.scopes = {"imap", "smtp"};
  g.created = 1764000000;
  g.token_id = 1;
  g.kind = TokenKind::fido2;
  g.credential = Bytes(32, 0xaa);
  g.verifier = Bytes(32, 0x55);
  EXPECT_EQ(to_hex(*keys()->grant_mac(g)),
            "cff21667d2684558f6860fb5b092efafbc4d2fbdf82c4db21ccd9c5794f61df9");
  g.revoked = 1764000100;
  EXPECT_EQ(to_hex(*keys()->grant_mac(g)),
            "7e1a56a9d42f351da72ba06e8e61b18ee9d559a27a7bef1cb707bf35d71f9c38");
  // A version 2 grant's MAC covers its version and rp id (keys 12 and 13).
  g.revoked.reset();
  g.version = 2;
  g.rp_id = "example.org";
  const Bytes v2 = *keys()->grant_mac(g);
  EXPECT_EQ(to_hex(v2), "8a41765ccef825b1f2ac87aab2b59a99ae30c343b58d6b91042eabaf234a0899");
  // No other version or rp id, nor the v1 form, gives the same MAC.
  const std::vector<std::pair<std::uint64_t, std::string>> others = {
      {1, "example.org"}, {1, ""}, {2, ""}, {2, "example.com"}};
  for (const auto& [version, rp_id] : others) {
    g.version = version;
    g.rp_id = rp_id;
    EXPECT_NE(*keys()->grant_mac(g), v2) << version << " " << rp_id;
  }
  g.version = 1;
  g.rp_id = "example.org";
  EXPECT_NE(to_hex(*keys()->grant_mac(g)),
            "cff21667d2684558f6860fb5b092efafbc4d2fbdf82c4db21ccd9c5794f61df9");
}

TEST_F(IntegrityTest, AGrantsVersionOrRpIdChangedInTheDatabaseNoLongerVerifies) {
  const GrantRecord v1 = issue_mail();
  const GrantRecord v2 = grant_v2(1, "alice", "web");
  ASSERT_TRUE(store_->add_grant(v2, 3, event("issue", "alice", "web")).ok());
  ASSERT_TRUE(verifies(v1));
  ASSERT_TRUE(verifies(v2));
  // A v1 grant made v2, or given an rp id.
  for (const std::string& change :
       {std::string("version = 2"), std::string("rp_id = 'mail.example.org'")}) {
    ASSERT_EQ(raw_exec("UPDATE grants SET " + change + " WHERE name = 'mail'"), SQLITE_OK);
    EXPECT_FALSE(verifies(v1)) << change;
    EXPECT_EQ(store_->find_grant("alice", "mail").code(), Code::integrity) << change;
    const Status s = verify_all();
    EXPECT_EQ(s.code(), Code::integrity) << change;
    EXPECT_NE(s.message().find("MAC"), std::string_view::npos) << s.message();
    ASSERT_EQ(raw_exec("UPDATE grants SET version = 1, rp_id = '' WHERE name = 'mail'"), SQLITE_OK);
    EXPECT_TRUE(verifies(v1)) << change;
  }
  // A v2 grant made v1 (with or without its rp id), or moved to another relying party.
  for (const std::string& change :
       {std::string("version = 1"), std::string("version = 1, rp_id = ''"),
        std::string("rp_id = ''"), std::string("rp_id = 'evil.example'")}) {
    ASSERT_EQ(raw_exec("UPDATE grants SET " + change + " WHERE name = 'web'"), SQLITE_OK);
    EXPECT_FALSE(verifies(v2)) << change;
    auto listed = store_->list_grants("alice", false);
    ASSERT_TRUE(listed.ok());
    for (const GrantRecord& g : *listed) EXPECT_EQ(g.intact, g.name != "web") << change;
    EXPECT_EQ(verify_all().code(), Code::integrity) << change;
    ASSERT_EQ(raw_exec("UPDATE grants SET version = 2, rp_id = 'mail.example.org' "
                       "WHERE name = 'web'"),
              SQLITE_OK);
    EXPECT_TRUE(verifies(v2)) << change;
  }
  EXPECT_TRUE(verify_all().ok()) << verify_all().message();
}

TEST_F(IntegrityTest, ARevivedGrantNoLongerVerifiesAndIsReported) {
  const GrantRecord g = issue_mail();
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", 1764000100, event("revoke", "alice")).ok());
  ASSERT_EQ(raw_exec("UPDATE grants SET revoked = NULL"), SQLITE_OK);
  EXPECT_FALSE(verifies(g));
  auto found = store_->find_grant_by_verifier(g.verifier);
  EXPECT_FALSE((*found)->intact);
  const Status s = verify_all();
  EXPECT_EQ(s.code(), Code::integrity);
  EXPECT_NE(s.message().find("MAC"), std::string_view::npos) << s.message();
}

TEST_F(IntegrityTest, ARevivedGrantIsFoundInTheLogEvenWithAValidMac) {
  // Even were the row key to leak, the log says the grant was revoked.
  GrantRecord g = issue_mail();
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", 1764000100, event("revoke", "alice")).ok());
  g.revoked.reset();
  ASSERT_EQ(raw_exec("UPDATE grants SET revoked = NULL, mac = " + hex(*keys()->grant_mac(g))),
            SQLITE_OK);
  const Status s = verify_all();
  EXPECT_EQ(s.code(), Code::integrity);
  EXPECT_NE(s.message().find("active again"), std::string_view::npos) << s.message();
}

TEST_F(IntegrityTest, AnExtendedOrWidenedGrantNoLongerVerifies) {
  const GrantRecord g = issue_mail();
  ASSERT_TRUE(verifies(g));
  ASSERT_EQ(raw_exec("UPDATE grants SET expires = 1764000001"), SQLITE_OK);
  ASSERT_TRUE(verifies(g) == false);
  ASSERT_EQ(raw_exec("UPDATE grants SET expires = 0, scopes = ''"), SQLITE_OK);
  EXPECT_FALSE(verifies(g));
  ASSERT_EQ(raw_exec("UPDATE grants SET scopes = 'imap,smtp', user = 'bob'"), SQLITE_OK);
  EXPECT_FALSE(verifies(g));
  ASSERT_EQ(raw_exec("UPDATE grants SET user = 'alice'"), SQLITE_OK);
  EXPECT_TRUE(verifies(g));  // put back exactly: the MAC matches again
}

TEST_F(IntegrityTest, AnAddedGrantNeverVerifies) {
  issue_mail();
  GrantRecord forged = grant(1, "alice", "forged");
  // The attacker copies a valid MAC from another row, or writes none.
  for (const std::string& mac :
       {std::string("(SELECT mac FROM grants LIMIT 1)"), std::string("x''")}) {
    ASSERT_EQ(
        raw_exec("DELETE FROM grants WHERE name = 'forged'; "
                 "INSERT INTO grants (grant_id, user, name, scopes, created, expires, "
                 "token_id, kind, credential, verifier, proof_auth_data, proof_signature, "
                 "mac) VALUES (" +
                 hex(forged.grant_id) + ", 'alice', 'forged', '', 1764000000, 0, 1, 'fido2', " +
                 hex(forged.credential) + ", " + hex(forged.verifier) + ", x'', x'', " + mac + ")"),
        SQLITE_OK);
    EXPECT_FALSE(verifies(forged));
    EXPECT_EQ(verify_all().code(), Code::integrity);
  }
}

TEST_F(IntegrityTest, AGrantWithoutItsIssueEntryIsReported) {
  issue_mail();
  GrantRecord forged = grant(1, "alice", "unlogged");
  ASSERT_EQ(raw_exec("INSERT INTO grants (grant_id, user, name, scopes, created, expires, "
                     "token_id, kind, credential, verifier, proof_auth_data, proof_signature, "
                     "mac) VALUES (" +
                     hex(forged.grant_id) +
                     ", 'alice', 'unlogged', 'imap,smtp', 1764000000, 0, 1, "
                     "'fido2', " +
                     hex(forged.credential) + ", " + hex(forged.verifier) + ", x'01', x'02', " +
                     hex(*keys()->grant_mac(forged)) + ")"),
            SQLITE_OK);
  const Status s = verify_all();
  EXPECT_EQ(s.code(), Code::integrity);
  EXPECT_NE(s.message().find("no issue entry"), std::string_view::npos) << s.message();
}

TEST_F(IntegrityTest, AnEditedTokenIsRefusedForUse) {
  issue_mail();
  ASSERT_EQ(raw_exec("UPDATE tokens SET public_key = x'0405'"), SQLITE_OK);
  store_.reset();
  auto reopened = open_keyed(path_);
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  EXPECT_EQ(store_->get_token(1).code(), Code::integrity);
  EXPECT_EQ(store_->update_token_state(1, 9, event("show", "alice")).code(), Code::integrity);
  EXPECT_EQ(verify_all().code(), Code::integrity);
}

TEST_F(IntegrityTest, AGrantOfAnUnknownKindIsACorruptRowNeverAGrant) {
  const GrantRecord g = issue_mail();
  ASSERT_EQ(raw_exec("UPDATE grants SET kind = 'smartcard' WHERE name = 'mail'"), SQLITE_OK);
  EXPECT_FALSE(verifies(g));  // found, and refused as changed outside touchpassd
  const auto found = store_->find_grant("alice", "mail");
  EXPECT_EQ(found.code(), Code::integrity);
  EXPECT_NE(found.error().message.find("unknown token kind"), std::string::npos);
  EXPECT_EQ(store_->list_grants("alice", true).code(), Code::integrity);
  const Status all = verify_all();
  EXPECT_EQ(all.code(), Code::integrity);
  EXPECT_NE(all.message().find("app password \"mail\" of alice"), std::string_view::npos)
      << all.message();
}

TEST_F(IntegrityTest, ATokenOfAnUnknownKindIsACorruptRow) {
  issue_mail();
  // The schema's CHECK keeps a token's kind known; someone who disables it is not stopped.
  ASSERT_EQ(raw_exec("PRAGMA ignore_check_constraints = ON; UPDATE tokens SET kind = ''"),
            SQLITE_OK);
  EXPECT_EQ(store_->get_token(1).code(), Code::integrity);
  EXPECT_EQ(store_->list_tokens("alice", true).code(), Code::integrity);
  EXPECT_EQ(store_->revoke_token(1, 1764000100, event("revoke", "alice")).code(), Code::integrity);
  const Status all = verify_all();
  EXPECT_EQ(all.code(), Code::integrity);
  EXPECT_NE(all.message().find("security key \"key\" of alice"), std::string_view::npos)
      << all.message();
}

TEST_F(IntegrityTest, ARewrittenLogIsFoundWithoutTheKeyEvenWhenTheChainIsRecomputed) {
  issue_mail();
  enroll("alice", "second");
  auto entries = store_->list_audit("", 0);
  ASSERT_TRUE(entries.ok());
  ASSERT_GE(entries->size(), 3u);
  // Delete the issue entry and relink the rest with SHA-256, as v1's unkeyed chain allowed.
  ASSERT_EQ(raw_exec("DROP TRIGGER audit_append_only_delete; DROP TRIGGER "
                     "audit_append_only_update; DELETE FROM audit WHERE action = 'issue'"),
            SQLITE_OK);
  Bytes prev(32, 0);
  std::int64_t seq = 1;
  for (const AuditEntry& e : *entries) {
    if (e.event.action == "issue") continue;
    const Bytes hash = audit_entry_hash(prev, seq, e.event);
    ASSERT_EQ(
        raw_exec("UPDATE audit SET seq = " + std::to_string(seq) + ", prev_hash = " + hex(prev) +
                 ", hash = " + hex(hash) + " WHERE seq = " + std::to_string(e.seq)),
        SQLITE_OK);
    prev = hash;
    ++seq;
  }
  const Status s = verify_all();
  EXPECT_EQ(s.code(), Code::integrity);
  EXPECT_NE(s.message().find("altered or forged"), std::string_view::npos) << s.message();
}

TEST_F(IntegrityTest, EntriesRemovedFromTheEndAreFoundAgainstTheAnchor) {
  issue_mail();
  ASSERT_TRUE(store_->append_audit(event("show", "alice", "mail")).ok());
  auto head = store_->audit_head();
  ASSERT_TRUE(head.ok());
  EXPECT_TRUE(store_->check_audit_anchor(*head).ok());
  EXPECT_TRUE(store_->verify_audit(*head).ok());
  // The chain alone cannot tell a log that ends early: drop the newest entry.
  ASSERT_EQ(raw_exec("DROP TRIGGER audit_append_only_delete; DELETE FROM audit WHERE seq = " +
                     std::to_string(head->seq)),
            SQLITE_OK);
  EXPECT_TRUE(verify_all().ok());
  const Status s = store_->verify_audit(*head);
  EXPECT_EQ(s.code(), Code::integrity);
  EXPECT_NE(s.message().find("removed from its end"), std::string_view::npos) << s.message();
  EXPECT_EQ(store_->check_audit_anchor(*head).code(), Code::integrity);
}

TEST_F(IntegrityTest, TheAnchorIsToldEveryHeadInOrder) {
  std::vector<AuditHead> heads;
  std::vector<bool> durable;
  store_->set_audit_observer([&](const AuditHead& h, bool d) {
    heads.push_back(h);
    durable.push_back(d);
  });
  enroll("alice", "key");
  VerificationBatch batch;
  batch.audits = {event("verify", "alice", "imap")};
  ASSERT_TRUE(store_->write_verification_batch(batch).ok());
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[1].seq, heads[0].seq + 1);
  EXPECT_TRUE(durable[0]);
  EXPECT_FALSE(durable[1]);
  EXPECT_EQ(heads[1].hash, store_->audit_head()->hash);
  // A failed write tells nothing.
  EXPECT_FALSE(store_->add_token(token("alice", "key"), event("enroll", "alice")).ok());
  EXPECT_EQ(heads.size(), 2u);
}

TEST_F(IntegrityTest, AStoreThatLostTheRecordOfItsKeyingIsNeverKeyedAgain) {
  issue_mail();
  store_.reset();
  ASSERT_EQ(raw_exec("DELETE FROM meta WHERE key = 'audit_keyed_from'"), SQLITE_OK);
  auto reopened = open_keyed(path_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.code(), Code::integrity);
  // Nor is one whose MACs were wiped too, when the anchor outside says it was keyed.
  ASSERT_EQ(raw_exec("UPDATE grants SET mac = x''; UPDATE tokens SET mac = x''"), SQLITE_OK);
  auto opened = open_sqlite_store(path_);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->use_keys(keys(), 1764000000, false).code(), Code::integrity);
}

TEST_F(IntegrityTest, AStoreFromBeforeKeyingIsProtectedOnceAndKeepsWorking) {
  const GrantRecord g = issue_mail();
  ASSERT_TRUE(store_->revoke_grant("alice", "mail", 1764000100, event("revoke", "alice")).ok());
  const GrantRecord active = grant(1, "alice", "phone");
  ASSERT_TRUE(store_->add_grant(active, 3, event("issue", "alice")).ok());
  downgrade_to_legacy();
  auto reopened = open_keyed(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(*reopened);
  auto entries = store_->list_audit("", 0);
  EXPECT_EQ(entries->back().event.action, "protect");
  EXPECT_TRUE(verify_all().ok()) << verify_all().message();
  EXPECT_TRUE(verifies(active));
  EXPECT_FALSE(verifies(g));
  EXPECT_TRUE(store_->get_token(1).ok());
  // The older links stay plain: rewriting one of them is still found.
  ASSERT_EQ(raw_exec("DROP TRIGGER audit_append_only_update; UPDATE audit SET actor = 'x' "
                     "WHERE seq = 1"),
            SQLITE_OK);
  EXPECT_EQ(verify_all().code(), Code::integrity);
}

}  // namespace
}  // namespace touchpass::store
