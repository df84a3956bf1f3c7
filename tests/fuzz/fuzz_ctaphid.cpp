// The virtual token's CTAPHID engine: every sequence of reports a host can send. The input is
// cut into reports: a length byte (0..80, so framing errors are reachable too) then the bytes.
#include "devices/virtual/ctaphid.h"
#include "fuzz.h"

namespace {

using namespace touchpass;

class ScriptedLink final : public vtoken::ctaphid::Link {
 public:
  ScriptedLink(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  Received receive(std::optional<std::chrono::steady_clock::time_point>) override {
    if (pos_ >= size_) return {Received::Kind::closed, {}};
    const std::size_t want = data_[pos_] % 81u;
    ++pos_;
    const std::size_t n = std::min(want, size_ - pos_);
    Received r{Received::Kind::message, Bytes(data_ + pos_, data_ + pos_ + n)};
    pos_ += n;
    return r;
  }
  bool send(std::span<const std::uint8_t> report) override {
    if (report.size() != vtoken::ctaphid::kReportSize) std::abort();
    return true;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vtoken::ctaphid::Device device;
  ScriptedLink link(data, size);
  vtoken::ctaphid::Options options;
  options.message_timeout = std::chrono::milliseconds(0);
  options.presence_limit = std::chrono::milliseconds(0);
  vtoken::ctaphid::Session session(
      device, link,
      [](std::span<const std::uint8_t> request, vtoken::PresenceWaiter& presence) {
        if (!request.empty() && request[0] == 0x07) (void)presence.wait_for_presence();
        return Bytes{0x00};
      },
      [] { return vtoken::PresencePolicy{}; }, options);
  session.run();
  return 0;
}

std::vector<std::string> fuzz_seeds() {
  using namespace std::string_literals;
  // INIT on the broadcast channel, then a CBOR getInfo and a PING on channel 1.
  std::string init = "\x40"s + "\xff\xff\xff\xff\x86\x00\x08" + "12345678" + std::string(49, '\0');
  std::string cbor = "\x40"s + "\x00\x00\x00\x01\x90\x00\x01\x04" + std::string(56, '\0');
  std::string ping = "\x40"s + "\x00\x00\x00\x01\x81\x00\x02hi" + std::string(55, '\0');
  std::string cancel = "\x40"s + "\x00\x00\x00\x01\x91\x00\x00" + std::string(57, '\0');
  return {init, init + cbor, init + ping + cancel, init + cbor + cbor};
}

// Long enough for two messages of the largest size (129 reports each, 65 bytes a report).
std::size_t fuzz_max_len() {
  return 2 * 129 * 65;
}
