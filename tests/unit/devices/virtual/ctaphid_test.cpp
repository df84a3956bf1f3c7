// The virtual token's CTAPHID transport and socket server (DESIGN.md §4.3), spoken to directly
// with raw 64-byte reports over SOCK_SEQPACKET, and the touchpass-virtual-token program.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/fd.h"
#include "devices/virtual/authenticator.h"
#include "devices/virtual/ctaphid.h"
#include "devices/virtual/server.h"

namespace touchpass::vtoken {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kBroadcast = ctaphid::kBroadcastCid;
constexpr std::uint8_t kGetInfo = 0x04;
constexpr std::uint8_t kReset = 0x07;  // needs user presence: the simplest request that waits
constexpr auto kReplyTimeout = 3s;

// A fresh directory under $TMPDIR, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "vtoken-hid-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::uint32_t cid_of(std::span<const std::uint8_t> bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

void put_cid(std::uint32_t cid, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(cid >> 24);
  out[1] = static_cast<std::uint8_t>(cid >> 16);
  out[2] = static_cast<std::uint8_t>(cid >> 8);
  out[3] = static_cast<std::uint8_t>(cid);
}

Bytes init_packet(std::uint32_t cid, std::uint8_t command, std::size_t length,
                  std::span<const std::uint8_t> data = {}) {
  Bytes report(ctaphid::kReportSize, 0);
  put_cid(cid, report.data());
  report[4] = static_cast<std::uint8_t>(0x80 | command);
  report[5] = static_cast<std::uint8_t>(length >> 8);
  report[6] = static_cast<std::uint8_t>(length);
  std::copy_n(data.begin(), std::min(data.size(), ctaphid::kInitPayload), report.begin() + 7);
  return report;
}

Bytes continuation_packet(std::uint32_t cid, std::uint8_t sequence,
                          std::span<const std::uint8_t> data = {}) {
  Bytes report(ctaphid::kReportSize, 0);
  put_cid(cid, report.data());
  report[4] = sequence;
  std::copy_n(data.begin(), std::min(data.size(), ctaphid::kContPayload), report.begin() + 5);
  return report;
}

Bytes pattern(std::size_t size) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return bytes;
}

// One reassembled message from the token.
struct Message {
  std::uint32_t cid = 0;
  std::uint8_t command = 0;  // without the 0x80 bit
  Bytes data;
};

