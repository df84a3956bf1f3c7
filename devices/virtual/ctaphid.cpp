#include "devices/virtual/ctaphid.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace touchpass::vtoken::ctaphid {
namespace {

using Clock = std::chrono::steady_clock;

// Channels remembered per Session; the oldest is forgotten when a host allocates more.
constexpr std::size_t kMaxChannelsPerSession = 128;

std::uint32_t read_cid(std::span<const std::uint8_t> report) {
  return (std::uint32_t{report[0]} << 24) | (std::uint32_t{report[1]} << 16) |
         (std::uint32_t{report[2]} << 8) | std::uint32_t{report[3]};
}

void write_cid(std::uint32_t cid, std::span<std::uint8_t> out) {
  out[0] = static_cast<std::uint8_t>(cid >> 24);
  out[1] = static_cast<std::uint8_t>(cid >> 16);
  out[2] = static_cast<std::uint8_t>(cid >> 8);
  out[3] = static_cast<std::uint8_t>(cid);
}

bool is_init_packet(std::span<const std::uint8_t> report) {
  return (report[4] & 0x80) != 0;
}

// Ends the Device transaction on every path out of a CBOR request.
class TransactionGuard {
 public:
  explicit TransactionGuard(Device& device)
      : device_(device), active_(device.begin_transaction()) {}
  TransactionGuard(const TransactionGuard&) = delete;
  TransactionGuard& operator=(const TransactionGuard&) = delete;
  ~TransactionGuard() { end(); }

  bool active() const { return active_; }
  void end() {
    if (active_) device_.end_transaction();
    active_ = false;
  }

 private:
  Device& device_;
  bool active_;
};

// Marks the Device transaction as waiting for presence while alive.
class WaitingGuard {
 public:
  explicit WaitingGuard(Device& device) : device_(device) {
    device_.set_waiting_for_presence(true);
  }
  WaitingGuard(const WaitingGuard&) = delete;
  WaitingGuard& operator=(const WaitingGuard&) = delete;
  ~WaitingGuard() { device_.set_waiting_for_presence(false); }

 private:
  Device& device_;
};

}  // namespace

// ---- Device ----

std::uint32_t Device::allocate_channel() {
  std::lock_guard lock(mutex_);
  std::uint32_t cid = next_channel_++;
  if (cid == 0 || cid == kBroadcastCid) {
    cid = 1;
    next_channel_ = 2;
  }
  return cid;
}

bool Device::begin_transaction() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return !busy_ || waiting_; });
  if (busy_) return false;  // the running transaction waits for a touch: the device is busy
  busy_ = true;
  return true;
}

void Device::set_waiting_for_presence(bool waiting) {
  {
    std::lock_guard lock(mutex_);
    waiting_ = waiting;
  }
  if (waiting) idle_.notify_all();  // those queued behind a short command must now give up
}

void Device::end_transaction() {
  {
    std::lock_guard lock(mutex_);
    busy_ = false;
    waiting_ = false;
  }
  idle_.notify_all();
}

// ---- Session ----

Session::Session(Device& device, Link& link, CborHandler cbor, PresenceSource presence,
                 Options options)
    : device_(device),
      link_(link),
      cbor_(std::move(cbor)),
      presence_(std::move(presence)),
      options_(options) {}

void Session::run() {
  while (!closed_) {
    expire_assembly_if_due();
    std::optional<Clock::time_point> deadline;
    if (assembly_) deadline = assembly_->deadline;
    Link::Received received = link_.receive(deadline);
    switch (received.kind) {
      case Link::Received::Kind::closed:
        closed_ = true;
        break;
      case Link::Received::Kind::timeout:
        break;  // expire_assembly_if_due() on the next turn
      case Link::Received::Kind::message:
        handle_report(received.data);
        break;
    }
  }
}

void Session::expire_assembly_if_due() {
  if (!assembly_ || Clock::now() < assembly_->deadline) return;
  const std::uint32_t cid = assembly_->cid;
  assembly_.reset();
  send_error(cid, err::kMsgTimeout);
}

void Session::handle_report(std::span<const std::uint8_t> report) {
  if (report.size() != kReportSize) {
    // A framing error. Answer on the report's channel when its CID can be read; a message in
    // progress there is dropped, since the host evidently lost track of it.
    if (report.size() < 4) return;
    const std::uint32_t cid = read_cid(report);
    if (assembly_ && assembly_->cid == cid) assembly_.reset();
    send_error(cid, err::kInvalidLen);
    return;
  }
  const std::uint32_t cid = read_cid(report);
  if (is_init_packet(report)) {
    handle_init_packet(cid, report);
  } else {
    handle_continuation(cid, report);
  }
}

