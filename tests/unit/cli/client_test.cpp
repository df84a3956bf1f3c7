#include "cli/client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "cli/exit_code.h"
#include "cli_test_support.h"

namespace touchpass::cli {
namespace {

using namespace testing;
using ipc::Json;

// A PIN source that fails the test if the client asks it for anything.
class NeverAsked final : public PinSource {
 public:
  Result<SecretBytes> current_pin(int) override {
    ADD_FAILURE() << "asked for a PIN";
    return Error{Code::cancelled, "no"};
  }
  Result<SecretBytes> new_pin(int) override {
    ADD_FAILURE() << "asked for a new PIN";
    return Error{Code::cancelled, "no"};
  }
};

// Standard input stand-in: a pipe holding `text`.
class InputPipe {
 public:
  explicit InputPipe(std::string_view text) {
    EXPECT_EQ(::pipe(fds_), 0);
    EXPECT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fds_[1]);
  }
  ~InputPipe() { ::close(fds_[0]); }
  int fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

// An interactive request (the daemon still drives the key for enroll).
ipc::Request interactive_request() {
  ipc::Request r;
  r.op = ipc::Op::enroll;
  r.label = "thunderbird";
  return r;
}

ipc::Request list_request() {
  ipc::Request r;
  r.op = ipc::Op::list;
  return r;
}

class ExchangeTest : public ::testing::Test {
 protected:
  Result<Answer> run(PairedDaemon& daemon, const ipc::Request& request, PinSource& pins) {
    return exchange(daemon.client_fd(), request, console_, pins, cancel_, timing_);
  }

  RecordingConsole console_;
  CancelFlag cancel_;
  ExchangeTiming timing_{.poll_interval = 20ms, .cancel_grace = 300ms, .reply_timeout = 2000ms};
  NeverAsked never_asked_;
};

TEST_F(ExchangeTest, NonInteractiveAnswerIsReturned) {
  PairedDaemon daemon([](const DaemonEnd& d) {
    const Json request = d.next_json();
    EXPECT_EQ(request["op"], "list");
    EXPECT_EQ(request["v"], 1);
    d.ok({{"grants", Json::array()}});
  });
  auto answer = run(daemon, list_request(), never_asked_);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->result, Json({{"grants", Json::array()}}));
  EXPECT_TRUE(answer->secret.empty());
}

TEST_F(ExchangeTest, PinFromStdinTravelsOnlyInTheSecretPart) {
  InputPipe stdin_pipe("482916\n");
  LinePinSource pins(stdin_pipe.fd(), cancel_);
  PairedDaemon daemon([](const DaemonEnd& d) {
    const ipc::Frame request = d.next();
    EXPECT_EQ(request.json.find("482916"), std::string::npos);
    EXPECT_TRUE(request.secret.empty());
    d.event("need-pin", {{"retries", 7}});
    const ipc::Frame pin = d.next();
    EXPECT_EQ(Json::parse(pin.json), Json({{"v", 1}, {"op", "pin"}}));
    EXPECT_EQ(pin.json.find("482916"), std::string::npos);
    EXPECT_EQ(pin.secret.view(), "482916");
    d.event("touch-token", {{"step", 1}, {"steps", 1}});
    d.ok({{"grant", {{"name", "thunderbird"}}}}, "k7qm-x9fj-4tca-2hwe-p3vn");
  });
  auto answer = run(daemon, interactive_request(), pins);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->secret.view(), "k7qm-x9fj-4tca-2hwe-p3vn");
  EXPECT_EQ(console_.err_text.find("482916"), std::string::npos);
  EXPECT_EQ(console_.out_text, "");
}

TEST_F(ExchangeTest, NewPinFromStdinIsSentOnceWithoutConfirmation) {
  InputPipe stdin_pipe("new-pin-1\n");
  LinePinSource pins(stdin_pipe.fd(), cancel_);
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.event("need-new-pin", {{"min_length", 4}});
    EXPECT_EQ(d.next().secret.view(), "new-pin-1");
    d.event("touch-token", {{"step", 1}, {"steps", 2}});
    d.event("touch-token", {{"step", 2}, {"steps", 2}});
    d.ok({{"token", {{"label", "key"}}}});
  });
  ipc::Request enroll;
  enroll.op = ipc::Op::enroll;
  auto answer = run(daemon, enroll, pins);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_NE(console_.err_text.find("Touch your security key… (step 1 of 2)\n"), std::string::npos);
  EXPECT_NE(console_.err_text.find("Touch your security key… (step 2 of 2)\n"), std::string::npos);
}

