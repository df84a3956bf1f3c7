// The CTAPHID transport of the virtual token (DESIGN.md §4.3), independent of how reports travel:
// packet reassembly and fragmentation, channel allocation, the CTAPHID commands (INIT, PING, WINK,
// CBOR, CANCEL) and their errors, and the user-presence wait with KEEPALIVE and CANCEL.
//
// One Session serves one open of the device over one Link. All Sessions of one device share a
// Device, which allocates channel ids and lets only one CBOR transaction run at a time, as a real
// token does. The CBOR command layer is plugged in as a CborHandler (Authenticator::handle_cbor
// in production; anything in tests).
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <span>

#include "core/bytes.h"
#include "devices/virtual/authenticator.h"

namespace touchpass::vtoken::ctaphid {

// Framing (CTAP 2.1 §11.2.4). A report is exactly 64 bytes, without a report-id byte.
inline constexpr std::size_t kReportSize = 64;
inline constexpr std::size_t kInitPayload = kReportSize - 7;  // CID(4) | cmd | BCNT(2)
inline constexpr std::size_t kContPayload = kReportSize - 5;  // CID(4) | seq
inline constexpr std::size_t kMaxSequence = 128;              // seq 0..127
inline constexpr std::size_t kMaxMessage = kInitPayload + kMaxSequence * kContPayload;  // 7609
inline constexpr std::uint32_t kBroadcastCid = 0xffffffff;

// Command codes, without the 0x80 bit that marks an initialization packet.
namespace cmd {
inline constexpr std::uint8_t kPing = 0x01;
inline constexpr std::uint8_t kMsg = 0x03;  // U2F: not supported (capability NMSG)
inline constexpr std::uint8_t kLock = 0x04;
inline constexpr std::uint8_t kInit = 0x06;
inline constexpr std::uint8_t kWink = 0x08;
inline constexpr std::uint8_t kCbor = 0x10;
inline constexpr std::uint8_t kCancel = 0x11;
inline constexpr std::uint8_t kKeepalive = 0x3B;
inline constexpr std::uint8_t kError = 0x3F;
}  // namespace cmd

// The code byte of a CTAPHID_ERROR reply.
namespace err {
inline constexpr std::uint8_t kInvalidCmd = 0x01;
inline constexpr std::uint8_t kInvalidPar = 0x02;
inline constexpr std::uint8_t kInvalidLen = 0x03;
inline constexpr std::uint8_t kInvalidSeq = 0x04;
inline constexpr std::uint8_t kMsgTimeout = 0x05;
inline constexpr std::uint8_t kChannelBusy = 0x06;
inline constexpr std::uint8_t kInvalidChannel = 0x0B;
inline constexpr std::uint8_t kOther = 0x7F;
}  // namespace err

// The status byte of a CTAPHID_KEEPALIVE.
namespace keepalive {
inline constexpr std::uint8_t kProcessing = 1;
inline constexpr std::uint8_t kUpNeeded = 2;
}  // namespace keepalive

// The INIT reply: CTAPHID protocol version, device version and capabilities.
inline constexpr std::uint8_t kProtocolVersion = 2;
inline constexpr std::array<std::uint8_t, 3> kDeviceVersion = {0, 1, 0};  // major, minor, build
inline constexpr std::uint8_t kCapWink = 0x01;
inline constexpr std::uint8_t kCapCbor = 0x04;
inline constexpr std::uint8_t kCapNmsg = 0x08;
inline constexpr std::uint8_t kCapabilities = kCapWink | kCapCbor | kCapNmsg;

// Timing and size limits of a Session.
struct Options {
  // A message whose next continuation packet does not arrive within this is dropped
  // (ERR_MSG_TIMEOUT).
  std::chrono::milliseconds message_timeout{500};
  // KEEPALIVE period while waiting for presence (CTAP requires at most 100 ms).
  std::chrono::milliseconds keepalive_interval{75};
  // A presence wait ends as Presence::timed_out after this long.
  std::chrono::milliseconds presence_limit{30'000};
  // How long a presence wait goes on after its channel sent CTAPHID_CANCEL before it ends as
  // Presence::cancelled (a key slow to act on CANCEL; 0: at once). Meanwhile the device stays
  // busy (other requests get ERR_CHANNEL_BUSY) and sends no KEEPALIVE; a touch no longer counts.
  std::chrono::milliseconds cancel_answer_delay{0};
  // Largest CTAPHID_CBOR request accepted (ERR_INVALID_LEN above it); other commands may use
  // up to kMaxMessage.
  std::size_t max_cbor_request = 2048;
};

// How a Session exchanges reports with its host. Used by one Session thread at a time.
class Link {
 public:
  virtual ~Link() = default;

