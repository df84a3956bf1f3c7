// Hot-plug: tells waiting requests that tokens may have come or gone, so that an operation
// waiting for a key continues as soon as one is plugged in. Sources: the virtual-token
// directory (inotify: a socket appearing or vanishing) and udev (a libudev monitor for USB
// tokens, filtered on the property our udev rules set). A fake for tests triggers by hand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/fd.h"
#include "core/status.h"

namespace touchpass::devices {

// A change counter that waiters can block on. Thread-safe.
class Hotplug {
 public:
  virtual ~Hotplug() = default;

  // The number of changes seen so far.
  std::uint64_t generation() const;
  // Blocks until generation() differs from `seen` or `timeout` passes; returns generation().
  std::uint64_t wait(std::uint64_t seen, std::chrono::milliseconds timeout) const;

 protected:
  // Records one change and wakes every waiter.
  void changed();

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::uint64_t generation_ = 0;
};

// For tests: changes are announced by calling trigger().
class FakeHotplug final : public Hotplug {
 public:
  void trigger() { changed(); }
};

// Watches the virtual-token directory and the device nodes with inotify, and optionally udev; a
// background thread turns their events into changes. The property our udev rules put on token
// devices selects udev events. The device-node watch (hidraw* in /dev, and /dev/bus/usb/*) also
// works inside systemd's PrivateNetwork=, where udev's netlink events do not arrive.
class HotplugMonitor final : public Hotplug {
 public:
  inline static constexpr const char* kUdevProperty = "TOUCHPASS_TOKEN";

  // `virtual_dir` empty: no directory watch; `udev` false: no udev monitor. Errors: io_error
  // when a requested source cannot be set up (a missing directory is created by the caller).
  // `devices_dir`: where device nodes appear (/dev; tests use a directory of their own); empty:
  // no device-node watch.
  static Result<std::unique_ptr<HotplugMonitor>> start(
      const std::filesystem::path& virtual_dir, bool udev,
      const std::filesystem::path& devices_dir = {});
  ~HotplugMonitor() override;

 private:
  HotplugMonitor() = default;
  void run();

  UniqueFd inotify_fd_;   // inotify on the virtual-token directory
  UniqueFd devices_fd_;   // inotify on the device nodes
  int devices_top_ = -1;  // its watch of the devices directory itself
  UniqueFd stop_fd_;      // an eventfd: the thread stops when it is written
  struct Udev;
  std::unique_ptr<Udev> udev_;
  std::thread thread_;
};

}  // namespace touchpass::devices
