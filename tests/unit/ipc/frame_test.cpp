#include "ipc/frame.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/fd_pairs.h"

namespace touchpass::ipc {
namespace {

using namespace std::chrono_literals;

class FrameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pair = touchpass::testing::make_socket_pair();
    ASSERT_TRUE(pair.ok()) << pair.error().message;
    pair_ = std::move(*pair);
  }
  int read_end() const { return pair_.first.get(); }
  int write_end() const { return pair_.second.get(); }
  void send_raw(const std::vector<std::uint8_t>& bytes) {
    ASSERT_EQ(::send(write_end(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }
  touchpass::testing::SocketPair pair_;  // the reader's end first
  ReadLimits quick_{1000ms, 200ms};
};

TEST_F(FrameTest, RoundTripsJsonAndSecret) {
  const std::uint8_t pin[] = {'1', '2', '3', '4'};
  ASSERT_TRUE(write_frame(write_end(), R"({"op":"pin"})", pin).ok());
  ASSERT_TRUE(write_frame(write_end(), R"({"op":"cancel"})").ok());
  auto a = read_frame(read_end(), quick_);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->json, R"({"op":"pin"})");
  EXPECT_EQ(a->secret.view(), "1234");
  auto b = read_frame(read_end(), quick_);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->json, R"({"op":"cancel"})");
  EXPECT_TRUE(b->secret.empty());
}

TEST_F(FrameTest, LargestAllowedMessagePasses) {
  const std::string big(kMaxJsonSize, 'x');
  std::thread writer([&] { ASSERT_TRUE(write_frame(write_end(), big).ok()); });
  auto f = read_frame(read_end(), quick_);
  writer.join();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->json.size(), kMaxJsonSize);
}

TEST_F(FrameTest, OversizedAndEmptyMessagesAreRefused) {
  send_raw({0x00, 0x01, 0x00, 0x01, 0x00, 0x00});  // 65537 bytes of JSON announced
  auto over = read_frame(read_end(), quick_);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.code(), Code::invalid_argument);
  send_raw({0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(read_frame(read_end(), quick_).code(), Code::invalid_argument);
  send_raw({0x00, 0x00, 0x00, 0x02, 0x01, 0x01, '{', '}'});  // 257-byte secret
  EXPECT_EQ(read_frame(read_end(), quick_).code(), Code::invalid_argument);
}

TEST_F(FrameTest, TruncatedMessageIsAnErrorNotAHang) {
  send_raw({0x00, 0x00, 0x00, 0x10, 0x00, 0x00, '{', '"'});
  ::shutdown(write_end(), SHUT_WR);
  auto f = read_frame(read_end(), quick_);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.code(), Code::invalid_argument);
}

TEST_F(FrameTest, StalledSenderTimesOut) {
  send_raw({0x00, 0x00, 0x00, 0x10});  // half a header, then nothing
  auto f = read_frame(read_end(), quick_);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.code(), Code::invalid_argument);
}

TEST_F(FrameTest, CleanCloseBeforeAMessageIsNotFound) {
  pair_.second.reset();
  EXPECT_EQ(read_frame(read_end(), quick_).code(), Code::not_found);
}

TEST_F(FrameTest, IdleDeadlineApplies) {
  auto f = read_frame(read_end(), ReadLimits{50ms, 50ms});
  EXPECT_EQ(f.code(), Code::io_error);
}

// Sends a 100-byte message one byte every 20 ms (over 2 s in all) while `read` runs; returns
// what it read. Never silent for long, so only a deadline for the whole message (not one per
// read) ends it.
template <class Read>
Code read_trickled(int reader_fd, int writer_fd, Read read) {
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    const std::string frame = std::string("\x00\x00\x00\x64\x00\x00", 6) + std::string(100, ' ');
    for (char c : frame) {
      if (stop || ::send(writer_fd, &c, 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(20ms);
    }
  });
  const Code code = read(reader_fd);
  stop = true;
  trickle.join();
  return code;
}