// A host speaking raw reports to the server: one connection = one open of the device.
class Client {
 public:
  explicit Client(const fs::path& socket)
      : fd_(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket.c_str(), sizeof address.sun_path - 1);
    connected_ = fd_.valid() && ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address),
                                          sizeof address) == 0;
  }

  bool connected() const { return connected_; }

  // Sends one message of any size as it is.
  bool send_raw(std::span<const std::uint8_t> bytes) {
    return ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Fragments and sends one CTAPHID message.
  void send_message(std::uint32_t cid, std::uint8_t command, std::span<const std::uint8_t> data) {
    ASSERT_TRUE(send_raw(init_packet(cid, command, data.size(), data)));
    std::size_t offset = std::min(data.size(), ctaphid::kInitPayload);
    for (std::uint8_t sequence = 0; offset < data.size(); ++sequence) {
      ASSERT_TRUE(send_raw(continuation_packet(cid, sequence, data.subspan(offset))));
      offset += std::min(ctaphid::kContPayload, data.size() - offset);
    }
  }

  enum class Got { report, timeout, closed };
  // Receives one raw message into `out`.
  Got receive_raw(Bytes& out, std::chrono::milliseconds timeout = kReplyTimeout) {
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return Got::timeout;
    std::array<std::uint8_t, 256> buffer{};
    const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (n <= 0) return Got::closed;
    out.assign(buffer.begin(), buffer.begin() + n);
    return Got::report;
  }

  // Receives and reassembles one message; nullopt on timeout, close or a malformed reply.
  std::optional<Message> receive(std::chrono::milliseconds timeout = kReplyTimeout) {
    Bytes report;
    if (receive_raw(report, timeout) != Got::report) return std::nullopt;
    if (report.size() != ctaphid::kReportSize || (report[4] & 0x80) == 0) return std::nullopt;
    Message message;
    message.cid = cid_of(report);
    message.command = report[4] & 0x7F;
    const std::size_t length = (std::size_t{report[5]} << 8) | report[6];
    message.data.assign(
        report.begin() + 7,
        report.begin() + 7 + static_cast<std::ptrdiff_t>(std::min(length, ctaphid::kInitPayload)));
    for (std::uint8_t sequence = 0; message.data.size() < length; ++sequence) {
      if (receive_raw(report, timeout) != Got::report) return std::nullopt;
      if (report.size() != ctaphid::kReportSize || cid_of(report) != message.cid ||
          report[4] != sequence) {
        return std::nullopt;
      }
      const std::size_t take = std::min(ctaphid::kContPayload, length - message.data.size());
      message.data.insert(message.data.end(), report.begin() + 5,
                          report.begin() + 5 + static_cast<std::ptrdiff_t>(take));
    }
    return message;
  }

  // Receives the next message that is not a KEEPALIVE.
  std::optional<Message> receive_skipping_keepalives(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto message = receive(kReplyTimeout);
      if (!message || message->command != ctaphid::cmd::kKeepalive) return message;
    }
    return std::nullopt;
  }

  // True when nothing arrives within `quiet`.
  bool silent_for(std::chrono::milliseconds quiet) {
    Bytes ignored;
    return receive_raw(ignored, quiet) == Got::timeout;
  }

  // Allocates a channel with INIT on the broadcast channel.
  std::uint32_t open_channel() {
    const Bytes nonce = {1, 2, 3, 4, 5, 6, 7, 8};
    send_message(kBroadcast, ctaphid::cmd::kInit, nonce);
    auto reply = receive();
    if (!reply || reply->command != ctaphid::cmd::kInit || reply->data.size() != 17) return 0;
    return cid_of(std::span(reply->data).subspan(8, 4));
  }

  // Sends a PING and checks the echo.
  bool ping(std::uint32_t cid, std::size_t size = 20) {
    const Bytes payload = pattern(size);
    send_message(cid, ctaphid::cmd::kPing, payload);
    auto reply = receive();
    return reply && reply->cid == cid && reply->command == ctaphid::cmd::kPing &&
           reply->data == payload;
  }

  // Sends whatever and drains what arrives, without blocking.
  void drain() {
    std::array<std::uint8_t, 256> buffer{};
    while (::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
    }
  }

 private:
  UniqueFd fd_;
  bool connected_ = false;
};

// Expects `message` to be CTAPHID_ERROR `code` on `cid`.
void expect_error(const std::optional<Message>& message, std::uint32_t cid, std::uint8_t code) {
  ASSERT_TRUE(message.has_value()) << "no reply";
  EXPECT_EQ(message->cid, cid);
  EXPECT_EQ(message->command, ctaphid::cmd::kError);
  ASSERT_EQ(message->data.size(), 1u);
  EXPECT_EQ(message->data[0], code);
}

PresencePolicy delay(std::uint32_t ms) {
  PresencePolicy policy;
  policy.mode = PresencePolicy::Mode::delay;
  policy.delay_ms = ms;
  return policy;
}

PresencePolicy deny() {
  PresencePolicy policy;
  policy.mode = PresencePolicy::Mode::deny;
  return policy;
}

class CtaphidServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto authenticator = Authenticator::open(Config{}, dir_.path() / "state");
    ASSERT_TRUE(authenticator.ok()) << authenticator.error().message;
    authenticator_ = std::shared_ptr<Authenticator>(std::move(*authenticator));
    auto server = VirtualTokenServer::start(socket_path(), authenticator_, PresencePolicy{});
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }

  fs::path socket_path() const { return dir_.path() / "token.sock"; }

  TempDir dir_;
  std::shared_ptr<Authenticator> authenticator_;
  std::unique_ptr<VirtualTokenServer> server_;
};

// ---- Channels ----

TEST_F(CtaphidServerTest, InitOnBroadcastAllocatesAFreshChannel) {
  Client client(socket_path());
  ASSERT_TRUE(client.connected());
  const Bytes nonce = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
  client.send_message(kBroadcast, ctaphid::cmd::kInit, nonce);
  auto reply = client.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, kBroadcast);
  EXPECT_EQ(reply->command, ctaphid::cmd::kInit);
  ASSERT_EQ(reply->data.size(), 17u);
  EXPECT_TRUE(std::equal(nonce.begin(), nonce.end(), reply->data.begin()));
  const std::uint32_t cid = cid_of(std::span(reply->data).subspan(8, 4));
  EXPECT_NE(cid, 0u);
  EXPECT_NE(cid, kBroadcast);
  EXPECT_EQ(reply->data[12], 2) << "CTAPHID protocol version";
  EXPECT_EQ(reply->data[16], ctaphid::kCapWink | ctaphid::kCapCbor | ctaphid::kCapNmsg);

  const std::uint32_t second = client.open_channel();
  EXPECT_NE(second, 0u);
  EXPECT_NE(second, cid);
  Client other(socket_path());
  const std::uint32_t third = other.open_channel();
  EXPECT_NE(third, cid);
  EXPECT_NE(third, second);
}