void Session::handle_init_packet(std::uint32_t cid, std::span<const std::uint8_t> report) {
  const auto command = static_cast<std::uint8_t>(report[4] & 0x7F);
  const std::size_t length = (std::size_t{report[5]} << 8) | std::size_t{report[6]};

  if (assembly_) {
    if (assembly_->cid != cid) {
      send_error(cid, err::kChannelBusy);  // another channel is mid-message
      return;
    }
    assembly_.reset();
    if (command != cmd::kInit) {  // INIT resynchronises; anything else breaks the sequence
      send_error(cid, err::kInvalidSeq);
      return;
    }
  }

  if (cid == 0 || (cid == kBroadcastCid && command != cmd::kInit) ||
      (cid != kBroadcastCid && !owns_channel(cid))) {
    send_error(cid, err::kInvalidChannel);
    return;
  }
  const std::size_t limit = command == cmd::kCbor ? options_.max_cbor_request : kMaxMessage;
  if (length > limit) {
    send_error(cid, err::kInvalidLen);
    return;
  }

  if (length <= kInitPayload) {
    dispatch(cid, command, report.subspan(7, length));
    return;
  }
  Assembly assembly;
  assembly.cid = cid;
  assembly.command = command;
  assembly.length = length;
  assembly.data.reserve(length);
  assembly.data.assign(report.begin() + 7, report.end());
  assembly.deadline = Clock::now() + options_.message_timeout;
  assembly_ = std::move(assembly);
}

void Session::handle_continuation(std::uint32_t cid, std::span<const std::uint8_t> report) {
  // A continuation packet without a message in progress on its channel is ignored (CTAP 2.1
  // §11.2.4: "spurious continuation packets ... shall be ignored").
  if (!assembly_ || assembly_->cid != cid) return;
  if (report[4] != assembly_->next_sequence) {
    assembly_.reset();
    send_error(cid, err::kInvalidSeq);
    return;
  }
  const std::size_t take = std::min(kContPayload, assembly_->length - assembly_->data.size());
  assembly_->data.insert(assembly_->data.end(), report.begin() + 5,
                         report.begin() + 5 + static_cast<std::ptrdiff_t>(take));
  ++assembly_->next_sequence;
  assembly_->deadline = Clock::now() + options_.message_timeout;
  if (assembly_->data.size() < assembly_->length) return;

  Assembly done = std::move(*assembly_);
  assembly_.reset();
  dispatch(done.cid, done.command, done.data);
}

void Session::dispatch(std::uint32_t cid, std::uint8_t command,
                       std::span<const std::uint8_t> payload) {
  switch (command) {
    case cmd::kInit:
      handle_init(cid, payload);
      return;
    case cmd::kPing:
      send_message(cid, cmd::kPing, payload);
      return;
    case cmd::kWink:
      send_message(cid, cmd::kWink, {});
      return;
    case cmd::kCbor:
      handle_cbor(cid, payload);
      return;
    case cmd::kCancel:
      return;  // nothing is waiting; CANCEL never gets a reply of its own
    default:
      // MSG (U2F: we announce NMSG), LOCK (optional) and anything unknown.
      send_error(cid, err::kInvalidCmd);
      return;
  }
}

void Session::handle_init(std::uint32_t cid, std::span<const std::uint8_t> nonce) {
  if (nonce.size() != 8) {
    send_error(cid, err::kInvalidLen);
    return;
  }
  // On the broadcast channel: allocate a channel. On an allocated channel: resynchronise (any
  // partial message was already dropped) and answer with the same channel.
  std::uint32_t channel = cid;
  if (cid == kBroadcastCid) {
    channel = device_.allocate_channel();
    if (channels_.size() == kMaxChannelsPerSession) channels_.pop_front();
    channels_.push_back(channel);
  }
  std::array<std::uint8_t, 17> reply{};
  std::copy(nonce.begin(), nonce.end(), reply.begin());
  write_cid(channel, std::span(reply).subspan(8, 4));
  reply[12] = kProtocolVersion;
  reply[13] = kDeviceVersion[0];
  reply[14] = kDeviceVersion[1];
  reply[15] = kDeviceVersion[2];
  reply[16] = kCapabilities;
  send_message(cid, cmd::kInit, reply);
}

void Session::handle_cbor(std::uint32_t cid, std::span<const std::uint8_t> request) {
  if (request.empty()) {
    send_error(cid, err::kInvalidLen);
    return;
  }
  TransactionGuard transaction(device_);
  if (!transaction.active()) {
    send_error(cid, err::kChannelBusy);  // another open of the device waits for a touch
    return;
  }
  transaction_cid_ = cid;
  pending_resync_.reset();
  Bytes reply;
  try {
    reply = cbor_(request, *this);
  } catch (...) {  // the contract says never; a transport must survive it anyway
    reply = {ctap::kOther};
  }
  transaction.end();
  transaction_cid_ = 0;

  if (pending_resync_) {
    // The host resynchronised the channel while the request waited: the request is abandoned
    // without a reply and the INIT is answered instead.
    Bytes init = std::move(*pending_resync_);
    pending_resync_.reset();
    handle_report(init);
    return;
  }
  if (reply.empty() || reply.size() > kMaxMessage) {
    send_error(cid, err::kOther);
    return;
  }
  send_message(cid, cmd::kCbor, reply);
}

Presence Session::wait_for_presence() {
  // Called by the CborHandler from inside handle_cbor(), on this Session's thread.
  if (closed_ || pending_resync_) return Presence::cancelled;
  WaitingGuard waiting(device_);
  return wait_loop();
}

