// touchpass-paging-bench: how the time to split a large answer into frames (ipc/paging.h) grows
// with the answer: audit logs of 10,000 entries (the baseline) up to 160,000, each entry about
// 300 bytes as `touchpass log` sends them. Linear splitting keeps the time per entry level; the
// ratio column is the time per entry against the baseline's. Run by hand; the figures go into
// the notes.
//
//   touchpass-paging-bench
#include <chrono>
#include <cstdio>
#include <string>

#include "ipc/paging.h"

namespace {

using Clock = std::chrono::steady_clock;

touchpass::ipc::Json audit_answer(int entries) {
  touchpass::ipc::Json list = touchpass::ipc::Json::array();
  for (int i = 0; i < entries; ++i) {
    list.push_back({{"seq", i + 1},
                    {"time", 1764000000 + i},
                    {"actor", "alice"},
                    {"action", "refuse"},
                    {"user", "alice"},
                    {"object", "mail"},
                    {"result", "not_found"},
                    {"detail", std::string(120, 'd')},
                    {"hash", std::string(64, 'a')}});
  }
  return {{"entries", std::move(list)}};
}

}  // namespace

int main() {
  constexpr int kBaseline = 10000;
  double baseline_per_entry = 0;
  std::printf("%10s %10s %12s %14s %8s\n", "entries", "messages", "seconds", "us per entry",
              "ratio");
  for (int entries = kBaseline; entries <= 16 * kBaseline; entries *= 2) {
    touchpass::ipc::Json answer = audit_answer(entries);
    const auto start = Clock::now();
    auto messages = touchpass::ipc::paged_ok_messages(std::move(answer));
    const std::chrono::duration<double> took = Clock::now() - start;
    if (!messages.ok()) {
      std::fprintf(stderr, "paging failed: %s\n", messages.error().message.c_str());
      return 1;
    }
    const double per_entry = took.count() * 1e6 / entries;
    if (entries == kBaseline) baseline_per_entry = per_entry;
    std::printf("%10d %10zu %12.3f %14.3f %8.2f\n", entries, messages->size(), took.count(),
                per_entry, per_entry / baseline_per_entry);
  }
  return 0;
}