TEST_F(CtaphidServerTest, InitWithWrongNonceLengthIsInvalidLen) {
  Client client(socket_path());
  client.send_message(kBroadcast, ctaphid::cmd::kInit, Bytes(4, 1));
  expect_error(client.receive(), kBroadcast, ctaphid::err::kInvalidLen);
}

TEST_F(CtaphidServerTest, InitOnAllocatedChannelResynchronises) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  // Begin a two-packet PING, then resynchronise instead of finishing it.
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kPing, 100, pattern(57))));
  const Bytes nonce = {9, 8, 7, 6, 5, 4, 3, 2};
  client.send_message(cid, ctaphid::cmd::kInit, nonce);
  auto reply = client.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, cid);
  EXPECT_EQ(reply->command, ctaphid::cmd::kInit);
  ASSERT_EQ(reply->data.size(), 17u);
  EXPECT_TRUE(std::equal(nonce.begin(), nonce.end(), reply->data.begin()));
  EXPECT_EQ(cid_of(std::span(reply->data).subspan(8, 4)), cid);
  // The abandoned PING's continuation is now spurious and ignored.
  ASSERT_TRUE(client.send_raw(continuation_packet(cid, 0, pattern(59))));
  EXPECT_TRUE(client.silent_for(200ms));
  EXPECT_TRUE(client.ping(cid));
}

// ---- Commands ----

TEST_F(CtaphidServerTest, PingEchoesMultiPacketPayloads) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  EXPECT_TRUE(client.ping(cid, 0));
  EXPECT_TRUE(client.ping(cid, 57));
  EXPECT_TRUE(client.ping(cid, 58));
  EXPECT_TRUE(client.ping(cid, 200));
  EXPECT_TRUE(client.ping(cid, ctaphid::kMaxMessage));
}

TEST_F(CtaphidServerTest, WinkRepliesEmpty) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kWink, {});
  auto reply = client.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, cid);
  EXPECT_EQ(reply->command, ctaphid::cmd::kWink);
  EXPECT_TRUE(reply->data.empty());
}

TEST_F(CtaphidServerTest, CborGetInfoSucceeds) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  const Bytes request = {kGetInfo};
  client.send_message(cid, ctaphid::cmd::kCbor, request);
  auto reply = client.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, cid);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  ASSERT_FALSE(reply->data.empty());
  EXPECT_EQ(reply->data[0], ctap::kOk);
  EXPECT_GT(reply->data.size(), 1u) << "getInfo returns a CBOR map";
}

TEST_F(CtaphidServerTest, EmptyCborRequestIsInvalidLen) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, {});
  expect_error(client.receive(), cid, ctaphid::err::kInvalidLen);
}

TEST_F(CtaphidServerTest, CancelWithNothingPendingGetsNoReply) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCancel, {});
  EXPECT_TRUE(client.silent_for(200ms));
  EXPECT_TRUE(client.ping(cid));
}

// ---- Errors ----

TEST_F(CtaphidServerTest, UnknownAndUnsupportedCommandsAreInvalidCmd) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  for (std::uint8_t command : {std::uint8_t{0x55}, ctaphid::cmd::kMsg, ctaphid::cmd::kLock,
                               ctaphid::cmd::kKeepalive, ctaphid::cmd::kError}) {
    client.send_message(cid, command, Bytes{1});
    expect_error(client.receive(), cid, ctaphid::err::kInvalidCmd);
  }
}