Presence Session::wait_loop() {
  const Clock::time_point start = Clock::now();
  const Clock::time_point limit = start + options_.presence_limit;
  Clock::time_point next_keepalive = start;
  for (;;) {
    const PresencePolicy policy = presence_();
    const Clock::time_point now = Clock::now();
    if (policy.mode == PresencePolicy::Mode::approve) return Presence::approved;
    const Clock::time_point touch = start + std::chrono::milliseconds(policy.delay_ms);
    if (policy.mode == PresencePolicy::Mode::delay && now >= touch) return Presence::approved;
    if (now >= limit) return Presence::timed_out;

    if (now >= next_keepalive) {
      const std::array<std::uint8_t, 1> status = {keepalive::kUpNeeded};
      send_message(transaction_cid_, cmd::kKeepalive, status);
      if (closed_) return Presence::cancelled;
      next_keepalive = now + options_.keepalive_interval;
    }
    if (policy.mode == PresencePolicy::Mode::deny) return Presence::denied;

    Clock::time_point deadline = std::min(next_keepalive, limit);
    if (policy.mode == PresencePolicy::Mode::delay) deadline = std::min(deadline, touch);
    Link::Received received = link_.receive(deadline);
    switch (received.kind) {
      case Link::Received::Kind::closed:
        closed_ = true;
        return Presence::cancelled;
      case Link::Received::Kind::timeout:
        break;
      case Link::Received::Kind::message:
        switch (handle_report_while_waiting(received.data)) {
          case WaitEvent::none:
            break;
          case WaitEvent::cancel:
            return finish_cancelled_wait();
          case WaitEvent::resync:
            pending_resync_ = std::move(received.data);
            return Presence::cancelled;
        }
        break;
    }
    if (closed_) return Presence::cancelled;
  }
}

Presence Session::finish_cancelled_wait() {
  const Clock::time_point due = Clock::now() + options_.cancel_answer_delay;
  while (!closed_ && Clock::now() < due) {
    Link::Received received = link_.receive(due);
    if (received.kind == Link::Received::Kind::closed) closed_ = true;
    if (received.kind != Link::Received::Kind::message) continue;
    // Reports on other channels are answered as during the wait; on its own channel a second
    // CANCEL changes nothing and an INIT is answered after the request ends, without its reply.
    if (handle_report_while_waiting(received.data) == WaitEvent::resync)
      pending_resync_ = std::move(received.data);
  }
  // A USB key does not notice its host closing the device: the delay runs out all the same.
  std::this_thread::sleep_until(due);
  return Presence::cancelled;
}

Session::WaitEvent Session::handle_report_while_waiting(std::span<const std::uint8_t> report) {
  if (report.size() != kReportSize) {
    if (report.size() >= 4) send_error(read_cid(report), err::kInvalidLen);
    return WaitEvent::none;
  }
  if (!is_init_packet(report)) return WaitEvent::none;  // nothing is being reassembled now
  const std::uint32_t cid = read_cid(report);
  const auto command = static_cast<std::uint8_t>(report[4] & 0x7F);
  if (cid == transaction_cid_ && command == cmd::kCancel) return WaitEvent::cancel;
  if (cid == transaction_cid_ && command == cmd::kInit) return WaitEvent::resync;
  // CTAP 2.1 §11.2.9.1.5: a CANCEL on a channel other than the active one is ignored; it never
  // gets a reply.
  if (command == cmd::kCancel) return WaitEvent::none;
  send_error(cid, err::kChannelBusy);
  return WaitEvent::none;
}

bool Session::owns_channel(std::uint32_t cid) const {
  return std::find(channels_.begin(), channels_.end(), cid) != channels_.end();
}

void Session::send_message(std::uint32_t cid, std::uint8_t command,
                           std::span<const std::uint8_t> data) {
  if (closed_) return;
  // Precondition (kept by every caller): data.size() <= kMaxMessage, so seq stays below 128.
  std::array<std::uint8_t, kReportSize> report{};
  write_cid(cid, report);
  report[4] = static_cast<std::uint8_t>(0x80 | command);
  report[5] = static_cast<std::uint8_t>(data.size() >> 8);
  report[6] = static_cast<std::uint8_t>(data.size());
  std::size_t offset = std::min(kInitPayload, data.size());
  std::copy_n(data.begin(), offset, report.begin() + 7);
  if (!link_.send(report)) {
    closed_ = true;
    return;
  }
  for (std::uint8_t sequence = 0; offset < data.size(); ++sequence) {
    report.fill(0);
    write_cid(cid, report);
    report[4] = sequence;
    const std::size_t take = std::min(kContPayload, data.size() - offset);
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(offset), take, report.begin() + 5);
    offset += take;
    if (!link_.send(report)) {
      closed_ = true;
      return;
    }
  }
}

void Session::send_error(std::uint32_t cid, std::uint8_t code) {
  const std::array<std::uint8_t, 1> body = {code};
  send_message(cid, cmd::kError, body);
}

}  // namespace touchpass::vtoken::ctaphid