TEST_F(FrameTest, ATrickledMessageIsCutByTheWholeMessageDeadline) {
  const ReadLimits limits{1000ms, 150ms};
  EXPECT_EQ(read_trickled(read_end(), write_end(),
                          [&](int fd) {
                            FrameReader reader(fd);
                            return reader.read(limits).code();
                          }),
            Code::invalid_argument);
  auto other = touchpass::testing::make_socket_pair();
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(read_trickled(other->first.get(), other->second.get(),
                          [&](int fd) { return read_frame(fd, limits).code(); }),
            Code::invalid_argument);
}

TEST_F(FrameTest, OneDeadlineForAWholeAnswerCoversItsFirstByteAndItsRest) {
  // Nothing at all by the deadline: io_error.
  EXPECT_EQ(read_frame_by(read_end(), std::chrono::steady_clock::now() + 50ms).code(),
            Code::io_error);
  // A message that began and trickles on: cut by the same deadline (not a fresh one from its
  // first byte), as a broken message.
  EXPECT_EQ(
      read_trickled(read_end(), write_end(),
                    [&](int fd) {
                      return read_frame_by(fd, std::chrono::steady_clock::now() + 600ms).code();
                    }),
      Code::invalid_argument);
}

TEST_F(FrameTest, OneDeadlineReadsAWholeAnswerAndItsSecret) {
  const std::uint8_t secret[] = {'s', 'e', 'c'};
  ASSERT_TRUE(write_frame(write_end(), R"({"ok":true})", secret).ok());
  auto f = read_frame_by(read_end(), std::chrono::steady_clock::now() + 5s);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->json, R"({"ok":true})");
  EXPECT_EQ(f->secret.view(), "sec");
  send_raw({0x00, 0x01, 0x00, 0x01, 0x00, 0x00});  // 65537 bytes: over the limit
  EXPECT_EQ(read_frame_by(read_end(), std::chrono::steady_clock::now() + 5s).code(),
            Code::invalid_argument);
}

TEST_F(FrameTest, TheReaderTakesSeveralMessagesFromOneWriteAndLargeOnesBeyondItsBuffer) {
  const std::uint8_t pin[] = {'1', '2', '3', '4'};
  const std::string big(kMaxJsonSize, 'x');
  std::thread writer([&] {
    // Two small messages, then a large one, then another small one.
    std::string both;
    ASSERT_TRUE(write_frame(write_end(), R"({"a":1})", pin).ok());
    ASSERT_TRUE(write_frame(write_end(), R"({"b":2})").ok());
    ASSERT_TRUE(write_frame(write_end(), big, pin).ok());
    ASSERT_TRUE(write_frame(write_end(), R"({"c":3})").ok());
  });
  FrameReader reader(read_end());
  auto a = reader.read(quick_);
  auto b = reader.read(quick_);
  auto c = reader.read(quick_);
  auto d = reader.read(quick_);
  writer.join();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(a->json, R"({"a":1})");
  EXPECT_EQ(a->secret.view(), "1234");
  EXPECT_EQ(b->json, R"({"b":2})");
  EXPECT_TRUE(b->secret.empty());
  EXPECT_EQ(c->json, big);
  EXPECT_EQ(c->secret.view(), "1234");
  EXPECT_EQ(d->json, R"({"c":3})");
  EXPECT_FALSE(reader.has_buffered());
  EXPECT_EQ(reader.read(ReadLimits{20ms, 20ms}).code(), Code::io_error);  // idle
  pair_.second.reset();
  EXPECT_EQ(reader.read(quick_).code(), Code::not_found);  // closed cleanly
}

TEST_F(FrameTest, APeerThatDoesNotReadCannotHoldAWriterWithADeadline) {
  const std::string json(kMaxJsonSize, 'x');
  Status s;
  for (int i = 0; i < 1000 && s.ok(); ++i) s = write_frame(write_end(), json, {}, 50ms);
  EXPECT_EQ(s.code(), Code::io_error);
}

}  // namespace
}  // namespace touchpass::ipc