TEST_F(CtaphidServerTest, WrongSequenceIsInvalidSeqAndDropsTheMessage) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kPing, 200, pattern(57))));
  ASSERT_TRUE(client.send_raw(continuation_packet(cid, 0, pattern(59))));
  ASSERT_TRUE(client.send_raw(continuation_packet(cid, 2, pattern(59))));
  expect_error(client.receive(), cid, ctaphid::err::kInvalidSeq);
  ASSERT_TRUE(client.send_raw(continuation_packet(cid, 3, pattern(59))));  // ignored now
  EXPECT_TRUE(client.silent_for(200ms));
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, NewMessageOnTheSameChannelMidMessageIsInvalidSeq) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kPing, 200, pattern(57))));
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kPing, 4, pattern(4))));
  expect_error(client.receive(), cid, ctaphid::err::kInvalidSeq);
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, SpuriousContinuationIsIgnored) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  ASSERT_TRUE(client.send_raw(continuation_packet(cid, 0, pattern(59))));
  EXPECT_TRUE(client.silent_for(200ms));
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, BadChannelsAreInvalidChannel) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  // Unallocated, and allocated to another connection.
  Client other(socket_path());
  const std::uint32_t foreign = other.open_channel();
  for (std::uint32_t bad : {cid + 1000, foreign}) {
    client.send_message(bad, ctaphid::cmd::kPing, Bytes{1, 2});
    expect_error(client.receive(), bad, ctaphid::err::kInvalidChannel);
  }
  client.send_message(0, ctaphid::cmd::kInit, Bytes(8, 1));
  expect_error(client.receive(), 0, ctaphid::err::kInvalidChannel);
  client.send_message(kBroadcast, ctaphid::cmd::kPing, Bytes{1, 2});
  expect_error(client.receive(), kBroadcast, ctaphid::err::kInvalidChannel);
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, TooLongMessagesAreInvalidLen) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kPing, ctaphid::kMaxMessage + 1)));
  expect_error(client.receive(), cid, ctaphid::err::kInvalidLen);
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kCbor, 2049)));
  expect_error(client.receive(), cid, ctaphid::err::kInvalidLen);
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, ReportsOfAnotherSizeAreFramingErrors) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  for (std::size_t size : {std::size_t{4}, std::size_t{63}, std::size_t{65}, std::size_t{200}}) {
    Bytes report = init_packet(cid, ctaphid::cmd::kPing, 1);
    report.resize(size);
    ASSERT_TRUE(client.send_raw(report));
    expect_error(client.receive(), cid, ctaphid::err::kInvalidLen);
  }
  // Too short to name a channel: dropped without a reply.
  for (std::size_t size : {std::size_t{0}, std::size_t{3}}) {
    ASSERT_TRUE(client.send_raw(Bytes(size, 0xff)));
  }
  EXPECT_TRUE(client.silent_for(200ms));
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, MissingContinuationTimesOut) {
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  const auto start = Clock::now();
  ASSERT_TRUE(client.send_raw(init_packet(cid, ctaphid::cmd::kPing, 100, pattern(57))));
  expect_error(client.receive(), cid, ctaphid::err::kMsgTimeout);
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 450ms);
  EXPECT_LT(elapsed, 2s);
  EXPECT_TRUE(client.ping(cid));
}

// ---- Busy ----

TEST_F(CtaphidServerTest, AnotherChannelMidMessageIsBusy) {
  Client client(socket_path());
  const std::uint32_t first = client.open_channel();
  const std::uint32_t second = client.open_channel();
  ASSERT_TRUE(client.send_raw(init_packet(first, ctaphid::cmd::kPing, 100, pattern(57))));
  client.send_message(second, ctaphid::cmd::kPing, Bytes{1});
  expect_error(client.receive(), second, ctaphid::err::kChannelBusy);
  // The first message is unaffected.
  ASSERT_TRUE(client.send_raw(continuation_packet(first, 0, Bytes(59, 0x11))));
  auto reply = client.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, first);
  EXPECT_EQ(reply->command, ctaphid::cmd::kPing);
  EXPECT_EQ(reply->data.size(), 100u);
}

