// log --verify in the daemon's request handlers (service_fixture.h): every FIDO2 grant's and
// every FIDO2 show's proof re-verified with the key enrolled for it, from what the store holds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "core/authenticator_data.h"
#include "core/derivation.h"
#include "core/random.h"
#include "core/show_proof.h"
#include "core/verifier.h"
#include "daemon/service_support.h"
#include "unit/daemon/service_fixture.h"

namespace touchpass::daemon {
namespace {

class ProofCheckTest : public ServiceTest {
 protected:
  // The answer to `log --verify` for `user` (everyone's when empty), as an admin asks it.
  ipc::Json verified_log(const std::string& user = "alice") {
    ipc::Request r = request(ipc::Op::log);
    if (!user.empty()) r.user = user;
    r.all_users = user.empty();
    r.verify_chain = true;
    const auto answer = handle(root_peer(), r);
    EXPECT_TRUE(answer.ok()) << answer.error().message;
    return answer.ok() ? answer->result : ipc::Json::object();
  }
  void rename(const std::string& from, const std::string& to) {
    ipc::Request r = request(ipc::Op::rename, from);
    r.user = "alice";
    r.new_name = to;
    const auto renamed = handle(root_peer(), r);
    ASSERT_TRUE(renamed.ok()) << renamed.error().message;
  }
  void show(const std::string& name) {
    ipc::Request r = request(ipc::Op::show_begin, name);
    r.user = "alice";
    const auto shown = ceremony(root_peer(), r);
    ASSERT_TRUE(shown.ok()) << shown.error().message;
  }
  // The audit entries of successful shows, oldest first.
  std::vector<store::AuditEntry> shows() {
    std::vector<store::AuditEntry> out;
    const auto entries = store_->list_audit("", 0);
    EXPECT_TRUE(entries.ok());
    if (!entries.ok()) return out;
    for (const auto& e : *entries) {
      if (e.event.action == "show" && e.event.result == "ok") out.push_back(e);
    }
    return out;
  }
  // Issues `name` as touchpassd did before v2 grants (DESIGN.md §5: a v1 grant, whose key signs
  // the grant's challenge as the clientDataHash): the offer built here, answered by the virtual
  // key through the client library, and stored with its proof and issue entry.
  void issue_v1(const std::string& name) {
    const auto tokens = store_->list_tokens("alice", false);
    ASSERT_TRUE(tokens.ok() && tokens->size() == 1u);
    const store::TokenRecord& token = tokens->front();
    Grant grant;
    grant.version = kGrantVersionV1;
    grant.grant_id = *GrantId::from_bytes(*random_bytes(GrantId::kSize));
    grant.user = "alice";
    grant.name = name;
    grant.scopes = {"imap"};
    grant.created = static_cast<std::uint64_t>(now_.load());
    grant.credential = token.credential;
    ASSERT_TRUE(validate_grant(grant).ok());
    const auto challenge = grant_challenge(kGrantVersionV1, encode_grant(grant));
    const auto salt = hmac_salt(kGrantVersionV1, grant.grant_id);
    ASSERT_TRUE(challenge.ok() && salt.ok());
    ipc::OfferedCredential offered;
    offered.token = token.label;
    offered.credential = token.credential;
    offered.rp_id = token.rp_id;
    offered.user_verification = token.uv == "pin";
    offered.public_key = token.public_key;
    offered.sign_count = token.sign_count;
    offered.client_data_hash.assign(challenge->begin(), challenge->end());
    ipc::CeremonyOffer offer;
    offer.ceremony = Bytes(ipc::kCeremonyIdBytes, 7);
    offer.expires_in = 60;
    offer.origin = config_.rp_id;
    offer.salt.assign(salt->begin(), salt->end());
    offer.credentials = {offered};
    auto answer = client::answer_offer(offer, *broker_, io_, client::DriverSettings{kTimeout});
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    ASSERT_TRUE(answer->finish.client_data_json.empty());
    const auto password =
        derive_app_password(kGrantVersionV1, answer->secret.bytes(), grant.grant_id);
    ASSERT_TRUE(password.ok());
    const auto verifier = verifier_for_typed_password(pepper_.bytes(), password->grouped());
    const auto data = parse_authenticator_data(answer->finish.authenticator_data);
    ASSERT_TRUE(verifier.ok() && data.ok());
    store::GrantRecord record;
    record.version = kGrantVersionV1;
    record.grant_id.assign(grant.grant_id.bytes().begin(), grant.grant_id.bytes().end());
    record.user = grant.user;
    record.name = grant.name;
    record.scopes = grant.scopes;
    record.created = now_.load();
    record.token_id = token.id;
    record.credential = grant.credential;
    record.verifier.assign(verifier->bytes().begin(), verifier->bytes().end());
    record.proof_auth_data = answer->finish.authenticator_data;
    record.proof_signature = answer->finish.signature;
    store::AuditEvent issued;
    issued.time = now_.load();
    issued.actor = "root";
    issued.actor_uid = 0;
    issued.action = "issue";
    issued.user = "alice";
    issued.object = name;
    issued.result = "ok";
    issued.detail = "grant " + to_hex(record.grant_id);
    ASSERT_TRUE(store_->add_grant(record, store::TokenState(data->sign_count), issued).ok());
  }
  // Writes to the database as someone with access to the file, outside touchpassd.
  void write_outside(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() / "store.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  // Rewrites one column of audit entry `seq` as such a writer would (the log's append-only
  // trigger dropped first).
  void rewrite_entry(std::int64_t seq, const std::string& column, const std::string& text) {
    write_outside("DROP TRIGGER IF EXISTS audit_append_only_update; UPDATE audit SET " + column +
                  " = '" + text + "' WHERE seq = " + std::to_string(seq));
  }
};

TEST_F(ProofCheckTest, AUserHasTheirProofsCheckedButOnlyAnAdminTheWholeChain) {
  enroll_for("alice");
  issue_for("alice", "mail");
  ipc::Request log = request(ipc::Op::log);
  log.verify_chain = true;
  const auto own = handle(user_peer("alice", 1001), log);
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_FALSE(own->result.at("chain_checked").get<bool>());
  EXPECT_FALSE(own->result.contains("chain_ok"));
  EXPECT_EQ(own->result.at("proofs_checked"), 1);
  log.user = "alice";
  const auto admin = handle(root_peer(), log);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_TRUE(admin->result.at("chain_checked").get<bool>());
  EXPECT_TRUE(admin->result.at("chain_ok").get<bool>());
}

TEST_F(ProofCheckTest, LogVerifyReverifiesEveryGrantsProofWithTheEnrolledKey) {
  enroll_for("alice");
  issue_for("alice", "mail");
  issue_for("alice", "phone");
  ipc::Request log = request(ipc::Op::log);
  log.user = "alice";
  log.verify_chain = true;
  const auto clean = handle(root_peer(), log);
  ASSERT_TRUE(clean.ok()) << clean.error().message;
  EXPECT_TRUE(clean->result.at("chain_ok").get<bool>());
  EXPECT_EQ(clean->result.at("proofs_checked"), 2);
  EXPECT_EQ(clean->result.at("proofs_failed"), 0);
  EXPECT_TRUE(clean->result.at("proof_errors").empty());

  // A writer of the database swaps the proofs of the two grants (the signatures are real, but
  // over the other grant's challenge).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "store.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE grants SET proof_signature = (SELECT proof_signature FROM grants "
                         "AS o WHERE o.name = 'phone') WHERE name = 'mail'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto tampered = handle(root_peer(), log);
  ASSERT_TRUE(tampered.ok());
  const auto& errors = tampered->result.at("proof_errors");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(tampered->result.at("proofs_failed"), 1);
  EXPECT_EQ(errors[0].at("name"), "mail");
  EXPECT_NE(errors[0].at("error").get<std::string>().find("signature"), std::string::npos);
}

TEST_F(ProofCheckTest, ARenamedGrantsProofVerifiesUnderTheNameItWasIssuedWith) {
  enroll_for("alice");
  issue_for("alice", "mail");
  rename("mail", "post");
  const ipc::Json log = verified_log();
  EXPECT_TRUE(log.at("chain_ok").get<bool>()) << log.value("chain_error", "");
  EXPECT_EQ(log.at("proofs_checked"), 1);
  EXPECT_EQ(log.at("proofs_failed"), 0) << log.at("proof_errors").dump();
}

TEST_F(ProofCheckTest, EveryShowsProofIsReverifiedWithTheEnrolledKey) {
  enroll_for("alice");
  issue_for("alice", "mail");
  show("mail");
  show("mail");
  const auto entries = shows();
  ASSERT_EQ(entries.size(), 2u);
  // The entry keeps the grant, the nonce and what the key signed.
  const auto proof = parse_show_proof(entries[0].event.detail);
  ASSERT_TRUE(proof.ok()) << entries[0].event.detail;
  EXPECT_EQ(to_hex(proof->grant_id.bytes()), to_hex(store_->find_grant("alice", "mail")->grant_id));
  EXPECT_NE(proof->client_data_json.find("webauthn.get"), std::string::npos);

  for (const std::string user : {"alice", ""}) {  // alice's, and everyone's
    const ipc::Json log = verified_log(user);
    EXPECT_TRUE(log.at("chain_ok").get<bool>());
    EXPECT_EQ(log.at("proofs_checked"), 1);
    EXPECT_EQ(log.at("proofs_failed"), 0);
    EXPECT_EQ(log.at("shows_checked"), 2);
    EXPECT_EQ(log.at("shows_failed"), 0);
    EXPECT_EQ(log.at("shows_unchecked"), 0);
    EXPECT_TRUE(log.at("show_errors").empty()) << log.at("show_errors").dump();
  }
  // Bob's log checks bob's shows: none.
  EXPECT_EQ(verified_log("bob").at("shows_checked"), 0);
}

TEST_F(ProofCheckTest, AShowWhoseStoredProofWasChangedFailsAndIsNamed) {
  enroll_for("alice");
  issue_for("alice", "mail");
  issue_for("alice", "phone");
  show("mail");
  show("phone");
  const auto entries = shows();
  ASSERT_EQ(entries.size(), 2u);
  const store::AuditEntry& mail = entries[0];
  const auto original = parse_show_proof(mail.event.detail);
  ASSERT_TRUE(original.ok());
  const auto phone = parse_show_proof(entries[1].event.detail);
  ASSERT_TRUE(phone.ok());

  struct Forgery {
    const char* what;
    std::function<void(ShowProof&)> change;
    const char* error;  // what the error must say
  };
  const Forgery forgeries[] = {
      {"a signature byte", [](ShowProof& p) { p.signature[p.signature.size() / 2] ^= 1; },
       "signature"},
      {"the signature of another show", [&](ShowProof& p) { p.signature = phone->signature; },
       "signature"},
      {"the counter in the authenticator data", [](ShowProof& p) { p.authenticator_data[36] ^= 1; },
       "signature"},
      {"the rp id hash in the authenticator data",
       [](ShowProof& p) { p.authenticator_data[0] ^= 1; }, "relying party"},
      {"the nonce", [](ShowProof& p) { p.nonce[0] ^= 1; }, "client data does not carry"},
      {"the grant", [&](ShowProof& p) { p.grant_id = phone->grant_id; },
       "client data does not carry"},
  };
  for (const Forgery& f : forgeries) {
    SCOPED_TRACE(f.what);
    ShowProof forged = *original;
    f.change(forged);
    const auto detail = encode_show_proof(forged);
    ASSERT_TRUE(detail.ok());
    rewrite_entry(mail.seq, "detail", *detail);
    const ipc::Json log = verified_log();
    EXPECT_FALSE(log.at("chain_ok").get<bool>());  // the entry's link no longer matches
    EXPECT_EQ(log.at("shows_checked"), 2);
    EXPECT_EQ(log.at("shows_failed"), 1);
    EXPECT_EQ(log.at("proofs_failed"), 0);  // the grants are untouched
    const ipc::Json& errors = log.at("show_errors");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].at("user"), "alice");
    EXPECT_EQ(errors[0].at("name"), "mail");
    EXPECT_EQ(errors[0].at("seq"), mail.seq);
    EXPECT_NE(errors[0].at("error").get<std::string>().find(f.error), std::string::npos)
        << errors[0].at("error");
  }
  // A detail that is no longer a readable proof fails too, saying why.
  rewrite_entry(mail.seq, "detail", "show-proof v1 grant=00");
  const ipc::Json log = verified_log();
  EXPECT_EQ(log.at("shows_failed"), 1);
  EXPECT_NE(log.at("show_errors")[0].at("error").get<std::string>().find("lacks its nonce"),
            std::string::npos);
  // The genuine entry back in place: everything verifies again.
  rewrite_entry(mail.seq, "detail", mail.event.detail);
  const ipc::Json restored = verified_log();
  EXPECT_TRUE(restored.at("chain_ok").get<bool>());
  EXPECT_EQ(restored.at("shows_failed"), 0);
}

TEST_F(ProofCheckTest, AShowIsCheckedUnderTheNameItWasShownWithAfterRenamesAndRevocation) {
  enroll_for("alice");
  issue_for("alice", "mail");
  show("mail");
  rename("mail", "post");
  show("post");
  rename("post", "inbox");
  const auto renamed = verified_log();
  EXPECT_TRUE(renamed.at("chain_ok").get<bool>());
  EXPECT_EQ(renamed.at("shows_checked"), 2);
  EXPECT_EQ(renamed.at("shows_failed"), 0) << renamed.at("show_errors").dump();
  EXPECT_EQ(renamed.at("proofs_failed"), 0) << renamed.at("proof_errors").dump();
  // Revoked since: the shows still were what they were.
  ipc::Request revoke = request(ipc::Op::revoke, "inbox");
  revoke.user = "alice";
  ASSERT_TRUE(handle(root_peer(), revoke).ok());
  const auto revoked = verified_log();
  EXPECT_EQ(revoked.at("shows_checked"), 2);
  EXPECT_EQ(revoked.at("shows_failed"), 0) << revoked.at("show_errors").dump();
  // An entry that claims another name than the one shown does not verify: the name is signed.
  const auto first = shows().front();
  rewrite_entry(first.seq, "object", "inbox");
  const auto moved = verified_log();
  EXPECT_EQ(moved.at("shows_failed"), 1);
  EXPECT_EQ(moved.at("show_errors")[0].at("name"), "inbox");
}

TEST_F(ProofCheckTest, AV1GrantsShowIsReverifiedOverTheRawShowChallenge) {
  enroll_for("alice");
  issue_v1("legacy");
  show("legacy");
  const auto entries = shows();
  ASSERT_EQ(entries.size(), 1u);
  const auto proof = parse_show_proof(entries[0].event.detail);
  ASSERT_TRUE(proof.ok()) << entries[0].event.detail;
  EXPECT_TRUE(proof->client_data_json.empty());  // the key signed the challenge itself
  const ipc::Json log = verified_log();
  EXPECT_TRUE(log.at("chain_ok").get<bool>()) << log.value("chain_error", "");
  EXPECT_EQ(log.at("proofs_checked"), 1);
  EXPECT_EQ(log.at("proofs_failed"), 0) << log.at("proof_errors").dump();
  EXPECT_EQ(log.at("shows_checked"), 1);
  EXPECT_EQ(log.at("shows_failed"), 0) << log.at("show_errors").dump();

  ShowProof forged = *proof;
  forged.signature[forged.signature.size() / 2] ^= 1;
  rewrite_entry(entries[0].seq, "detail", *encode_show_proof(forged));
  const ipc::Json tampered = verified_log();
  EXPECT_EQ(tampered.at("shows_failed"), 1);
  EXPECT_NE(tampered.at("show_errors")[0].at("error").get<std::string>().find("signature"),
            std::string::npos);
}

TEST_F(ProofCheckTest, ShowsAuditedBeforeShowProofsAreCountedUnchecked) {
  enroll_for("alice");
  issue_for("alice", "mail");
  show("mail");
  // What touchpassd wrote before: a FIDO2 show's nonce and bare signature, and a YubiKey
  // show's nonce (nothing signed, so nothing to check).
  store::AuditEvent old = shows().front().event;
  old.detail = "nonce " + std::string(32, 'a') + " proof " + std::string(142, 'b');
  ASSERT_TRUE(store_->append_audit(old).ok());
  old.detail = "nonce " + std::string(32, 'c');
  ASSERT_TRUE(store_->append_audit(old).ok());
  const ipc::Json log = verified_log();
  EXPECT_TRUE(log.at("chain_ok").get<bool>());
  EXPECT_EQ(log.at("shows_checked"), 1);
  EXPECT_EQ(log.at("shows_failed"), 0);
  EXPECT_EQ(log.at("shows_unchecked"), 1);
}

}  // namespace
}  // namespace touchpass::daemon
