// log --verify in the daemon's request handlers (service_fixture.h): every FIDO2 grant's proof
// re-verified with the key enrolled for it, from what the store holds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "unit/daemon/service_fixture.h"

namespace touchpass::daemon {
namespace {

using ProofCheckTest = ServiceTest;

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

}  // namespace
}  // namespace touchpass::daemon