TEST_F(ExchangeTest, NeedPinWithoutTerminalCancelsWithAClearError) {
  NoTerminalPinSource pins;
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.event("need-pin", {{"retries", 8}});
    const ipc::Frame reply = d.next();
    EXPECT_EQ(Json::parse(reply.json), Json({{"v", 1}, {"op", "cancel"}}));
    EXPECT_TRUE(reply.secret.empty());
    d.error(Code::cancelled, "Cancelled.");
  });
  auto answer = run(daemon, interactive_request(), pins);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().message,
            "A PIN is needed but there is no terminal to ask on; use --pin-stdin.");
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::token);
}

TEST_F(ExchangeTest, RaisedCancelFlagSendsCancelAndEndsCancelled) {
  PairedDaemon daemon([this](const DaemonEnd& d) {
    d.next();
    d.event("touch-token", {{"step", 1}, {"steps", 1}});
    // The user presses Ctrl-C while the token waits for a touch — after seeing the prompt.
    for (int i = 0; i < 500 && console_.err_writes == 0; ++i) std::this_thread::sleep_for(10ms);
    cancel_.raise();
    EXPECT_EQ(d.next_json()["op"], "cancel");
    d.error(Code::cancelled, "Cancelled.");
  });
  auto answer = run(daemon, interactive_request(), never_asked_);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::cancelled);
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::cancelled);
  EXPECT_NE(console_.err_text.find("Touch your security key…\n"), std::string::npos);
}

TEST_F(ExchangeTest, CancelGivesUpWhenTheDaemonDoesNotAnswerIt) {
  PairedDaemon daemon([this](const DaemonEnd& d) {
    d.next();
    d.event("insert-token", {{"timeout", 30}});
    cancel_.raise();
    EXPECT_EQ(d.next_json()["op"], "cancel");
    std::this_thread::sleep_for(1s);  // a daemon that does not notice the cancel
  });
  const auto start = std::chrono::steady_clock::now();
  auto answer = run(daemon, interactive_request(), never_asked_);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::cancelled);
}

TEST_F(ExchangeTest, EventsAfterTheCancelAreNotAnswered) {
  PairedDaemon daemon([this](const DaemonEnd& d) {
    d.next();
    cancel_.raise();
    EXPECT_EQ(d.next_json()["op"], "cancel");
    d.event("need-pin", {{"retries", 8}});  // sent before the daemon saw the cancel
    d.error(Code::cancelled, "Cancelled.");
  });
  auto answer = run(daemon, interactive_request(), never_asked_);
  EXPECT_EQ(answer.code(), Code::cancelled);
}

TEST_F(ExchangeTest, TokenPromptsAreShown) {
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.event("insert-token", {{"timeout", 30}});
    d.event("progress", {{"message", "Checking the security key."}});
    d.event("touch-token", {{"step", 1}, {"steps", 1}});
    d.ok({{"grant", Json::object()}}, "k7qm-x9fj-4tca-2hwe-p3vn");
  });
  auto answer = run(daemon, interactive_request(), never_asked_);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(console_.err_text,
            "Insert your security key…\n"
            "Checking the security key.\n"
            "Touch your security key…\n");
}

TEST_F(ExchangeTest, DaemonErrorsKeepTheirCodeAndSentence) {
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.event("need-pin", {{"retries", 7}});
    d.next();
    d.error(Code::pin_invalid, "Wrong PIN. 6 tries left.", 6);
  });
  InputPipe stdin_pipe("0000\n");
  LinePinSource pins(stdin_pipe.fd(), cancel_);
  auto answer = run(daemon, interactive_request(), pins);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::pin_invalid);
  EXPECT_EQ(answer.error().message, "Wrong PIN. 6 tries left.");
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::token);
}

