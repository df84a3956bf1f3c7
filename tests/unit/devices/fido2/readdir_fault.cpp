#include "readdir_fault.h"

#include <dirent.h>
#include <dlfcn.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace {

std::atomic<int> fault_errno{0};          // 0: no fault armed
std::atomic<bool> entry_returned{false};  // an entry was returned since the fault was armed

bool is_dot_entry(const dirent* entry) {
  return std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0;
}

}  // namespace

extern "C" dirent* readdir(DIR* dir) {
  using Readdir = dirent* (*)(DIR*);
  static const auto next = reinterpret_cast<Readdir>(::dlsym(RTLD_NEXT, "readdir"));
  const int error = fault_errno.load();
  if (error != 0 && entry_returned.load()) {
    errno = error;
    return nullptr;
  }
  dirent* entry = next(dir);
  if (error != 0 && entry != nullptr && !is_dot_entry(entry)) entry_returned = true;
  return entry;
}

namespace touchpass::testing {

ReaddirFault::ReaddirFault(int error) {
  entry_returned = false;
  fault_errno = error;
}

ReaddirFault::~ReaddirFault() {
  fault_errno = 0;
  entry_returned = false;
}

}  // namespace touchpass::testing
