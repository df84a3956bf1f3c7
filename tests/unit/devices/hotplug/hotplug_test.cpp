#include "devices/hotplug/hotplug.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/fd.h"

namespace touchpass::devices {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(FakeHotplug, WaitReturnsOnATriggerOrTheTimeout) {
  FakeHotplug hotplug;
  const std::uint64_t start = hotplug.generation();
  EXPECT_EQ(hotplug.wait(start, 10ms), start);  // nothing happened
  std::thread trigger([&] {
    std::this_thread::sleep_for(50ms);
    hotplug.trigger();
  });
  EXPECT_EQ(hotplug.wait(start, 10s), start + 1);
  trigger.join();
  // A change that happened before the wait began is not missed.
  hotplug.trigger();
  EXPECT_EQ(hotplug.wait(start + 1, 10ms), start + 2);
}

TEST(HotplugMonitor, ASocketAppearingOrVanishingInTheDirectoryIsAChange) {
  const fs::path dir =
      fs::temp_directory_path() / ("touchpass-hotplug-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto monitor = HotplugMonitor::start(dir, /*udev=*/false);
  ASSERT_TRUE(monitor.ok()) << monitor.error().message;
  const std::uint64_t before = (*monitor)->generation();

  const fs::path path = dir / "token0";
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::uint64_t appeared = (*monitor)->wait(before, 10s);
  EXPECT_NE(appeared, before);

  fd.reset();
  fs::remove(path);
  std::uint64_t vanished = appeared;
  // Events may come in more than one batch; wait until the removal has been seen.
  for (int i = 0; i < 5 && vanished == appeared; ++i) vanished = (*monitor)->wait(appeared, 2s);
  EXPECT_NE(vanished, appeared);
  monitor->reset();  // stops its thread promptly
  fs::remove_all(dir);
}

TEST(HotplugMonitor, AHidrawNodeOrAUsbDeviceNodeIsAChangeOtherNodesAreNot) {
  const fs::path dev =
      fs::temp_directory_path() / ("touchpass-hotplug-dev-" + std::to_string(getpid()));
  fs::create_directories(dev / "bus" / "usb" / "001");
  auto monitor = HotplugMonitor::start("", /*udev=*/false, dev);
  ASSERT_TRUE(monitor.ok()) << monitor.error().message;
  const std::uint64_t before = (*monitor)->generation();
  std::ofstream(dev / "tty7") << "";
  EXPECT_EQ((*monitor)->wait(before, 300ms), before);  // not a token's node
  std::ofstream(dev / "hidraw3") << "";
  const std::uint64_t hidraw = (*monitor)->wait(before, 10s);
  EXPECT_NE(hidraw, before);
  std::ofstream(dev / "bus" / "usb" / "001" / "005") << "";  // libusb's node of a YubiKey
  EXPECT_NE((*monitor)->wait(hidraw, 10s), hidraw);
  monitor->reset();
  fs::remove_all(dev);
}

TEST(HotplugMonitor, AMissingDirectoryIsAClearError) {
  auto monitor = HotplugMonitor::start("/nonexistent/touchpass/virtual", false);
  ASSERT_FALSE(monitor.ok());
  EXPECT_NE(monitor.error().message.find("/nonexistent/touchpass/virtual"), std::string::npos);
}

TEST(HotplugMonitor, TheUdevMonitorStartsAndStops) {
  auto monitor = HotplugMonitor::start("", /*udev=*/true);
  ASSERT_TRUE(monitor.ok()) << monitor.error().message;
}

}  // namespace
}  // namespace touchpass::devices
