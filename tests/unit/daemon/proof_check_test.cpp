// log --verify in the daemon's request handlers (service_fixture.h): every FIDO2 grant's proof
// re-verified with the key enrolled for it, from what the store holds.
#include <gtest/gtest.h>
#include <sqlite3.h>

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
};

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

}  // namespace
}  // namespace touchpass::daemon
