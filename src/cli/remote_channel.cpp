#include "cli/remote_channel.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "cli/format.h"
#include "cli/remote_json.h"

namespace touchpass::cli {

namespace {

// The largest answer read: the longest audit logs, put together by touchpass-web.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024 * 1024;

// A growing buffer for answer bodies (they may hold a password): every byte it held is wiped,
// when it grows and when it is destroyed.
class WipedBuffer {
 public:
  WipedBuffer() = default;
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  ~WipedBuffer() { clear(); }

  // Appends `n` bytes; false (nothing appended) beyond kMaxAnswerBytes.
  bool append(const char* data, std::size_t n) {
    if (n > kMaxAnswerBytes - bytes_.size()) return false;
    if (bytes_.size() + n > bytes_.capacity()) {
      std::vector<char> bigger;
      bigger.reserve(std::max(bytes_.capacity() * 2, bytes_.size() + n));
      bigger.assign(bytes_.begin(), bytes_.end());
      clear();
      bytes_.swap(bigger);
    }
    bytes_.insert(bytes_.end(), data, data + n);
    return true;
  }
  std::string_view view() const { return {bytes_.data(), bytes_.size()}; }
  // Wipes and empties the buffer.
  void clear() {
    if (bytes_.capacity() > 0) OPENSSL_cleanse(bytes_.data(), bytes_.capacity());
    bytes_.clear();
  }

 private:
  std::vector<char> bytes_;
};

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using UniqueList = std::unique_ptr<curl_slist, ListDeleter>;

// curl_global_init, once per process (before the first handle, as libcurl asks).
bool curl_ready() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

std::size_t collect(char* data, std::size_t size, std::size_t count, void* buffer) {
  const std::size_t n = size * count;
  return static_cast<WipedBuffer*>(buffer)->append(data, n) ? n : 0;
}

struct Progress {
  const CancelFlag* cancel = nullptr;  // nullptr: not cancellable
};

int on_progress(void* data, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* progress = static_cast<const Progress*>(data);
  return progress->cancel != nullptr && progress->cancel->raised() ? 1 : 0;
}

// Appends `line` to `list`; false when libcurl has no memory.
bool add_header(UniqueList& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return false;
  (void)list.release();
  list.reset(grown);
  return true;
}

}  // namespace

struct RemoteChannel::Curl {
  std::unique_ptr<CURL, EasyDeleter> easy;
};

Result<std::unique_ptr<RemoteChannel>> RemoteChannel::open(RemoteServer server,
                                                           const CancelFlag& cancel,
                                                           RemoteTiming timing) {
  if (!curl_ready()) return Error{Code::internal, "libcurl could not be initialized."};
  auto curl = std::make_unique<Curl>();
  curl->easy.reset(curl_easy_init());
  if (!curl->easy) return Error{Code::internal, "libcurl could not be initialized."};
  CURL* easy = curl->easy.get();
  // Settings that hold for every transfer of this channel.
  bool set =
      curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "") == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_USERAGENT, "touchpass/" TOUCHPASS_VERSION) == CURLE_OK &&
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(timing.connect.count())) == CURLE_OK;
  if (server.pin.empty()) {
    set = set && curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
          curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
  } else {
    // A pinned key replaces the CA and host-name checks (a self-signed server names no CA and
    // maybe not its host): libcurl checks the pin whatever VERIFYPEER says, and fails the
    // handshake (CURLE_SSL_PINNEDPUBKEYNOTMATCH) before any byte is sent when it differs.
    set = set && curl_easy_setopt(easy, CURLOPT_PINNEDPUBLICKEY, server.pin.c_str()) == CURLE_OK &&
          curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK &&
          curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
  }
  if (!set) {
    return Error{Code::internal,
                 "libcurl lacks a feature touchpass needs (HTTPS with public-key pinning)."};
  }
  return std::unique_ptr<RemoteChannel>(
      new RemoteChannel(std::move(server), cancel, timing, std::move(curl)));
}

RemoteChannel::RemoteChannel(RemoteServer server, const CancelFlag& cancel, RemoteTiming timing,
                             std::unique_ptr<Curl> curl)
    : server_(std::move(server)), cancel_(cancel), timing_(timing), curl_(std::move(curl)) {}

RemoteChannel::~RemoteChannel() = default;

