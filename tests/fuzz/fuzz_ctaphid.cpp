// The virtual token's CTAPHID engine: every sequence of reports, pauses and touches a host can
// produce, with real (short) timeouts, so that reassembly across packets, the message timeout,
// channel-busy answers, KEEPALIVEs and the touch wait with CANCEL and INIT are all reached.
//
// Input: one byte of settings (bits 0-1: how the simulated user answers a touch request —
// approve, deny, after 3 ms, after 50 ms, i.e. never within the 8 ms presence limit), then
// events: a byte >= 0xF0 is a pause (the link waits until the Session's deadline has passed and
// says "timeout"; at most kMaxPauses are honoured, later ones return at once), any other byte
// b starts a message of b % 81 bytes (0..80, so framing errors are reachable too) that follows.
// The end of the input closes the link. CBOR requests whose command byte is 0x01, 0x02 or 0x07
// ask for a touch.
#include <cstdlib>
#include <thread>

#include "devices/virtual/ctaphid.h"
#include "fuzz.h"

namespace {

using namespace touchpass;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::uint8_t kPause = 0xF0;
constexpr int kMaxPauses = 4;

// The Session's timing: short, and real.
vtoken::ctaphid::Options options() {
  vtoken::ctaphid::Options o;
  o.message_timeout = milliseconds(10);
  o.keepalive_interval = milliseconds(2);
  o.presence_limit = milliseconds(8);
  return o;
}

vtoken::PresencePolicy presence(std::uint8_t settings) {
  using Mode = vtoken::PresencePolicy::Mode;
  switch (settings & 3U) {
    case 0:
      return {Mode::approve, 0};
    case 1:
      return {Mode::deny, 0};
    case 2:
      return {Mode::delay, 3};
    default:
      return {Mode::delay, 50};
  }
}

class ScriptedLink final : public vtoken::ctaphid::Link {
 public:
  explicit ScriptedLink(std::span<const std::uint8_t> events) : in_(events) {}

  Received receive(std::optional<Clock::time_point> deadline) override {
    if (in_.empty()) return {Received::Kind::closed, {}};
    const std::uint8_t event = in_[0];
    in_ = in_.subspan(1);
    if (event >= kPause) {
      // A host that stays quiet: the deadline really passes (only while pauses are left).
      if (deadline && pauses_ < kMaxPauses) {
        ++pauses_;
        std::this_thread::sleep_until(*deadline);
        while (Clock::now() < *deadline) std::this_thread::yield();
      }
      return {Received::Kind::timeout, {}};
    }
    const std::size_t n = std::min<std::size_t>(event % 81U, in_.size());
    Received r{Received::Kind::message, Bytes(in_.begin(), in_.begin() + static_cast<long>(n))};
    in_ = in_.subspan(n);
    return r;
  }

  bool send(std::span<const std::uint8_t> report) override {
    if (report.size() != vtoken::ctaphid::kReportSize) std::abort();
    return true;
  }

 private:
  std::span<const std::uint8_t> in_;
  int pauses_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const vtoken::PresencePolicy policy = presence(data[0]);
  vtoken::ctaphid::Device device;
  ScriptedLink link({data + 1, size - 1});
  vtoken::ctaphid::Session session(
      device, link,
      [](std::span<const std::uint8_t> request, vtoken::PresenceWaiter& waiter) {
        const std::uint8_t command = request[0];
        if (command == 0x01 || command == 0x02 || command == 0x07) {
          switch (waiter.wait_for_presence()) {
            case vtoken::Presence::approved:
              return Bytes{vtoken::ctap::kOk, 0xa0};
            case vtoken::Presence::denied:
              return Bytes{vtoken::ctap::kOperationDenied};
            case vtoken::Presence::timed_out:
              return Bytes{vtoken::ctap::kUserActionTimeout};
            case vtoken::Presence::cancelled:
              return Bytes{vtoken::ctap::kKeepaliveCancel};
          }
        }
        // Long enough to need continuation packets on the way back.
        return Bytes(200, vtoken::ctap::kOk);
      },
      [policy] { return policy; }, options());
  session.run();
  return 0;
}

namespace {

// One report as a message event: the length byte, then the 64 bytes.
std::string report(std::uint32_t cid, std::uint8_t command_or_seq, std::string_view body,
                   std::size_t declared = 0) {
  std::string r(64, '\0');
  r[0] = static_cast<char>(cid >> 24);
  r[1] = static_cast<char>(cid >> 16);
  r[2] = static_cast<char>(cid >> 8);
  r[3] = static_cast<char>(cid);
  r[4] = static_cast<char>(command_or_seq);
  std::size_t at = 5;
  if ((command_or_seq & 0x80) != 0) {
    r[5] = static_cast<char>(declared >> 8);
    r[6] = static_cast<char>(declared);
    at = 7;
  }
  r.replace(at, std::min(body.size(), r.size() - at), body.substr(0, r.size() - at));
  return std::string(1, static_cast<char>(64)) + r;
}

}  // namespace

std::vector<std::string> fuzz_seeds() {
  using namespace std::string_literals;
  constexpr std::uint32_t kBroadcast = 0xffffffff;
  constexpr std::uint32_t kChannel = 1;  // the first channel a Device allocates
  const std::string pause(1, static_cast<char>(kPause));
  const std::string init = report(kBroadcast, 0x86, "12345678", 8);
  const auto cbor = [&](std::string_view body) {
    return report(kChannel, 0x90, body, body.size());
  };
  // A 150-byte CBOR request: an initialization packet and two continuations.
  const std::string body(150, '\x04');
  const std::string long_cbor = report(kChannel, 0x90, body, body.size()) +
                                report(kChannel, 0, body.substr(57)) +
                                report(kChannel, 1, body.substr(116));
  const std::string make_credential = cbor("\x01\xa0"s);
  const std::string cancel = report(kChannel, 0x91, "", 0);
  const std::string other_channel = report(7, 0x81, "hi", 2);
  const std::string resync = report(kChannel, 0x86, "abcdefgh", 8);
  const std::string approve(1, '\0'), deny(1, '\1'), slow(1, '\2'), never(1, '\3');
  return {
      approve + init + cbor("\x04"s) + report(kChannel, 0x81, "ping", 4),
      approve + init + long_cbor,
      approve + init + long_cbor.substr(0, 130) + pause + long_cbor.substr(130),
      approve + init + long_cbor.substr(0, 65) + other_channel + long_cbor.substr(65),
      approve + init + long_cbor.substr(0, 65) + report(kChannel, 5, "x") + init,
      approve + init + make_credential,
      deny + init + make_credential,
      slow + init + make_credential + pause + pause,
      never + init + make_credential + pause + pause + pause + pause,
      never + init + make_credential + cancel,
      never + init + make_credential + other_channel + resync,
      slow + init + make_credential + std::string(1, '\x10') + "short" + pause,
      approve + init + cbor("") + report(kChannel, 0x88, "", 0) + report(kChannel, 0x83, "", 0),
  };
}

// Long enough for two messages of the largest size (129 reports each, 65 bytes an event) and
// the pauses around them.
std::size_t fuzz_max_len() {
  return 1 + 2 * 129 * 65 + 64;
}
