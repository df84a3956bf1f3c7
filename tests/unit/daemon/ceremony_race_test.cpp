// Ceremonies that overlap on one key (service_fixture.h): a finish is checked against the key's
// state as stored when it arrives, not as it was when its ceremony began, so an answer that
// another use of the key has overtaken cannot move the counter back.
#include <gtest/gtest.h>

#include <algorithm>

#include "unit/daemon/service_fixture.h"

namespace touchpass::daemon {
namespace {

class CeremonyRaceTest : public ServiceTest {
 protected:
  // Begins `begin` and lets the virtual token answer it, without finishing.
  Result<client::KeyAnswer> begin_and_answer(const ipc::Request& begin) {
    auto offered = handle(root_peer(), begin);
    if (!offered.ok()) return offered.error();
    auto offer = ipc::CeremonyOffer::parse(offered->result);
    if (!offer.ok()) return offer.error();
    return client::answer_offer(*offer, *broker_, io_, client::DriverSettings{kTimeout});
  }

  std::uint32_t stored_counter() {
    const auto tokens = store_->list_tokens("alice", false);
    EXPECT_TRUE(tokens.ok() && tokens->size() == 1);
    return tokens.ok() && !tokens->empty() ? tokens->front().sign_count : 0;
  }
};

TEST_F(CeremonyRaceTest, AnAnswerOvertakenByAnotherUseOfTheKeyIsRefused) {
  enroll_for("alice");
  const std::string mail = issue_for("alice", "mail");

  ipc::Request late = request(ipc::Op::issue_begin, "late");
  late.user = "alice";
  auto overtaken = begin_and_answer(late);
  ASSERT_TRUE(overtaken.ok()) << overtaken.error().message;

  // Meanwhile the key is used again (a show), and its counter moves past the answer's.
  ipc::Request show = request(ipc::Op::show_begin, "mail");
  show.user = "alice";
  ASSERT_TRUE(ceremony(root_peer(), show).ok());
  const std::uint32_t counter = stored_counter();

  ipc::Request finish = request(ipc::Op::finish);
  finish.finish = overtaken->finish;
  const auto refused = handle(root_peer(), finish, overtaken->secret);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Code::clone_suspected) << refused.error().message;
  EXPECT_EQ(store_->find_grant("alice", "late").code(), Code::not_found);
  EXPECT_EQ(stored_counter(), counter);  // not moved back
  const auto actions = audit_actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "issue:ok"), 1);

  // The key goes on working.
  EXPECT_EQ(issue_for("alice", "late").size(), 24u);
  EXPECT_GT(stored_counter(), counter);
  EXPECT_TRUE(verify("alice", mail).ok());
}

}  // namespace
}  // namespace touchpass::daemon
