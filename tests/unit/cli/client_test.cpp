#include "cli/client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "cli/event_text.h"
#include "cli/exit_code.h"
#include "cli_test_support.h"

namespace touchpass::cli {
namespace {

using namespace testing;
using ipc::Json;

class ExchangeTest : public ::testing::Test {
 protected:
  // Sends `request` to a fake daemon on a socket pair that runs `script`, and returns the answer
  // (an internal error when the daemon cannot start).
  Result<Answer> run(const Script& script, const ipc::Request& request) {
    auto daemon = FakeDaemon::paired(script, touchpass::testing::failing_on_problems());
    if (!daemon.ok()) return daemon.error();
    return exchange(daemon->client_fd(), request, cancel_, timing_);
  }

  RecordingConsole console_;
  CancelFlag cancel_;
  ExchangeTiming timing_{.poll_interval = 20ms, .reply_timeout = 2000ms};
};

TEST_F(ExchangeTest, NonInteractiveAnswerIsReturned) {
  const Script script([](DaemonConnection& d) {
    const Json request = d.next_json();
    EXPECT_EQ(request["op"], "list");
    EXPECT_EQ(request["v"], 1);
    d.ok({{"grants", Json::array()}});
  });
  auto answer = run(script, list_request());
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->result, Json({{"grants", Json::array()}}));
  EXPECT_TRUE(answer->secret.empty());
}

TEST_F(ExchangeTest, DaemonErrorsKeepTheirCodeAndSentence) {
  const Script script([](DaemonConnection& d) {
    d.next();
    d.error(Code::pin_invalid, "Wrong PIN. 6 tries left.", 6);
  });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::pin_invalid);
  EXPECT_EQ(answer.error().message, "Wrong PIN. 6 tries left.");
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::token);
}

TEST_F(ExchangeTest, ControlCharactersInDaemonMessagesAreNeutralized) {
  const Script script([](DaemonConnection& d) {
    d.next();
    d.error(Code::not_found, "No \x1b[2Japp password.");
  });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().message, "No ?[2Japp password.");
  auto line = display_event_line("progress", {{"message", "evil\x1b]0;title\x07"}});
  ASSERT_TRUE(line.ok() && *line);
  EXPECT_EQ(**line, "evil?]0;title?\n");
}

TEST_F(ExchangeTest, ClosedConnectionIsAnError) {
  const Script script([](DaemonConnection& d) { d.next(); });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::io_error);
  EXPECT_EQ(answer.error().message, "touchpassd closed the connection without answering.");
}

// An ok answer whose JSON nests `levels` deep in all: the message, its result, and arrays.
std::string nested_ok_reply(int levels) {
  const auto arrays = static_cast<std::size_t>(levels - 2);
  return R"({"v":1,"ok":true,"result":{"a":)" + std::string(arrays, '[') +
         std::string(arrays, ']') + "}}";
}

TEST_F(ExchangeTest, AnAnswerNestedTooDeeplyIsAClearErrorNotACrash) {
  const std::string deep = nested_ok_reply(32000);  // as deep as a frame allows
  ASSERT_LE(deep.size(), ipc::kMaxJsonSize);
  const Script script([&deep](DaemonConnection& d) {
    d.next();
    d.send(deep);
  });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::protocol_error);
  EXPECT_NE(answer.error().message.find("The daemon's reply nests too deeply"), std::string::npos)
      << answer.error().message;
}

TEST_F(ExchangeTest, AnAnswerJustWithinTheDepthLimitIsReturned) {
  const std::string shallow = nested_ok_reply(ipc::kMaxJsonDepth);
  const Script script([&shallow](DaemonConnection& d) {
    d.next();
    d.send(shallow);
  });
  auto answer = run(script, list_request());
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->result, Json::parse(shallow)["result"]);
}

struct MalformedCase {
  const char* name;
  std::string message;
};

