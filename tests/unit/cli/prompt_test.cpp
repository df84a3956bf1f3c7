#include "cli/prompt.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/fd_pairs.h"

namespace touchpass::cli {
namespace {

using namespace std::chrono_literals;

// A pipe whose read end stands in for standard input.
class Input {
 public:
  Input() {
    auto pipe = touchpass::testing::make_pipe();
    EXPECT_TRUE(pipe.ok()) << pipe.error().message;
    if (pipe.ok()) pipe_ = std::move(*pipe);
  }
  void write(std::string_view text) {
    EXPECT_EQ(::write(pipe_.write.get(), text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
  }
  void close_writer() { pipe_.write.reset(); }
  int fd() const { return pipe_.read.get(); }

 private:
  touchpass::testing::Pipe pipe_;
};

TEST(ReadSecretLineTest, ReturnsTheLineWithoutItsEnd) {
  CancelFlag cancel;
  Input in;
  in.write("1234\nabcd\r\nlast");
  in.close_writer();
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 64)->view(), "1234");
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 64)->view(), "abcd");
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 64)->view(), "last");
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 64).code(), Code::pin_required);
}

TEST(ReadSecretLineTest, RefusesOverlongLines) {
  CancelFlag cancel;
  Input in;
  in.write(std::string(8, 'x') + "\n");
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 8)->size(), 8U);
  in.write(std::string(9, 'x') + "\n");
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 8).code(), Code::pin_policy);
}

TEST(ReadSecretLineTest, RaisedFlagEndsTheWait) {
  CancelFlag cancel;
  Input in;
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(50ms);
    cancel.raise();
  });
  EXPECT_EQ(read_secret_line(in.fd(), cancel, 64).code(), Code::cancelled);
  ctrl_c.join();
}

TEST(LinePinSourceTest, EmptyPinIsRefusedAndShortNewPinToo) {
  CancelFlag cancel;
  Input in;
  in.write("\n12\n");
  LinePinSource pins(in.fd(), cancel);
  EXPECT_EQ(pins.current_pin(8).code(), Code::pin_required);
  EXPECT_EQ(pins.new_pin(4).code(), Code::pin_policy);
}

TEST(LinePinSourceTest, NewPinLengthCountsCharactersNotBytes) {
  CancelFlag cancel;
  Input in;
  in.write("\xc3\xa4\xc3\xb6\xc3\xbc\n");  // three characters, six bytes
  LinePinSource pins(in.fd(), cancel);
  EXPECT_EQ(pins.new_pin(4).code(), Code::pin_policy);
}

TEST(NoTerminalPinSourceTest, PointsToPinStdin) {
  NoTerminalPinSource pins;
  auto pin = pins.current_pin(8);
  EXPECT_EQ(pin.code(), Code::pin_required);
  EXPECT_EQ(pin.error().message,
            "A PIN is needed but there is no terminal to ask on; use --pin-stdin.");
  EXPECT_EQ(pins.new_pin(4).code(), Code::pin_required);
}

// A pseudo-terminal: the test types on `master`, the PinSource reads the slave side.
class PseudoTerminal {
 public:
  PseudoTerminal() : master_(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) {
    EXPECT_TRUE(master_.valid());
    EXPECT_EQ(::grantpt(master_.get()), 0);
    EXPECT_EQ(::unlockpt(master_.get()), 0);
    const char* slave = ::ptsname(master_.get());
    if (slave != nullptr) slave_path_ = slave;
  }

  UniqueFd open_slave() const {
    return UniqueFd(::open(slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  }
  void type(std::string_view keys) const {
    EXPECT_EQ(::write(master_.get(), keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
  // Everything the terminal has shown so far.
  std::string screen() const {
    std::string shown;
    char buffer[512];
    pollfd pfd{master_.get(), POLLIN, 0};
    while (::poll(&pfd, 1, 100) > 0) {
      const ssize_t n = ::read(master_.get(), buffer, sizeof buffer);
      if (n <= 0) break;
      shown.append(buffer, static_cast<std::size_t>(n));
    }
    return shown;
  }
  bool echo_on() const {
    UniqueFd probe = open_slave();
    termios modes{};
    EXPECT_EQ(::tcgetattr(probe.get(), &modes), 0);
    return (modes.c_lflag & ECHO) != 0;
  }

 private:
  UniqueFd master_;
  std::string slave_path_;
};

// Types `keys` shortly after the prompt appears (echo is switched off with TCSAFLUSH, which
// would drop keys typed before it).
std::thread type_later(const PseudoTerminal& pty, std::string keys) {
  return std::thread([&pty, keys = std::move(keys)] {
    std::this_thread::sleep_for(100ms);
    pty.type(keys);
  });
}

TEST(TerminalPinSourceTest, AsksWithoutEchoAndRestoresTheTerminal) {
  PseudoTerminal pty;
  CancelFlag cancel;
  ASSERT_TRUE(pty.echo_on());
  TerminalPinSource pins(pty.open_slave(), cancel);
  std::thread typist = type_later(pty, "739184\n");
  auto pin = pins.current_pin(5);
  typist.join();
  ASSERT_TRUE(pin.ok()) << pin.error().message;
  EXPECT_EQ(pin->view(), "739184");
  const std::string screen = pty.screen();
  EXPECT_NE(screen.find("Enter the PIN of your security key (5 tries left): "), std::string::npos);
  EXPECT_EQ(screen.find("739184"), std::string::npos);
  EXPECT_TRUE(pty.echo_on());
}

TEST(TerminalPinSourceTest, NewPinIsAskedAgainUntilBothEntriesMatch) {
  PseudoTerminal pty;
  CancelFlag cancel;
  TerminalPinSource pins(pty.open_slave(), cancel);
  std::thread typist([&] {
    for (const char* keys : {"2468\n", "2469\n", "1357\n", "1357\n"}) {
      std::this_thread::sleep_for(100ms);
      pty.type(keys);
    }
  });
  auto pin = pins.new_pin(4);
  typist.join();
  ASSERT_TRUE(pin.ok()) << pin.error().message;
  EXPECT_EQ(pin->view(), "1357");
  const std::string screen = pty.screen();
  EXPECT_NE(screen.find("Choose a PIN (at least 4 characters): "), std::string::npos);
  EXPECT_NE(screen.find("The two PINs do not match."), std::string::npos);
  EXPECT_TRUE(pty.echo_on());
}

TEST(TerminalPinSourceTest, CancelDuringThePromptRestoresEcho) {
  PseudoTerminal pty;
  CancelFlag cancel;
  TerminalPinSource pins(pty.open_slave(), cancel);
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(pty.echo_on());  // asking: echo is off
    cancel.raise();
  });
  EXPECT_EQ(pins.current_pin(3).code(), Code::cancelled);
  ctrl_c.join();
  EXPECT_TRUE(pty.echo_on());
}

}  // namespace
}  // namespace touchpass::cli
