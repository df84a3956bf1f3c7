// A hostile FIDO2 token answering the libfido2 backend (devices/fido2): Fido2Token opens a
// "virtual token" socket, and this harness is the token on the other end, answering every
// CTAPHID request libfido2 sends through the backend's custom I/O (report_io.cpp) with reports
// scripted by the fuzz input. So the real Fido2Token, its socket I/O and the real libfido2 (its
// CTAPHID framing, CBOR decoding, PIN protocols, attestation and assertion checks) face every
// answer a token could give.
//
// Input: one byte choosing the operation (open, then capabilities, pin_retries, enroll with
// or without PIN, assert_hmac_secret, holds_credential, set_pin, change_pin, wait_for_touch),
// then the script: one answer after another. An answer is
//   - framed (first byte < 0x80): bits 0-1 KEEPALIVE reports sent first; bit 2 a command byte
//     follows (else the request's command); bit 3 a channel id follows (else the request's);
//     bit 4 a declared length follows (else the payload's); bit 5 only the initialization
//     packet is sent; bit 6 (INIT only) the payload is sent as it is, without the request's
//     nonce in front; then a 2-byte length and the payload;
//   - raw (first byte >= 0x80): (byte & 7) + 1 reports of 64 bytes, sent as they are.
// The harness echoes what libfido2 checks (the INIT nonce, the channel) unless told not to, so
// inputs get past the handshake. It answers a request, and keeps answering while libfido2 would
// still be reading (HostReader: a model of libfido2's rx()), so no input waits for a timeout;
// when the script ends the token "is pulled out" (the socket closes). Nothing may crash, leak
// or hang, and an assertion accepted by the backend must be signed by the credential's key.
//
// Findings (tests/fuzz/findings/): libfido2 1.12 decodes a token's CBOR with libcbor 0.8, which
// allocates an array or map as large as its header announces before a single item has arrived,
// so six bytes from a hostile token made the client allocate and clear 2 GiB — at the top of an
// answer (fido2-huge-cbor-array) and inside its authData, where libfido2 decodes the credential
// key and the extension outputs (fido2-huge-cbor-in-authdata). The backend's transport now
// withholds such answers (devices/fido2/cbor_answer_check.h). This program defines libcbor's
// allocation helper (libcbor calls it through its PLT, so this definition is the one used) and
// aborts when libcbor is asked for more items than a CTAPHID message could hold: a hostile
// answer that reached libfido2. The seeds include both findings.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/assertion.h"
#include "core/authenticator_data.h"
#include "core/bytes.h"
#include "core/cbor_writer.h"
#include "core/fd.h"
#include "core/secret.h"
#include "devices/fido2/fido2_token.h"
#include "fixed_key.h"
#include "fuzz.h"
#include "peer_thread.h"

// libcbor 0.8's allocation of `item_count` items of `item_size` bytes (see the file comment).
extern "C" void* _cbor_alloc_multiple(std::size_t item_size, std::size_t item_count) {
  constexpr std::size_t kMaxItems = 7609;  // a CTAPHID message holds no more
  if (item_count > kMaxItems) {
    std::fprintf(stderr, "libcbor was asked for %zu items: a hostile answer reached libfido2\n",
                 item_count);
    std::abort();
  }
  if (item_size != 0 && item_count > SIZE_MAX / item_size) return nullptr;
  return std::malloc(item_size * item_count);
}