TEST_F(CtaphidServerTest, TrafficWhileWaitingForPresenceIsBusy) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  const std::uint32_t other_cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  auto keepalive = client.receive();
  ASSERT_TRUE(keepalive);
  ASSERT_EQ(keepalive->command, ctaphid::cmd::kKeepalive);

  // Same connection, other channel; same channel, another command.
  client.send_message(other_cid, ctaphid::cmd::kPing, Bytes{1});
  client.send_message(cid, ctaphid::cmd::kPing, Bytes{1});
  int busy_other = 0;
  int busy_same = 0;
  for (int i = 0; i < 50 && (busy_other == 0 || busy_same == 0); ++i) {
    auto message = client.receive();
    ASSERT_TRUE(message);
    if (message->command == ctaphid::cmd::kKeepalive) continue;
    expect_error(message, message->cid, ctaphid::err::kChannelBusy);
    (message->cid == cid ? busy_same : busy_other) += 1;
  }
  EXPECT_EQ(busy_same, 1);
  EXPECT_EQ(busy_other, 1);

  // Another connection: CBOR is busy, PING is still answered.
  Client second(socket_path());
  const std::uint32_t second_cid = second.open_channel();
  second.send_message(second_cid, ctaphid::cmd::kCbor, Bytes{kGetInfo});
  expect_error(second.receive(), second_cid, ctaphid::err::kChannelBusy);
  EXPECT_TRUE(second.ping(second_cid));

  // After the cancel, the device is free again.
  client.send_message(cid, ctaphid::cmd::kCancel, {});
  auto reply = client.receive_skipping_keepalives();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  second.send_message(second_cid, ctaphid::cmd::kCbor, Bytes{kGetInfo});
  reply = second.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
}

TEST_F(CtaphidServerTest, CancelOnAnotherChannelWhileWaitingIsIgnored) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  const std::uint32_t other_cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  auto keepalive = client.receive();
  ASSERT_TRUE(keepalive);
  ASSERT_EQ(keepalive->command, ctaphid::cmd::kKeepalive);

  // CTAP 2.1 §11.2.9.1.5: ignored, no reply; the request goes on until its own channel cancels.
  client.send_message(other_cid, ctaphid::cmd::kCancel, {});
  client.send_message(cid, ctaphid::cmd::kCancel, {});
  auto reply = client.receive_skipping_keepalives();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, cid) << "the first answer is the cancelled request's";
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  EXPECT_EQ(reply->data, Bytes{ctap::kKeepaliveCancel});
}

// ---- Presence ----

TEST_F(CtaphidServerTest, KeepalivesWhilePresenceIsDelayedAndCancelEndsTheRequest) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  auto previous = Clock::now();
  for (int i = 0; i < 5; ++i) {
    auto keepalive = client.receive();
    const auto now = Clock::now();
    ASSERT_TRUE(keepalive);
    EXPECT_EQ(keepalive->cid, cid);
    ASSERT_EQ(keepalive->command, ctaphid::cmd::kKeepalive);
    ASSERT_EQ(keepalive->data.size(), 1u);
    EXPECT_EQ(keepalive->data[0], ctaphid::keepalive::kUpNeeded);
    EXPECT_LT(now - previous, 250ms) << "KEEPALIVE is due at least every 100 ms";
    previous = now;
  }
  client.send_message(cid, ctaphid::cmd::kCancel, {});
  auto reply = client.receive_skipping_keepalives();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, cid);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  EXPECT_EQ(reply->data, Bytes{ctap::kKeepaliveCancel});
  EXPECT_TRUE(client.ping(cid));
}

TEST_F(CtaphidServerTest, DelayedPresenceIsApprovedAfterTheDelay) {
  server_->set_presence(delay(300));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  const auto start = Clock::now();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  int keepalives = 0;
  std::optional<Message> reply;
  while ((reply = client.receive()) && reply->command == ctaphid::cmd::kKeepalive) ++keepalives;
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  EXPECT_NE(reply->data.at(0), ctap::kKeepaliveCancel);
  EXPECT_NE(reply->data.at(0), ctap::kOperationDenied);
  EXPECT_GE(Clock::now() - start, 300ms);
  EXPECT_GE(keepalives, 3);
}

TEST_F(CtaphidServerTest, ChangingThePolicyDuringAWaitTakesEffect) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  ASSERT_TRUE(client.receive());  // the first KEEPALIVE: the wait has begun
  server_->set_presence(PresencePolicy{});
  auto reply = client.receive_skipping_keepalives();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  EXPECT_NE(reply->data.at(0), ctap::kKeepaliveCancel);
}

TEST_F(CtaphidServerTest, DeniedPresenceEndsTheRequest) {
  server_->set_presence(deny());
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  auto reply = client.receive_skipping_keepalives();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor);
  EXPECT_EQ(reply->data, Bytes{ctap::kOperationDenied});
}