TEST_F(ExchangeTest, ControlCharactersInDaemonMessagesAreNeutralized) {
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.event("progress", {{"message", "evil\x1b]0;title\x07"}});
    d.error(Code::not_found, "No \x1b[2Japp password.");
  });
  auto answer = run(daemon, interactive_request(), never_asked_);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().message, "No ?[2Japp password.");
  EXPECT_EQ(console_.err_text, "evil?]0;title?\n");
}

TEST_F(ExchangeTest, ClosedConnectionIsAnError) {
  PairedDaemon daemon([](const DaemonEnd& d) { d.next(); });
  auto answer = run(daemon, list_request(), never_asked_);
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
  PairedDaemon daemon([&deep](const DaemonEnd& d) {
    d.next();
    d.send(deep);
  });
  auto answer = run(daemon, list_request(), never_asked_);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::protocol_error);
  EXPECT_NE(answer.error().message.find("The daemon's reply nests too deeply"), std::string::npos)
      << answer.error().message;
}

TEST_F(ExchangeTest, AnAnswerJustWithinTheDepthLimitIsReturned) {
  const std::string shallow = nested_ok_reply(ipc::kMaxJsonDepth);
  PairedDaemon daemon([&shallow](const DaemonEnd& d) {
    d.next();
    d.send(shallow);
  });
  auto answer = run(daemon, list_request(), never_asked_);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->result, Json::parse(shallow)["result"]);
}

struct MalformedCase {
  const char* name;
  bool interactive;
  std::string message;
};

class MalformedReplyTest : public ExchangeTest,
                           public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(MalformedReplyTest, EndsWithAProtocolError) {
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.send(GetParam().message);
  });
  auto answer =
      run(daemon, GetParam().interactive ? interactive_request() : list_request(), never_asked_);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.code(), Code::protocol_error) << answer.error().message;
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::general);
  EXPECT_NE(answer.error().message.find("touchpassd sent a malformed message"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Replies, MalformedReplyTest,
    ::testing::Values(
        MalformedCase{"NotJson", true, "{not json"}, MalformedCase{"NotAnObject", true, "[1,2]"},
        MalformedCase{"NoVersion", true, R"({"ok":true,"result":{}})"},
        MalformedCase{"NoOk", true, R"({"v":1,"result":{}})"},
        MalformedCase{"ErrorWithoutError", true, R"({"v":1,"ok":false})"},
        MalformedCase{"UnknownEvent", true, R"({"v":1,"event":"format-disk"})"},
        MalformedCase{"NeedPinWithoutRetries", true, R"({"v":1,"event":"need-pin"})"},
        MalformedCase{"NeedPinNegativeRetries", true, R"({"v":1,"event":"need-pin","retries":-1})"},
        MalformedCase{"NeedNewPinTextLength", true,
                      R"({"v":1,"event":"need-new-pin","min_length":"4"})"},
        MalformedCase{"TouchStepBeyondSteps", true,
                      R"({"v":1,"event":"touch-token","step":3,"steps":2})"},
        MalformedCase{"ProgressWithoutMessage", true, R"({"v":1,"event":"progress"})"},
        MalformedCase{"EventOnListing", false,
                      R"({"v":1,"event":"touch-token","step":1,"steps":1})"}),
    [](const ::testing::TestParamInfo<MalformedCase>& test) {
      return std::string(test.param.name);
    });

TEST_F(ExchangeTest, OtherProtocolVersionIsAnError) {
  PairedDaemon daemon([](const DaemonEnd& d) {
    d.next();
    d.send(R"({"v":2,"ok":true,"result":{}})");
  });
  auto answer = run(daemon, list_request(), never_asked_);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(exit_code_for(answer.code()), ExitCode::general);
}

TEST(ConnectTest, MissingSocketSaysTheDaemonIsNotRunning) {
  auto fd = connect_to_daemon("/nonexistent/touchpassd.sock");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().message,
            "touchpassd is not running (cannot connect to /nonexistent/touchpassd.sock).");
}

}  // namespace
}  // namespace touchpass::cli
