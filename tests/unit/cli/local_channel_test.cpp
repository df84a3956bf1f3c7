// LocalChannel: the CLI's connection to touchpassd's socket, kept across a command's requests,
// and made again when the daemon has closed it meanwhile (idle while the person used the key).
#include "cli/local_channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "cli_test_support.h"

namespace touchpass::cli {
namespace {

using namespace testing;
using ipc::Json;

class LocalChannelTest : public ::testing::Test {
 protected:
  CancelFlag cancel_;
  ExchangeTiming timing_{.poll_interval = 20ms, .reply_timeout = 2000ms};
};

TEST_F(LocalChannelTest, RequestsShareOneConnection) {
  std::atomic<int> connections{0};
  auto daemon = listening_daemon([&](DaemonConnection& d) {
    const int n = ++connections;
    for (int i = 1; i <= 2; ++i) {
      if (d.next_json().is_null()) return;
      d.ok({{"connection", n}, {"request", i}});
    }
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  LocalChannel channel(daemon->path(), cancel_, timing_);
  for (int i = 1; i <= 2; ++i) {
    auto answer = channel.call(list_request());
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(answer->result.at("connection"), 1);
    EXPECT_EQ(answer->result.at("request"), i);
  }
}

TEST_F(LocalChannelTest, AConnectionTheDaemonClosedIsMadeAgainForTheNextRequest) {
  std::atomic<int> connections{0};
  std::promise<void> first_closed;
  auto daemon = listening_daemon([&](DaemonConnection& d) {
    const int n = ++connections;
    if (d.next_json().is_null()) return;
    d.ok({{"connection", n}});
    if (n == 1) {
      d.end_writes();  // as touchpassd does with a connection idle for a minute
      first_closed.set_value();
    }
  });
  ASSERT_TRUE(daemon.ok()) << daemon.error().message;
  LocalChannel channel(daemon->path(), cancel_, timing_);
  auto begun = channel.call(list_request());
  ASSERT_TRUE(begun.ok()) << begun.error().message;
  EXPECT_EQ(begun->result.at("connection"), 1);
  first_closed.get_future().wait();
  auto finished = channel.call(list_request());
  ASSERT_TRUE(finished.ok()) << finished.error().message;
  EXPECT_EQ(finished->result.at("connection"), 2);
  daemon->stop();
  EXPECT_EQ(daemon->conversations().size(), 2u);
}

}  // namespace
}  // namespace touchpass::cli
