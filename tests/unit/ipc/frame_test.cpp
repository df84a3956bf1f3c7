#include "ipc/frame.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace touchpass::ipc {
namespace {

using namespace std::chrono_literals;

class FrameTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  void TearDown() override {
    if (fds_[0] >= 0) ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  void send_raw(const std::vector<std::uint8_t>& bytes) {
    ASSERT_EQ(::send(fds_[1], bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }
  int fds_[2] = {-1, -1};
  ReadLimits quick_{1000ms, 200ms};
};

TEST_F(FrameTest, RoundTripsJsonAndSecret) {
  const std::uint8_t pin[] = {'1', '2', '3', '4'};
  ASSERT_TRUE(write_frame(fds_[1], R"({"op":"pin"})", pin).ok());
  ASSERT_TRUE(write_frame(fds_[1], R"({"op":"cancel"})").ok());
  auto a = read_frame(fds_[0], quick_);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->json, R"({"op":"pin"})");
  EXPECT_EQ(a->secret.view(), "1234");
  auto b = read_frame(fds_[0], quick_);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->json, R"({"op":"cancel"})");
  EXPECT_TRUE(b->secret.empty());
}

TEST_F(FrameTest, LargestAllowedMessagePasses) {
  const std::string big(kMaxJsonSize, 'x');
  std::thread writer([&] { ASSERT_TRUE(write_frame(fds_[1], big).ok()); });
  auto f = read_frame(fds_[0], quick_);
  writer.join();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->json.size(), kMaxJsonSize);
}

TEST_F(FrameTest, OversizedAndEmptyMessagesAreRefused) {
  send_raw({0x00, 0x01, 0x00, 0x01, 0x00, 0x00});  // 65537 bytes of JSON announced
  auto over = read_frame(fds_[0], quick_);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.code(), Code::invalid_argument);
  send_raw({0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(read_frame(fds_[0], quick_).code(), Code::invalid_argument);
  send_raw({0x00, 0x00, 0x00, 0x02, 0x01, 0x01, '{', '}'});  // 257-byte secret
  EXPECT_EQ(read_frame(fds_[0], quick_).code(), Code::invalid_argument);
}

TEST_F(FrameTest, TruncatedMessageIsAnErrorNotAHang) {
  send_raw({0x00, 0x00, 0x00, 0x10, 0x00, 0x00, '{', '"'});
  ::shutdown(fds_[1], SHUT_WR);
  auto f = read_frame(fds_[0], quick_);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.code(), Code::invalid_argument);
}

TEST_F(FrameTest, StalledSenderTimesOut) {
  send_raw({0x00, 0x00, 0x00, 0x10});  // half a header, then nothing
  auto f = read_frame(fds_[0], quick_);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.code(), Code::invalid_argument);
}

TEST_F(FrameTest, CleanCloseBeforeAMessageIsNotFound) {
  ::close(fds_[1]);
  fds_[1] = -1;
  EXPECT_EQ(read_frame(fds_[0], quick_).code(), Code::not_found);
}

TEST_F(FrameTest, IdleDeadlineApplies) {
  auto f = read_frame(fds_[0], ReadLimits{50ms, 50ms});
  EXPECT_EQ(f.code(), Code::io_error);
}

}  // namespace
}  // namespace touchpass::ipc