namespace {

using namespace std::chrono_literals;
using touchpass::Bytes;
using touchpass::CborWriter;
using touchpass::SecretBytes;
using touchpass::fuzzing::FixedP256Key;
namespace devices = touchpass::devices;

constexpr std::size_t kReportSize = 64;
constexpr std::size_t kInitData = kReportSize - 7;
constexpr std::size_t kContData = kReportSize - 5;
constexpr std::size_t kMaxMessage = kInitData + 128 * kContData;  // CTAPHID: 7609 bytes
constexpr std::uint8_t kCmdInit = 0x06;
constexpr std::uint8_t kCmdCbor = 0x10;
constexpr std::uint8_t kCmdCancel = 0x11;
constexpr std::uint8_t kCmdKeepalive = 0x3b;
// How long the token waits for the host's next request before it decides the host is stuck and
// is pulled out. Only a wrong HostReader model makes it wait that long — or libfido2's touch
// wait, which polls on after an empty CTAPHID_CBOR answer. Any value is a valid token (a key can
// be pulled out at any time); a short one keeps such inputs fast (on the long run's corpus,
// 250 ms gave 120 executions a second, 20 ms about 1,250, the host being idle most of the time).
constexpr int kStuckMs = 20;

using Report = std::array<std::uint8_t, kReportSize>;

void require(bool condition) {
  if (!condition) std::abort();
}

// One request from the host, reassembled.
struct Request {
  std::array<std::uint8_t, 4> cid{};
  std::uint8_t command = 0;
  Bytes payload;
};

// What libfido2 1.12's rx() (io.c: rx_preamble, then the continuation loop) makes of the reports
// a token sends after a request: it skips reports of other channels and KEEPALIVEs, fails on an
// initialization packet with another command, reads the declared length, then fails on the
// first continuation of another channel or out of sequence. Used to know when the host has
// stopped reading.
class HostReader {
 public:
  HostReader(const std::array<std::uint8_t, 4>& cid, std::uint8_t command)
      : cid_(cid), command_(command) {}

  // Takes the next report the host reads. Returns true once the host has stopped reading: a
  // whole message, or an error.
  bool take(const Report& r) {
    const bool same_channel = std::equal(cid_.begin(), cid_.end(), r.begin());
    if (!started_) {
      if (!same_channel || r[4] == (0x80 | kCmdKeepalive)) return false;
      if (r[4] != (0x80 | command_)) return true;
      started_ = true;
      const std::size_t length = (std::size_t{r[5]} << 8) | r[6];
      remaining_ = length > kInitData ? length - kInitData : 0;
      return remaining_ == 0;
    }
    if (!same_channel || r[4] != sequence_) return true;
    ++sequence_;
    remaining_ -= std::min(remaining_, kContData);
    return remaining_ == 0;
  }

 private:
  std::array<std::uint8_t, 4> cid_;
  std::uint8_t command_;
  bool started_ = false;
  std::size_t remaining_ = 0;
  std::uint8_t sequence_ = 0;
};

// The answers of the fuzz input, in order.
class Script {
 public:
  explicit Script(std::span<const std::uint8_t> bytes) : in_(bytes) {}

  // The reports of the next answer to `request`; nullopt when the script has ended.
  std::optional<std::vector<Report>> next(const Request& request) {
    if (in_.empty()) return std::nullopt;
    const std::uint8_t op = take_byte();
    if ((op & 0x80) != 0) {
      std::vector<Report> raw((op & 7U) + 1);
      for (Report& r : raw) {
        r.fill(0);
        const std::size_t n = std::min(kReportSize, in_.size());
        std::copy_n(in_.begin(), n, r.begin());
        in_ = in_.subspan(n);
      }
      return raw;
    }
    const std::size_t keepalives = op & 3U;
    const std::uint8_t command = (op & 4U) != 0 ? take_byte() & 0x7fU : request.command;
    std::array<std::uint8_t, 4> cid = request.cid;
    if ((op & 8U) != 0) {
      for (auto& b : cid) b = take_byte();
    }
    std::optional<std::size_t> declared;
    if ((op & 16U) != 0) declared = take_u16();
    const bool init_only = (op & 32U) != 0;
    Bytes payload;
    if (request.command == kCmdInit && (op & 64U) == 0) {
      payload = request.payload;  // the nonce
      payload.resize(8);
    }
    const std::size_t length = std::min({take_u16(), in_.size(), kMaxMessage - payload.size()});
    payload.insert(payload.end(), in_.begin(), in_.begin() + static_cast<long>(length));
    in_ = in_.subspan(length);

    std::vector<Report> out;
    for (std::size_t i = 0; i < keepalives; ++i) {
      Report k{};
      std::copy(cid.begin(), cid.end(), k.begin());
      k[4] = 0x80 | kCmdKeepalive;
      k[6] = 1;
      k[7] = static_cast<std::uint8_t>(1 + i % 2);  // processing, then user presence needed
      out.push_back(k);
    }
    const std::size_t bcnt = declared.value_or(payload.size());
    Report init{};
    std::copy(cid.begin(), cid.end(), init.begin());
    init[4] = 0x80 | command;
    init[5] = static_cast<std::uint8_t>(bcnt >> 8);
    init[6] = static_cast<std::uint8_t>(bcnt);
    std::size_t offset = std::min(kInitData, payload.size());
    std::copy_n(payload.begin(), offset, init.begin() + 7);
    out.push_back(init);
    for (std::uint8_t seq = 0; offset < payload.size() && !init_only; ++seq) {
      Report cont{};
      std::copy(cid.begin(), cid.end(), cont.begin());
      cont[4] = seq;
      const std::size_t n = std::min(kContData, payload.size() - offset);
      std::copy_n(payload.begin() + static_cast<long>(offset), n, cont.begin() + 5);
      offset += n;
      out.push_back(cont);
    }
    return out;
  }

