#include "devices/fido2/discovery.h"

#include <fido.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

#include "devices/fido2/errors.h"
#include "devices/fido2/fido2_token.h"
#include "devices/fido2/handles.h"
#include "devices/fido2/report_io.h"

namespace touchpass::devices::fido2 {
namespace {

constexpr std::size_t kMaxUsbTokens = 64;

Error gone(const TokenInfo& info) {
  return Error(Code::no_token,
               "The security key " + info.path + " is no longer present. Insert it and try again.");
}

}  // namespace

Result<std::unique_ptr<Token>> open_fido2_token(const TokenInfo& info) {
  auto token = Fido2Token::open(info);
  if (!token) return token.error();
  return std::unique_ptr<Token>(std::move(token).value());
}

Result<std::vector<TokenInfo>> UsbDiscovery::enumerate() {
  ensure_libfido2_initialized();
  DevInfoListPtr list(fido_dev_info_new(kMaxUsbTokens), DevInfoListDeleter{kMaxUsbTokens});
  if (!list) return Error(Code::internal, "Out of memory while listing security keys.");
  std::size_t found = 0;
  const int r = fido_dev_info_manifest(list.get(), kMaxUsbTokens, &found);
  if (r != FIDO_OK) {
    Error error = translate_fido_error(r);
    return Error(Code::io_error, "Could not list the USB security keys: " + error.message);
  }
  std::vector<TokenInfo> tokens;
  for (std::size_t i = 0; i < found; ++i) {
    const fido_dev_info_t* di = fido_dev_info_ptr(list.get(), i);
    if (di == nullptr || fido_dev_info_path(di) == nullptr) continue;
    TokenInfo info;
    info.path = fido_dev_info_path(di);
    info.transport = Transport::usb_hid;
    if (const char* s = fido_dev_info_manufacturer_string(di)) info.manufacturer = s;
    if (const char* s = fido_dev_info_product_string(di)) info.product = s;
    info.vendor_id = static_cast<std::uint16_t>(fido_dev_info_vendor(di));
    info.product_id = static_cast<std::uint16_t>(fido_dev_info_product(di));
    tokens.push_back(std::move(info));
  }
  std::sort(tokens.begin(), tokens.end(),
            [](const TokenInfo& a, const TokenInfo& b) { return a.path < b.path; });
  return tokens;
}

Result<std::unique_ptr<Token>> UsbDiscovery::open(const TokenInfo& info) {
  if (info.transport != Transport::usb_hid)
    return Error(Code::invalid_argument, "Not a USB security key: " + info.path);
  return open_fido2_token(info);
}

VirtualDirectoryDiscovery::VirtualDirectoryDiscovery(std::filesystem::path directory)
    : directory_(std::move(directory)) {}

Result<std::vector<TokenInfo>> VirtualDirectoryDiscovery::enumerate() {
  std::error_code ec;
  std::vector<TokenInfo> tokens;
  std::filesystem::directory_iterator it(directory_, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return tokens;
    return Error(Code::io_error, "Cannot read the virtual token directory " + directory_.string() +
                                     ": " + ec.message());
  }
  // increment(ec), not a range-for: the iterator's operator++ throws when reading the
  // directory fails.
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::filesystem::directory_entry& entry = *it;
    std::error_code status_ec;
    if (!entry.is_socket(status_ec) || status_ec) continue;
    const std::string path = entry.path().string();
    if (!virtual_socket_accepts(path)) continue;  // a stopped token's leftover socket file
    TokenInfo info;
    info.path = path;
    info.transport = Transport::virtual_socket;
    info.manufacturer = "touchpass";
    info.product = "virtual token " + entry.path().filename().string();
    tokens.push_back(std::move(info));
  }
  // The directory was removed during the scan (ENOENT; ESTALE on NFS): like a missing
  // directory, no error; the tokens listed so far accepted a connection a moment ago.
  if (ec && ec != std::errc::no_such_file_or_directory && ec.value() != ESTALE) {
    return Error(Code::io_error, "Cannot read the virtual token directory " + directory_.string() +
                                     ": " + ec.message());
  }
  std::sort(tokens.begin(), tokens.end(),
            [](const TokenInfo& a, const TokenInfo& b) { return a.path < b.path; });
  return tokens;
}

Result<std::unique_ptr<Token>> VirtualDirectoryDiscovery::open(const TokenInfo& info) {
  if (info.transport != Transport::virtual_socket)
    return Error(Code::invalid_argument, "Not a virtual token: " + info.path);
  auto token = open_fido2_token(info);
  if (!token && token.code() == Code::no_token) return gone(info);
  return token;
}

CompositeDiscovery::CompositeDiscovery(std::vector<std::unique_ptr<Discovery>> parts)
    : parts_(std::move(parts)) {}

Result<std::vector<TokenInfo>> CompositeDiscovery::enumerate() {
  std::vector<TokenInfo> all;
  std::map<std::string, Discovery*> owner;
  std::optional<Error> first_error;
  std::size_t failed = 0;
  for (const auto& part : parts_) {
    auto listed = part->enumerate();
    if (!listed) {
      ++failed;
      if (!first_error) first_error = listed.error();
      continue;
    }
    for (auto& info : listed.value()) {
      if (owner.count(info.path) != 0) continue;
      owner[info.path] = part.get();
      all.push_back(std::move(info));
    }
  }
  if (!parts_.empty() && failed == parts_.size()) return *first_error;
  owner_ = std::move(owner);
  return all;
}

Result<std::unique_ptr<Token>> CompositeDiscovery::open(const TokenInfo& info) {
  if (auto it = owner_.find(info.path); it != owner_.end()) return it->second->open(info);
  for (const auto& part : parts_) {
    auto listed = part->enumerate();
    if (!listed) continue;
    for (const auto& candidate : listed.value())
      if (candidate.path == info.path) return part->open(info);
  }
  return gone(info);
}

}  // namespace touchpass::devices::fido2
