// Test doubles for the touchpass CLI: a console that records what it was given, and the fake
// daemon of tests/support listening on a socket for whole commands.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/console.h"
#include "support/fake_daemon_gtest.h"

namespace touchpass::cli::testing {

using namespace std::chrono_literals;

// A request that needs no key and no secret: `list`.
inline ipc::Request list_request() {
  ipc::Request r;
  r.op = ipc::Op::list;
  return r;
}

class RecordingConsole final : public Console {
 public:
  void out(std::string_view text) override { out_text += text; }
  void err(std::string_view text) override {
    err_text += text;
    ++err_writes;
  }
  void out_secret(std::string_view secret) override {
    out_text += secret;
    ++secrets_written;
  }
  std::optional<bool> confirm(std::string_view question) override {
    questions.emplace_back(question);
    return confirm_answer;
  }

  std::string out_text;
  std::string err_text;
  std::atomic<int> err_writes{0};  // readable from another thread (a fake daemon)
  int secrets_written = 0;
  std::optional<bool> confirm_answer;  // nullopt: "no terminal"
  std::vector<std::string> questions;
};

// Counts the occurrences of `needle` in `haystack`.
inline int occurrences(std::string_view haystack, std::string_view needle) {
  int count = 0;
  for (auto at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

using touchpass::testing::DaemonConnection;
using touchpass::testing::FakeDaemon;
using touchpass::testing::listening_daemon;
using touchpass::testing::Script;

}  // namespace touchpass::cli::testing