 private:
  std::uint8_t take_byte() {
    if (in_.empty()) return 0;
    const std::uint8_t b = in_[0];
    in_ = in_.subspan(1);
    return b;
  }
  std::size_t take_u16() {
    const std::size_t high = take_byte();
    return (high << 8) | take_byte();
  }

  std::span<const std::uint8_t> in_;
};

// Records which request the host made, one branch per kind, so that coverage shows how far into
// a conversation an input got (libfido2 itself is not instrumented).
void observe(const Request& r) {
  static volatile int sink = 0;
  if (r.command != kCmdCbor || r.payload.empty()) {
    sink = sink + r.command;
    return;
  }
  switch (r.payload[0]) {
    case 0x01:  // makeCredential
      sink = sink + 1;
      break;
    case 0x02:  // getAssertion
      sink = sink + 2;
      break;
    case 0x04:  // getInfo
      sink = sink + 4;
      break;
    case 0x06:  // clientPIN: the subcommand is the value of key 2
      for (std::size_t i = 1; i + 2 < r.payload.size(); ++i) {
        if (r.payload[i] == 0x02 && r.payload[i + 1] <= 0x09) {
          switch (r.payload[i + 1]) {
            case 1:
              sink = sink + 61;
              break;
            case 2:
              sink = sink + 62;
              break;
            case 3:
              sink = sink + 63;
              break;
            case 4:
              sink = sink + 64;
              break;
            case 5:
              sink = sink + 65;
              break;
            case 9:
              sink = sink + 69;
              break;
            default:
              break;
          }
          break;
        }
      }
      break;
    default:
      sink = sink + 99;
      break;
  }
}

// The token's end: a SOCK_SEQPACKET socket in a fresh temporary directory, on which it answers
// connections (one at a time, as the backend opens and reopens the device) from a script.
class HostileToken {
 public:
  HostileToken() {
    char dir[] = "/tmp/touchpass-fuzz-fido2-XXXXXX";
    require(::mkdtemp(dir) != nullptr);
    dir_ = dir;
    path_ = dir_ + "/token.sock";
    listener_ = touchpass::UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    require(listener_.valid() &&
            ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::listen(listener_.get(), 4) == 0);
  }
  ~HostileToken() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  HostileToken(const HostileToken&) = delete;
  HostileToken& operator=(const HostileToken&) = delete;

  const std::string& path() const { return path_; }

  // Runs `host` on this thread while the token answers its connections from `script`.
  template <class Host>
  void serve(std::span<const std::uint8_t> script, Host&& host) {
    stop_.clear();
    peer_.start([this, script] {
      Script answers(script);
      while (accept_and_answer(answers, stop_.fd())) {
      }
    });
    host();
    stop_.raise();
    peer_.wait();
  }

