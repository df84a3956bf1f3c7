#include "devices/hotplug/hotplug.h"

#include <libudev.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace touchpass::devices {

std::uint64_t Hotplug::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

std::uint64_t Hotplug::wait(std::uint64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return generation_ != seen; });
  return generation_;
}

void Hotplug::changed() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

// The libudev monitor; both handles released together.
struct HotplugMonitor::Udev {
  udev* context = nullptr;
  udev_monitor* monitor = nullptr;
  ~Udev() {
    if (monitor != nullptr) udev_monitor_unref(monitor);
    if (context != nullptr) udev_unref(context);
  }
};

namespace {

// True for inotify events about token device nodes: hidraw* in the devices directory, anything
// in a USB bus directory (libusb's nodes for YubiKeys' OTP interface).
bool token_node_event(const char* buf, ssize_t n, int top_watch) {
  for (ssize_t off = 0; off < n;) {
    const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
    const std::string_view name = ev->len > 0 ? std::string_view(ev->name) : std::string_view();
    if (ev->wd != top_watch || name.substr(0, 6) == "hidraw") return true;
    off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<HotplugMonitor>> HotplugMonitor::start(
    const std::filesystem::path& virtual_dir, bool udev, const std::filesystem::path& devices_dir) {
  std::unique_ptr<HotplugMonitor> m(new HotplugMonitor());
  m->stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!m->stop_fd_.valid()) return Error{Code::io_error, "eventfd failed."};
  if (!virtual_dir.empty()) {
    m->inotify_fd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!m->inotify_fd_.valid() ||
        ::inotify_add_watch(m->inotify_fd_.get(), virtual_dir.c_str(),
                            IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB) < 0) {
      return Error{Code::io_error, "Cannot watch " + virtual_dir.string() +
                                       " for virtual tokens: " + std::strerror(errno) + "."};
    }
  }
  if (!devices_dir.empty()) {
    m->devices_fd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_ATTRIB;
    m->devices_top_ = m->devices_fd_.valid()
                          ? ::inotify_add_watch(m->devices_fd_.get(), devices_dir.c_str(), kMask)
                          : -1;
    if (m->devices_top_ < 0) {
      return Error{Code::io_error, "Cannot watch " + devices_dir.string() +
                                       " for security keys: " + std::strerror(errno) + "."};
    }
    // USB bus directories exist from boot; a missing /dev/bus/usb just means no USB.
    std::error_code ec;
    for (const auto& bus : std::filesystem::directory_iterator(devices_dir / "bus" / "usb", ec)) {
      (void)::inotify_add_watch(m->devices_fd_.get(), bus.path().c_str(), kMask);
    }
  }
  if (udev) {
    auto u = std::make_unique<Udev>();
    u->context = udev_new();
    if (u->context != nullptr) u->monitor = udev_monitor_new_from_netlink(u->context, "udev");
    if (u->monitor == nullptr ||
        udev_monitor_filter_add_match_subsystem_devtype(u->monitor, "hidraw", nullptr) < 0 ||
        udev_monitor_filter_add_match_subsystem_devtype(u->monitor, "usb", nullptr) < 0 ||
        udev_monitor_enable_receiving(u->monitor) < 0) {
      return Error{Code::io_error, "Cannot watch udev for security keys being plugged in."};
    }
    m->udev_ = std::move(u);
  }
  m->thread_ = std::thread([raw = m.get()] { raw->run(); });
  return m;
}

HotplugMonitor::~HotplugMonitor() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
  }
}

void HotplugMonitor::run() {
  const int udev_fd = udev_ ? udev_monitor_get_fd(udev_->monitor) : -1;
  while (true) {
    std::array<pollfd, 4> fds = {pollfd{stop_fd_.get(), POLLIN, 0},
                                 pollfd{inotify_fd_.get(), POLLIN, 0}, pollfd{udev_fd, POLLIN, 0},
                                 pollfd{devices_fd_.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    bool change = false;
    if (fds[1].revents != 0) {
      alignas(inotify_event) char buf[4096];
      while (::read(inotify_fd_.get(), buf, sizeof buf) > 0) change = true;
    }
    if (fds[2].revents != 0) {
      while (udev_device* dev = udev_monitor_receive_device(udev_->monitor)) {
        // Only devices our udev rules marked as tokens (see udev/70-touchpass.rules).
        if (udev_device_get_property_value(dev, kUdevProperty) != nullptr) change = true;
        udev_device_unref(dev);
      }
    }
    if (fds[3].revents != 0) {
      alignas(inotify_event) char buf[4096];
      ssize_t n;
      while ((n = ::read(devices_fd_.get(), buf, sizeof buf)) > 0) {
        if (token_node_event(buf, n, devices_top_)) change = true;
      }
    }
    if (change) changed();
  }
}

}  // namespace touchpass::devices
