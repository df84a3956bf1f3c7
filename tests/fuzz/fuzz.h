// Fuzz targets for every parser of untrusted bytes. Each target defines the libFuzzer entry
// point, a few seeds and the largest input it can meet. Built with clang and TOUCHPASS_FUZZ=ON
// they are real libFuzzer fuzzers (libfuzzer_main.cpp); otherwise standalone_main.cpp drives
// them through the seeds and a fixed number of deterministic mutations, as a CTest test (and so
// under ASan+UBSan in CI).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// Inputs that reach deep into the code under test; the fuzzers start from them and the
// standalone driver mutates them. The same bytes in every run (no randomness), so that a
// failure found from them can be reproduced.
std::vector<std::string> fuzz_seeds();

// The largest input the target's code can be given in production (a frame's limits, a file's,
// a token's message size...): libFuzzer's -max_len for this target.
std::size_t fuzz_max_len();