 private:
  // Serves one connection. Returns false when told to stop.
  bool accept_and_answer(Script& answers, int stop_fd) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN) != 0) return false;
    const touchpass::UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) return true;
    std::deque<Report> unread;  // sent, and not yet read by the host as far as HostReader knows
    for (;;) {
      auto request = receive(fd.get(), stop_fd);
      if (!request) return true;
      if (request->command == kCmdCancel) continue;  // CANCEL is never answered
      observe(*request);
      HostReader host(request->cid, request->command);
      bool done = false;
      while (!done && !unread.empty()) {
        done = host.take(unread.front());
        unread.pop_front();
      }
      while (!done) {
        auto reports = answers.next(*request);
        if (!reports) return true;  // the script has ended: the token is pulled out
        for (const Report& r : *reports) {
          if (::send(fd.get(), r.data(), r.size(), MSG_NOSIGNAL) != kReportSize) return true;
          if (done) {
            unread.push_back(r);
          } else {
            done = host.take(r);
          }
        }
      }
    }
  }

  // The host's next request on `fd`; nullopt when it closed the connection, sent something
  // that is no request, or went quiet for kStuckMs.
  static std::optional<Request> receive(int fd, int stop_fd) {
    Request request;
    std::size_t length = 0;
    std::uint8_t sequence = 0;
    for (bool first = true;; first = false) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
      if (::poll(fds, 2, kStuckMs) <= 0 || (fds[1].revents & POLLIN) != 0) return std::nullopt;
      Report r{};
      if (::recv(fd, r.data(), r.size(), 0) != kReportSize) return std::nullopt;
      if (first) {
        if ((r[4] & 0x80) == 0) return std::nullopt;
        std::copy_n(r.begin(), 4, request.cid.begin());
        request.command = r[4] & 0x7fU;
        length = (std::size_t{r[5]} << 8) | r[6];
        request.payload.assign(r.begin() + 7,
                               r.begin() + 7 + static_cast<long>(std::min(length, kInitData)));
      } else {
        if (r[4] != sequence++) return std::nullopt;
        const std::size_t n = std::min(kContData, length - request.payload.size());
        request.payload.insert(request.payload.end(), r.begin() + 5,
                               r.begin() + 5 + static_cast<long>(n));
      }
      if (request.payload.size() >= length) return request;
    }
  }

  std::string dir_;
  std::string path_;
  touchpass::UniqueFd listener_;
  touchpass::fuzzing::StopSignal stop_;
  touchpass::fuzzing::PeerThread peer_;
};

HostileToken& hostile_token() {
  static HostileToken* instance = new HostileToken();  // its directory is removed at exit
  static const bool cleanup = [] {
    std::atexit([] { delete instance; });
    return true;
  }();
  (void)cleanup;
  return *instance;
}

// --- What the backend is asked.

constexpr std::string_view kRpId = "touchpass";

const FixedP256Key& credential_key() {
  static const FixedP256Key key("fido2 credential");
  return key;
}

const FixedP256Key& key_agreement_key() {
  static const FixedP256Key key("fido2 token key agreement");
  return key;
}

Bytes filled(std::size_t n, std::uint8_t value) {
  return Bytes(n, value);
}

const Bytes& client_data_hash() {
  static const Bytes hash = filled(32, 0xcd);
  return hash;
}

const Bytes& credential_id() {
  static const Bytes id = filled(16, 0xc1);
  return id;
}

SecretBytes pin(std::string_view text) {
  return SecretBytes::copy_of(text);
}

// What an accepted assertion or enrollment must satisfy, checked without libfido2: made for this
// relying party, with a touch.
void require_bound(std::span<const std::uint8_t> auth_data) {
  require(auth_data.size() >= 37);
  const auto rp_hash = touchpass::rp_id_hash(kRpId);
  require(rp_hash.ok() && std::equal(rp_hash->begin(), rp_hash->end(), auth_data.begin()));
  require((auth_data[32] & 0x01) != 0);
}

devices::Credential credential(devices::UserVerification uv) {
  devices::Credential c;
  c.rp_id = kRpId;
  c.id = credential_id();
  c.public_key = credential_key().raw();
  c.uv = uv;
  c.sign_count = 3;
  return c;
}

enum class Operation {
  capabilities,
  pin_retries,
  enroll_presence,
  enroll_pin,
  assert_presence,
  assert_pin,
  holds_credential,
  holds_credential_pin,
  set_pin,
  change_pin,
  wait_for_touch,
  count
};