TEST_F(CtaphidServerTest, InitDuringAWaitAbortsTheRequestAndResynchronises) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  ASSERT_TRUE(client.receive());
  const Bytes nonce = {1, 1, 2, 3, 5, 8, 13, 21};
  client.send_message(cid, ctaphid::cmd::kInit, nonce);
  auto reply = client.receive_skipping_keepalives();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->cid, cid);
  ASSERT_EQ(reply->command, ctaphid::cmd::kInit);
  EXPECT_TRUE(std::equal(nonce.begin(), nonce.end(), reply->data.begin()));
  EXPECT_TRUE(client.silent_for(200ms)) << "the aborted request gets no reply";
  EXPECT_TRUE(client.ping(cid));
}

// ---- Server lifecycle ----

TEST_F(CtaphidServerTest, DropConnectionsDuringAWaitClosesTheSocketAndKeepsListening) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  ASSERT_TRUE(client.receive());
  server_->drop_connections();
  Bytes report;
  Client::Got got = Client::Got::report;
  for (int i = 0; i < 100 && got == Client::Got::report; ++i) got = client.receive_raw(report);
  EXPECT_EQ(got, Client::Got::closed);

  server_->set_presence(PresencePolicy{});
  Client again(socket_path());
  ASSERT_TRUE(again.connected());
  const std::uint32_t again_cid = again.open_channel();
  EXPECT_TRUE(again.ping(again_cid));
  again.send_message(again_cid, ctaphid::cmd::kCbor, Bytes{kGetInfo});
  auto reply = again.receive();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->command, ctaphid::cmd::kCbor) << "the device is no longer busy";
}

TEST_F(CtaphidServerTest, StopDuringAWaitIsPromptRemovesTheSocketAndIsIdempotent) {
  server_->set_presence(delay(60'000));
  Client client(socket_path());
  const std::uint32_t cid = client.open_channel();
  client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kReset});
  ASSERT_TRUE(client.receive());
  const auto start = Clock::now();
  server_->stop();
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_FALSE(fs::exists(fs::symlink_status(socket_path())));
  Client late(socket_path());
  EXPECT_FALSE(late.connected());
  server_->stop();
  server_.reset();
}