class MalformedReplyTest : public ExchangeTest,
                           public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(MalformedReplyTest, EndsWithAProtocolError) {
  const Script script([](DaemonConnection& d) {
    d.next();
    d.send(GetParam().message);
  });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::protocol_error) << answer.error().message;
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::general);
  EXPECT_NE(answer.error().message.find("touchpassd sent a malformed message"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Replies, MalformedReplyTest,
    ::testing::Values(MalformedCase{"NotJson", "{not json"}, MalformedCase{"NotAnObject", "[1,2]"},
                      MalformedCase{"NoVersion", R"({"ok":true,"result":{}})"},
                      MalformedCase{"NoOk", R"({"v":1,"result":{}})"},
                      MalformedCase{"ErrorWithoutError", R"({"v":1,"ok":false})"},
                      MalformedCase{"UnknownEvent", R"({"v":1,"event":"format-disk"})"},
                      MalformedCase{"NeedPinEvent", R"({"v":1,"event":"need-pin","retries":3})"},
                      MalformedCase{"EventOnListing",
                                    R"({"v":1,"event":"touch-token","step":1,"steps":1})"}),
    [](const ::testing::TestParamInfo<MalformedCase>& test) {
      return std::string(test.param.name);
    });

TEST_F(ExchangeTest, ARaisedCancelFlagStopsWaitingForTheAnswer) {
  const Script script([this](DaemonConnection& d) {
    d.next();
    cancel_.raise();  // Ctrl-C while touchpassd has not answered yet
  });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::cancelled);
}

TEST(InsertTokenCountdown, TellsTheSecondsLeftAndRefusesMissingOnes) {
  EXPECT_EQ(*insert_token_countdown({{"timeout", 30}, {"remaining", 29}}),
            "Insert your security key… 29 s left (Ctrl-C cancels)");
  EXPECT_EQ(*insert_token_countdown({{"remaining", 0}}),
            "Insert your security key… 0 s left (Ctrl-C cancels)");
  EXPECT_EQ(insert_token_countdown({{"timeout", 30}}).error().code, Code::protocol_error);
  EXPECT_EQ(insert_token_countdown({{"remaining", -1}}).error().code, Code::protocol_error);
  EXPECT_EQ(insert_token_countdown({{"remaining", "9"}}).error().code, Code::protocol_error);
}

TEST(DisplayEventLine, ShowsPromptsAndRefusesMalformedFields) {
  EXPECT_EQ(**display_event_line("insert-token", {{"timeout", 30}}), "Insert your security key…\n");
  EXPECT_EQ(**display_event_line("touch-token", {{"step", 1}, {"steps", 1}}),
            "Touch your security key…\n");
  EXPECT_EQ(**display_event_line("touch-token", {{"step", 2}, {"steps", 3}}),
            "Touch your security key… (step 2 of 3)\n");
  EXPECT_FALSE(*display_event_line("need-pin", {{"retries", 3}}));  // answered, not shown
  for (const auto& [event, body] :
       std::vector<std::pair<std::string, Json>>{{"touch-token", {{"step", 3}, {"steps", 2}}},
                                                 {"touch-token", Json::object()},
                                                 {"progress", Json::object()}}) {
    EXPECT_EQ(display_event_line(event, body).code(), Code::protocol_error) << event;
  }
}

TEST_F(ExchangeTest, OtherProtocolVersionIsAnError) {
  const Script script([](DaemonConnection& d) {
    d.next();
    d.send(R"({"v":2,"ok":true,"result":{}})");
  });
  auto answer = run(script, list_request());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::general);
}

TEST(ConnectTest, MissingSocketSaysTheDaemonIsNotRunning) {
  auto fd = connect_to_daemon("/nonexistent/touchpassd.sock");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().message,
            "touchpassd is not running (cannot connect to /nonexistent/touchpassd.sock).");
}

TEST(ConnectTest, AFullQueueOfConnectionsIsBusyAfterTheTimeoutNotAHang) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tp-full-" + std::to_string(::getpid()))).string();
  ::unlink(path.c_str());
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  path.copy(sun.sun_path, sizeof sun.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun), 0);
  ASSERT_EQ(::listen(listener.get(), 0), 0);  // never accepts
  // Fill its queue: non-blocking connects until one would have to wait.
  std::vector<UniqueFd> queued;
  for (int i = 0; i < 64; ++i) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) break;
    queued.push_back(std::move(fd));
  }
  auto fd = connect_to_daemon(path, 300ms);
  ::unlink(path.c_str());
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.code(), Code::busy) << fd.error().message;
  EXPECT_NE(fd.error().message.find("did not take the connection"), std::string::npos);
}

}  // namespace
}  // namespace touchpass::cli