// Asks the opened token `op`; aborts if the backend accepts what it must refuse.
void run(devices::fido2::Fido2Token& token, Operation op) {
  const SecretBytes current = pin("123456");
  switch (op) {
    case Operation::capabilities:
      (void)token.capabilities();
      break;
    case Operation::pin_retries:
      (void)token.pin_retries();
      break;
    case Operation::enroll_presence:
    case Operation::enroll_pin: {
      devices::EnrollRequest request;
      request.rp_id = kRpId;
      request.rp_name = "touchpass";
      request.user_id = filled(16, 0x75);
      request.user_name = "alice";
      request.client_data_hash = client_data_hash();
      request.uv = op == Operation::enroll_pin ? devices::UserVerification::pin
                                               : devices::UserVerification::presence_only;
      request.pin = &current;
      request.timeout = 5000ms;
      auto enrollment = token.enroll(request);
      if (!enrollment.ok()) break;
      require_bound(enrollment->auth_data);
      require(enrollment->credential.public_key.size() == 64 && !enrollment->credential.id.empty());
      break;
    }
    case Operation::assert_presence:
    case Operation::assert_pin: {
      devices::AssertRequest request;
      request.credential =
          credential(op == Operation::assert_pin ? devices::UserVerification::pin
                                                 : devices::UserVerification::presence_only);
      request.client_data_hash = client_data_hash();
      request.salt = filled(32, 0x5a);
      request.pin = &current;
      request.timeout = 5000ms;
      auto assertion = token.assert_hmac_secret(request);
      if (!assertion.ok()) break;
      // Accepted only when the credential's key signed authData || clientDataHash (checked
      // again with touchpass's own verifier), for this relying party, with a fresh counter, and
      // without UV for a touch-only credential.
      require(assertion->hmac_secret.size() == 32);
      require_bound(assertion->auth_data);
      Bytes message = assertion->auth_data;
      message.insert(message.end(), client_data_hash().begin(), client_data_hash().end());
      const auto key = touchpass::Es256PublicKey::from_raw(credential_key().raw());
      require(touchpass::verify_es256_signature(*key, message, assertion->signature).ok());
      require(assertion->sign_count > request.credential.sign_count);
      require(op == Operation::assert_pin || !assertion->user_verified);
      break;
    }
    case Operation::holds_credential:
      (void)token.holds_credential(credential(devices::UserVerification::presence_only), nullptr);
      break;
    case Operation::holds_credential_pin:
      (void)token.holds_credential(credential(devices::UserVerification::pin), &current);
      break;
    case Operation::set_pin:
      (void)token.set_pin(pin("246810"));
      break;
    case Operation::change_pin:
      (void)token.change_pin(current, pin("246810"));
      break;
    case Operation::wait_for_touch:
      (void)token.wait_for_touch(5000ms);
      break;
    case Operation::count:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto op = static_cast<Operation>(data[0] % static_cast<std::uint8_t>(Operation::count));
  devices::TokenInfo info;
  info.path = hostile_token().path();
  info.transport = devices::Transport::virtual_socket;
  hostile_token().serve({data + 1, size - 1}, [&] {
    auto token = devices::fido2::Fido2Token::open(info);
    if (token.ok()) run(**token, op);
  });
  return 0;
}

namespace {

// Builds a script the way a well-behaved token answers, answer by answer.
class ScriptWriter {
 public:
  explicit ScriptWriter(Operation op) : out_(1, static_cast<char>(op)) {}

  // The INIT answer after the nonce: channel 0x0000002a, CTAPHID 2, firmware 5.4.3, WINK|CBOR.
  ScriptWriter& init() { return framed({0x00, 0x00, 0x00, 0x2a, 2, 5, 4, 3, 0x05}); }
  // A CTAPHID_CBOR answer: the status byte, then the body.
  ScriptWriter& cbor(std::uint8_t status, const Bytes& body = {}) {
    Bytes payload{status};
    payload.insert(payload.end(), body.begin(), body.end());
    return framed(payload);
  }
  std::string take() { return std::move(out_); }

 private:
  ScriptWriter& framed(const Bytes& payload) {
    out_.push_back(0);
    out_.push_back(static_cast<char>(payload.size() >> 8));
    out_.push_back(static_cast<char>(payload.size()));
    out_.append(payload.begin(), payload.end());
    return *this;
  }
  std::string out_;
};

// getInfo of a CTAP 2.1 key with hmac-secret and credProtect; with a PIN (set or not) when
// `client_pin`.
Bytes get_info(bool client_pin, bool pin_set) {
  CborWriter w;
  w.map(client_pin ? 7 : 6);
  w.uint(1).array(2).text("FIDO_2_0").text("FIDO_2_1");
  w.uint(2).array(2).text("credProtect").text("hmac-secret");
  w.uint(3).bytes(filled(16, 0xaa));
  if (client_pin) {
    w.uint(4).map(3).text("rk").boolean(false).text("clientPin").boolean(pin_set);
    w.text("pinUvAuthToken").boolean(true);
  }
  w.uint(5).uint(1200);
  w.uint(6).array(2).uint(2).uint(1);
  w.uint(10).array(1).map(2).text("alg").nint(-7).text("type").text("public-key");
  return w.take();
}

Bytes key_agreement() {
  CborWriter w;
  w.map(1).uint(1).raw(key_agreement_key().cose_key(-25));
  return w.take();
}

// A pinUvAuthToken, encrypted for PIN protocol 2 (IV || 32 bytes); libfido2 decrypts it with
// its own shared secret into some token, which is all it needs.
Bytes pin_token() {
  CborWriter w;
  w.map(1).uint(2).bytes(filled(48, 0x70));
  return w.take();
}

Bytes retries() {
  CborWriter w;
  w.map(1).uint(3).uint(8);
  return w.take();
}

Bytes auth_data(std::uint8_t flags, std::uint32_t count, const Bytes& attested,
                const Bytes& extensions) {
  const auto rp_hash = touchpass::rp_id_hash(kRpId);
  Bytes out(rp_hash->begin(), rp_hash->end());
  out.push_back(flags);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(count >> shift));
  out.insert(out.end(), attested.begin(), attested.end());
  out.insert(out.end(), extensions.begin(), extensions.end());
  return out;
}

Bytes signed_over(const Bytes& data) {
  Bytes message = data;
  message.insert(message.end(), client_data_hash().begin(), client_data_hash().end());
  return credential_key().sign(message);
}

// makeCredential's answer: packed self attestation of a new credential whose authData carries
// `extensions` as its extension outputs.
Bytes make_credential_with(bool uv, const Bytes& extensions) {
  Bytes attested = filled(16, 0xaa);
  attested.push_back(0);
  attested.push_back(static_cast<std::uint8_t>(credential_id().size()));
  attested.insert(attested.end(), credential_id().begin(), credential_id().end());
  const Bytes cose = credential_key().cose_key();
  attested.insert(attested.end(), cose.begin(), cose.end());
  const Bytes data =
      auth_data(static_cast<std::uint8_t>(0x41 | 0x80 | (uv ? 0x04 : 0)), 0, attested, extensions);
  CborWriter w;
  w.map(3).uint(1).text("packed").uint(2).bytes(data);
  w.uint(3).map(2).text("alg").nint(-7).text("sig").bytes(signed_over(data));
  return w.take();
}

// The same with hmac-secret and credProtect `level`.
Bytes make_credential(bool uv, int level) {
  CborWriter ext;
  ext.map(2).text("credProtect").uint(static_cast<std::uint64_t>(level));
  ext.text("hmac-secret").boolean(true);
  return make_credential_with(uv, ext.data());
}

// getAssertion's answer for the credential: authData with `flags` and `extensions`.
Bytes get_assertion_with(std::uint8_t flags, const Bytes& extensions) {
  const Bytes data = auth_data(flags, 4, {}, extensions);
  CborWriter w;
  w.map(3).uint(1).map(2).text("id").bytes(credential_id()).text("type").text("public-key");
  w.uint(2).bytes(data).uint(3).bytes(signed_over(data));
  return w.take();
}

// The same with an hmac-secret output (PIN protocol 2: IV || 32 bytes) unless `silent`.
Bytes get_assertion(bool uv, bool silent) {
  CborWriter ext;
  ext.map(1).text("hmac-secret").bytes(filled(48, 0x48));
  const std::uint8_t flags =
      silent ? 0x00 : static_cast<std::uint8_t>(0x01 | 0x80 | (uv ? 0x04 : 0));
  return get_assertion_with(flags, silent ? Bytes{} : ext.data());
}

constexpr std::uint8_t kOk = 0x00;
constexpr std::uint8_t kNoCredentials = 0x2e;
constexpr std::uint8_t kPinInvalid = 0x31;

}  // namespace