TEST_F(CtaphidServerTest, SocketIsGroupAccessible) {
  struct stat st {};
  ASSERT_EQ(::lstat(socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(CtaphidServerTest, StartRefusesALiveSocketAndNonSockets) {
  // Live: our own server is serving it.
  auto again = VirtualTokenServer::start(socket_path(), authenticator_, PresencePolicy{});
  EXPECT_FALSE(again.ok());
  Client client(socket_path());
  EXPECT_TRUE(client.ping(client.open_channel())) << "the serving socket was left alone";

  const fs::path file = dir_.path() / "not-a-socket";
  std::ofstream(file) << "keep me";
  auto refused = VirtualTokenServer::start(file, authenticator_, PresencePolicy{});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(fs::is_regular_file(file));

  auto no_dir = VirtualTokenServer::start(dir_.path() / "missing" / "token.sock", authenticator_,
                                          PresencePolicy{});
  EXPECT_FALSE(no_dir.ok());
}

TEST_F(CtaphidServerTest, StartReplacesAStaleSocket) {
  server_->stop();
  // A socket file nobody serves, as left by a crashed server.
  {
    const UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path().c_str(), sizeof address.sun_path - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  }
  auto server = VirtualTokenServer::start(socket_path(), authenticator_, PresencePolicy{});
  ASSERT_TRUE(server.ok()) << server.error().message;
  Client client(socket_path());
  EXPECT_TRUE(client.ping(client.open_channel()));
}

// ---- Robustness ----

TEST_F(CtaphidServerTest, RandomAndMutatedReportsNeverBreakTheServer) {
  std::mt19937 random(20240611);
  auto byte = [&] { return static_cast<std::uint8_t>(random() & 0xFF); };
  Client fuzzer(socket_path());
  const std::uint32_t cid = fuzzer.open_channel();
  const std::array<std::uint8_t, 8> commands = {
      ctaphid::cmd::kPing, ctaphid::cmd::kInit,   ctaphid::cmd::kWink, ctaphid::cmd::kCbor,
      ctaphid::cmd::kMsg,  ctaphid::cmd::kCancel, ctaphid::cmd::kLock, 0x7F};
  for (int i = 0; i < 4000; ++i) {
    Bytes report;
    switch (random() % 4) {
      case 0: {  // anything, of any size
        report.resize(random() % 100);
        for (auto& b : report) b = byte();
        break;
      }
      case 1: {  // a plausible init packet on our channel with a random length
        const std::uint8_t command = commands[random() % commands.size()];
        report = init_packet(cid, command, random() % 300);
        for (std::size_t k = 7; k < report.size(); ++k) report[k] = byte();
        break;
      }
      case 2:  // a continuation with a random sequence number
        report = continuation_packet(cid, static_cast<std::uint8_t>(random() % 130));
        break;
      default: {  // a valid PING with a few bytes flipped
        report = init_packet(cid, ctaphid::cmd::kPing, 8, pattern(8));
        for (int flips = 0; flips < 3; ++flips) report[random() % report.size()] ^= byte();
        break;
      }
    }
    fuzzer.send_raw(report);
    fuzzer.drain();
  }
  // The same connection recovers with a resync; a new connection works too.
  const Bytes nonce(8, 0x42);
  fuzzer.send_message(cid, ctaphid::cmd::kInit, nonce);
  std::optional<Message> reply;
  for (int i = 0; i < 1000; ++i) {
    reply = fuzzer.receive(2s);
    if (!reply || (reply->command == ctaphid::cmd::kInit && reply->cid == cid)) break;
  }
  ASSERT_TRUE(reply);
  EXPECT_TRUE(fuzzer.ping(cid));
  Client fresh(socket_path());
  EXPECT_TRUE(fresh.ping(fresh.open_channel()));
}

TEST_F(CtaphidServerTest, ManyConnectionsComeAndGo) {
  for (int i = 0; i < 200; ++i) {
    Client client(socket_path());
    ASSERT_TRUE(client.connected());
    if (i % 2 == 0) {
      ASSERT_NE(client.open_channel(), 0u);
    }
  }
  Client client(socket_path());
  EXPECT_TRUE(client.ping(client.open_channel()));
}

// ---- The Session without a socket ----

// A Link fed from a script of reports, recording what the Session sends. When the script is
// exhausted it reports closed, or — with `idle` — lets deadlines pass (and closes when there is
// none, which ends Session::run()).
class ScriptedLink final : public ctaphid::Link {
 public:
  explicit ScriptedLink(std::vector<Bytes> script, bool idle = false)
      : script_(std::move(script)), idle_(idle) {}

  Received receive(std::optional<Clock::time_point> deadline) override {
    if (next_ < script_.size()) return {Received::Kind::message, script_[next_++]};
    if (!idle_ || !deadline) return {Received::Kind::closed, {}};
    std::this_thread::sleep_until(*deadline);
    return {Received::Kind::timeout, {}};
  }
  bool send(std::span<const std::uint8_t> report) override {
    sent.emplace_back(report.begin(), report.end());
    return true;
  }

  std::vector<Bytes> sent;

 private:
  std::vector<Bytes> script_;
  std::size_t next_ = 0;
  bool idle_;
};

TEST(CtaphidSession, ThrowingHandlerIsAnsweredWithCtapOther) {
  ctaphid::Device device;
  ScriptedLink link({init_packet(kBroadcast, ctaphid::cmd::kInit, 8, Bytes(8, 1)),
                     init_packet(1, ctaphid::cmd::kCbor, 1, Bytes{kGetInfo})});
  ctaphid::Session session(
      device, link,
      [](std::span<const std::uint8_t>, PresenceWaiter&) -> Bytes {
        throw std::runtime_error("boom");
      },
      [] { return PresencePolicy{}; });
  session.run();
  ASSERT_EQ(link.sent.size(), 2u);
  EXPECT_EQ(cid_of(std::span(link.sent[0]).subspan(15, 4)), 1u) << "first channel is 1";
  const Bytes& reply = link.sent[1];
  EXPECT_EQ(cid_of(reply), 1u);
  EXPECT_EQ(reply[4], 0x80 | ctaphid::cmd::kCbor);
  EXPECT_EQ(reply[6], 1);
  EXPECT_EQ(reply[7], ctap::kOther);
}

TEST(CtaphidSession, PresenceWaitEndsAsCancelledWhenTheHostGoesAway) {
  ctaphid::Device device;
  ScriptedLink link({init_packet(kBroadcast, ctaphid::cmd::kInit, 8, Bytes(8, 1)),
                     init_packet(1, ctaphid::cmd::kCbor, 1, Bytes{kReset})});
  std::optional<Presence> outcome;
  ctaphid::Session session(
      device, link,
      [&](std::span<const std::uint8_t>, PresenceWaiter& waiter) {
        outcome = waiter.wait_for_presence();
        return Bytes{ctap::kKeepaliveCancel};
      },
      [] { return delay(60'000); });
  session.run();
  EXPECT_EQ(outcome, Presence::cancelled);
  // Afterwards the device is free for another Session.
  EXPECT_TRUE(device.begin_transaction());
  device.end_transaction();
}

TEST(CtaphidSession, PresenceWaitIsCappedAsTimedOut) {
  ctaphid::Device device;
  ScriptedLink link({init_packet(kBroadcast, ctaphid::cmd::kInit, 8, Bytes(8, 1)),
                     init_packet(1, ctaphid::cmd::kCbor, 1, Bytes{kReset})},
                    /*idle=*/true);
  ctaphid::Options options;
  options.presence_limit = 200ms;
  std::optional<Presence> outcome;
  ctaphid::Session session(
      device, link,
      [&](std::span<const std::uint8_t>, PresenceWaiter& waiter) {
        outcome = waiter.wait_for_presence();
        return Bytes{ctap::kUserActionTimeout};
      },
      [] { return delay(60'000); }, options);
  const auto start = Clock::now();
  session.run();
  EXPECT_EQ(outcome, Presence::timed_out);
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_LT(Clock::now() - start, 5s);
  // INIT reply, at least two KEEPALIVEs, the CBOR reply.
  EXPECT_GE(link.sent.size(), 4u);
}

// ---- The program ----

#ifdef VTOKEN_BINARY

// Runs the program with `args`; returns its pid.
pid_t spawn_token(std::vector<std::string> args) {
  static char binary[] = VTOKEN_BINARY;
  std::vector<char*> argv = {binary};
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, binary, nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

// Waits for the process to exit; its exit code, or -1 on a signal or a timeout.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

TEST(VirtualTokenProgram, ServesUntilSigtermThenRemovesTheSocket) {
  TempDir dir;
  const fs::path socket = dir.path() / "token.sock";
  const pid_t pid =
      spawn_token({"--socket", socket.string(), "--state", (dir.path() / "state").string(),
                   "--presence", "delay:50", "--pin", "1234"});
  ASSERT_GT(pid, 0);
  bool connected = false;
  for (int i = 0; i < 500 && !connected; ++i) {
    Client probe(socket);
    connected = probe.connected();
    if (!connected) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(connected);
  {
    Client client(socket);
    const std::uint32_t cid = client.open_channel();
    EXPECT_TRUE(client.ping(cid, 200));
    client.send_message(cid, ctaphid::cmd::kCbor, Bytes{kGetInfo});
    auto reply = client.receive();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->data.at(0), ctap::kOk);
  }
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(wait_exit(pid), 0);
  EXPECT_FALSE(fs::exists(fs::symlink_status(socket)));
}

TEST(VirtualTokenProgram, BadArgumentsExitWithTwo) {
  TempDir dir;
  const std::string socket = (dir.path() / "s").string();
  const std::string state = (dir.path() / "state").string();
  EXPECT_EQ(wait_exit(spawn_token({"--bogus"})), 2);
  EXPECT_EQ(wait_exit(spawn_token({"--state", state})), 2) << "--socket missing";
  EXPECT_EQ(wait_exit(spawn_token({"--socket", socket})), 2) << "--state missing";
  EXPECT_EQ(wait_exit(spawn_token({"--socket", socket, "--state", state, "--presence", "maybe"})),
            2);
  EXPECT_EQ(wait_exit(spawn_token({"--socket", socket, "--state", state, "--fault", "x"})), 2);
  EXPECT_EQ(wait_exit(spawn_token({"--socket", socket, "--state"})), 2);
  EXPECT_EQ(wait_exit(spawn_token({"--help"})), 0);
  EXPECT_FALSE(fs::exists(dir.path() / "state")) << "nothing is created on bad arguments";
}

TEST(VirtualTokenProgram, UnusableSocketPathExitsWithOne) {
  TempDir dir;
  EXPECT_EQ(wait_exit(spawn_token({"--socket", (dir.path() / "missing" / "s").string(), "--state",
                                   (dir.path() / "state").string()})),
            1);
}

#endif  // VTOKEN_BINARY

}  // namespace
}  // namespace touchpass::vtoken