Result<Answer> RemoteChannel::transfer(const std::string& path, const SecretBytes* body,
                                       bool cancellable, std::chrono::milliseconds limit) {
  CURL* easy = curl_->easy.get();
  const std::string url = server_.origin.origin + path;
  WipedBuffer answer;
  char error[CURL_ERROR_SIZE] = {};
  Progress progress{cancellable ? &cancel_ : nullptr};
  UniqueList headers;
  bool set = add_header(headers, "Accept: application/json") &&
             add_header(headers, "Expect:");  // no 100-continue round trip
  if (body != nullptr) set = set && add_header(headers, "Content-Type: application/json");
  if (csrf_) set = set && add_header(headers, "X-Touchpass-CSRF: " + *csrf_);
  set = set && curl_easy_setopt(easy, CURLOPT_URL, url.c_str()) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &progress) == CURLE_OK &&
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count())) == CURLE_OK;
  if (body != nullptr) {
    set = set && curl_easy_setopt(easy, CURLOPT_POST, 1L) == CURLE_OK &&
          curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(body->size())) == CURLE_OK &&
          curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body->data()) == CURLE_OK;
  } else {
    set = set && curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) == CURLE_OK;
  }
  if (!set) return Error{Code::internal, "libcurl could not be set up for a request."};
  const CURLcode done = curl_easy_perform(easy);
  // Nothing of this transfer may outlive it inside the handle.
  (void)curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  (void)curl_easy_setopt(easy, CURLOPT_POSTFIELDS, nullptr);
  (void)curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  (void)curl_easy_setopt(easy, CURLOPT_WRITEDATA, nullptr);
  (void)curl_easy_setopt(easy, CURLOPT_XFERINFODATA, nullptr);
  if (done == CURLE_ABORTED_BY_CALLBACK) return Error{Code::cancelled, "Cancelled."};
  if (done != CURLE_OK) {
    std::string why = error[0] != '\0' ? std::string(error) : curl_easy_strerror(done);
    if (done == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
      why = "its public key is not the one --server-pin names";
    } else if (done == CURLE_PEER_FAILED_VERIFICATION && server_.pin.empty()) {
      why += " (for a server with a self-signed certificate, give --server-pin)";
    } else if (done == CURLE_WRITE_ERROR) {
      why = "its answer is larger than " + std::to_string(kMaxAnswerBytes >> 20) + " MiB";
    }
    return Error{Code::io_error, "Cannot reach " + server_.origin.origin + ": " + printable(why) +
                                     (why.ends_with('.') ? "" : ".")};
  }
  long status = 0;
  (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  auto read = api_answer(answer.view(), status, server_.origin.host);
  if (!read.ok()) return read.error();
  if (read->csrf) csrf_ = std::move(read->csrf);
  return std::move(read->answer);
}

Status RemoteChannel::connect() {
  if (reached_) return Status{};
  auto health = transfer("/api/v1/health", nullptr, true, timing_.request);
  if (!health.ok()) return health.status();
  const auto daemon = health->result.find("daemon");
  if (daemon == health->result.end() || !daemon->is_boolean()) {
    return Error{Code::protocol_error, server_.origin.host +
                                           " answered its health check strangely; is it "
                                           "touchpass-web?"};
  }
  if (!daemon->get<bool>()) {
    return Error{Code::io_error, server_.origin.host +
                                     " is reachable, but touchpass-web there cannot reach "
                                     "touchpassd. Try again later or tell its administrator."};
  }
  reached_ = true;
  return Status{};
}

Result<Answer> RemoteChannel::call(const ipc::Request& request,
                                   std::span<const std::uint8_t> secret) {
  if (Status s = connect(); !s.ok()) return s.error();
  auto body = api_request_body(request, secret);
  if (!body.ok()) return body.error();
  return transfer("/api/v1/" + std::string(ipc::op_name(request.op)), &*body, true,
                  timing_.request);
}

Status RemoteChannel::sign_out() {
  if (!csrf_) return Status{};
  ipc::Request request;
  request.op = ipc::Op::signout;
  auto body = api_request_body(request, {});
  if (!body.ok()) return body.status();
  auto ended = transfer("/api/v1/signout", &*body, false, timing_.sign_out);
  csrf_.reset();
  (void)curl_easy_setopt(curl_->easy.get(), CURLOPT_COOKIELIST, "ALL");
  return ended.status();
}

}  // namespace touchpass::cli