std::vector<std::string> fuzz_seeds() {
  using W = ScriptWriter;
  const Bytes plain = get_info(false, false);
  const Bytes unset = get_info(true, false);
  const Bytes with_pin = get_info(true, true);
  const Bytes huge_array = {0x9a, 0x10, 0x00, 0x00, 0x00};  // "an array of 2^28 items"
  return {
      W(Operation::capabilities).init().cbor(kOk, huge_array).take(),
      W(Operation::holds_credential).init().cbor(kOk, plain).cbor(kOk, huge_array).take(),
      // The same inside authData (findings/fido2-huge-cbor-in-authdata).
      W(Operation::enroll_presence)
          .init()
          .cbor(kOk, plain)
          .cbor(kOk, plain)
          .cbor(kOk, make_credential_with(false, huge_array))
          .take(),
      W(Operation::assert_presence)
          .init()
          .cbor(kOk, plain)
          .cbor(kOk, key_agreement())
          .cbor(kOk, get_assertion_with(0x81, huge_array))
          .take(),
      W(Operation::capabilities).init().cbor(kOk, with_pin).cbor(kOk, with_pin).take(),
      W(Operation::pin_retries)
          .init()
          .cbor(kOk, with_pin)
          .cbor(kOk, with_pin)
          .cbor(kOk, retries())
          .take(),
      W(Operation::enroll_presence)
          .init()
          .cbor(kOk, plain)
          .cbor(kOk, plain)
          .cbor(kOk, make_credential(false, 2))
          .take(),
      W(Operation::enroll_pin)
          .init()
          .cbor(kOk, with_pin)
          .cbor(kOk, with_pin)
          .cbor(kOk, key_agreement())
          .cbor(kOk, pin_token())
          .cbor(kOk, make_credential(true, 3))
          .cbor(kNoCredentials)
          .take(),
      W(Operation::assert_presence)
          .init()
          .cbor(kOk, plain)
          .cbor(kOk, key_agreement())
          .cbor(kOk, get_assertion(false, false))
          .take(),
      W(Operation::assert_pin)
          .init()
          .cbor(kOk, with_pin)
          .cbor(kOk, key_agreement())
          .cbor(kOk, pin_token())
          .cbor(kOk, get_assertion(true, false))
          .take(),
      W(Operation::holds_credential).init().cbor(kOk, plain).cbor(kNoCredentials).take(),
      W(Operation::holds_credential)
          .init()
          .cbor(kOk, plain)
          .cbor(kOk, get_assertion(false, true))
          .take(),
      W(Operation::holds_credential_pin)
          .init()
          .cbor(kOk, with_pin)
          .cbor(kOk, key_agreement())
          .cbor(kOk, pin_token())
          .cbor(kNoCredentials)
          .take(),
      W(Operation::set_pin)
          .init()
          .cbor(kOk, unset)
          .cbor(kOk, unset)
          .cbor(kOk, key_agreement())
          .cbor(kOk)
          .take(),
      W(Operation::change_pin)
          .init()
          .cbor(kOk, with_pin)
          .cbor(kOk, with_pin)
          .cbor(kOk, key_agreement())
          .cbor(kOk)
          .take(),
      W(Operation::wait_for_touch).init().cbor(kOk, with_pin).cbor(kPinInvalid).take(),
      W(Operation::assert_pin)
          .init()
          .cbor(kOk, with_pin)
          .cbor(kOk, key_agreement())
          .cbor(kPinInvalid)
          .cbor(kOk, retries())
          .take(),
  };
}

// Enough for a whole conversation of full-size answers: four CTAPHID messages of the largest
// size (7609 bytes) with their framing bytes, and the operation byte.
std::size_t fuzz_max_len() {
  return 1 + 4 * (kMaxMessage + 16);
}
