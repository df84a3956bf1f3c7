// Fault injection for directory scans: while a ReaddirFault is alive, readdir(3) (which
// std::filesystem::directory_iterator uses) returns one entry other than "." and "..", then fails
// with the given errno. Works because this test program defines readdir itself and forwards to
// the C library's when no fault is armed. Not thread-safe: arm it only while no other thread
// reads a directory.
#pragma once

namespace touchpass::testing {

class ReaddirFault {
 public:
  explicit ReaddirFault(int error);
  ~ReaddirFault();
  ReaddirFault(const ReaddirFault&) = delete;
  ReaddirFault& operator=(const ReaddirFault&) = delete;
};

}  // namespace touchpass::testing