  struct Received {
    enum class Kind { message, timeout, closed };
    Kind kind = Kind::closed;
    // For Kind::message: the message as received. It should be one 64-byte report; other sizes
    // are framing errors that the Session answers. A transport may cut a longer message short
    // (to at least kReportSize + 1 bytes).
    Bytes data;
  };

  // Waits for the next incoming message until `deadline` (nullopt: no limit). Returns
  // Kind::timeout when the deadline passes first, Kind::closed when the host has gone (or the
  // link was shut down) — after that, every call returns Kind::closed.
  virtual Received receive(std::optional<std::chrono::steady_clock::time_point> deadline) = 0;

  // Sends one report (kReportSize bytes). Returns false when the host cannot be reached.
  virtual bool send(std::span<const std::uint8_t> report) = 0;
};

// State shared by all open Sessions of one device: channel ids and the transaction in progress.
// Thread-safe.
class Device {
 public:
  // A fresh channel id, never 0 nor kBroadcastCid, not handed out before by this Device (until
  // 2^32 allocations wrap around).
  std::uint32_t allocate_channel();

  // Starts a CBOR transaction. While another Session's transaction runs a command, waits for it
  // (commands are short); returns false at once — and on wake-up — when the other transaction
  // waits for user presence (the device is busy). On true, the caller must end_transaction().
  bool begin_transaction();
  // Marks the running transaction as waiting (or no longer waiting) for user presence.
  void set_waiting_for_presence(bool waiting);
  // Ends the running transaction and lets the next one begin.
  void end_transaction();

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::uint32_t next_channel_ = 1;  // guarded by mutex_
  bool busy_ = false;               // guarded by mutex_
  bool waiting_ = false;            // guarded by mutex_
};

// Runs one CTAPHID_CBOR request (command byte + CBOR) and returns the reply (status byte + CBOR),
// asking `presence` when the user must touch the token.
using CborHandler = std::function<Bytes(std::span<const std::uint8_t>, PresenceWaiter&)>;
// How the simulated user currently answers touch requests; read anew during a wait.
using PresenceSource = std::function<PresencePolicy()>;

// One open of the device. Not thread-safe: run() is called on one thread, which also runs the
// CborHandler and the presence wait.
class Session final : private PresenceWaiter {
 public:
  // `device` and `link` must outlive the Session.
  Session(Device& device, Link& link, CborHandler cbor, PresenceSource presence,
          Options options = {});

  // Serves the link until it is closed (by the host, by shutting the link down, or when a
  // report cannot be sent). Never throws: a throwing CborHandler is answered with CTAP2
  // status kOther.
  void run();

 private:
  // A message being reassembled from an initialization packet and its continuations.
  struct Assembly {
    std::uint32_t cid = 0;
    std::uint8_t command = 0;
    std::size_t length = 0;  // BCNT
    Bytes data;
    std::uint8_t next_sequence = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  // What a report received during a presence wait means for the wait.
  enum class WaitEvent { none, cancel, resync };

  void handle_report(std::span<const std::uint8_t> report);
  void handle_init_packet(std::uint32_t cid, std::span<const std::uint8_t> report);
  void handle_continuation(std::uint32_t cid, std::span<const std::uint8_t> report);
  void dispatch(std::uint32_t cid, std::uint8_t command, std::span<const std::uint8_t> payload);
  void handle_init(std::uint32_t cid, std::span<const std::uint8_t> nonce);
  void handle_cbor(std::uint32_t cid, std::span<const std::uint8_t> request);
  void expire_assembly_if_due();

  Presence wait_for_presence() override;
  Presence wait_loop();
  // Ends a wait whose channel sent CANCEL, after Options::cancel_answer_delay (the device stays
  // busy until then, even if the host goes away meanwhile).
  Presence finish_cancelled_wait();
  WaitEvent handle_report_while_waiting(std::span<const std::uint8_t> report);

  bool owns_channel(std::uint32_t cid) const;
  void send_message(std::uint32_t cid, std::uint8_t command, std::span<const std::uint8_t> data);
  void send_error(std::uint32_t cid, std::uint8_t code);

  Device& device_;
  Link& link_;
  CborHandler cbor_;
  PresenceSource presence_;
  Options options_;

  bool closed_ = false;
  std::deque<std::uint32_t> channels_;  // allocated to this Session, oldest first (bounded)
  std::optional<Assembly> assembly_;
  // The channel whose CBOR request is running (valid during handle_cbor).
  std::uint32_t transaction_cid_ = 0;
  // An INIT on transaction_cid_ that aborted the running request, processed after it returns.
  std::optional<Bytes> pending_resync_;
};

}  // namespace touchpass::vtoken::ctaphid
