// Fuzz targets for every parser of untrusted bytes. Each target defines the libFuzzer entry
// point and a few seeds. Built with clang and TOUCHPASS_FUZZ=ON they are real libFuzzer
// fuzzers; otherwise standalone_main.cpp drives them through the seeds and a fixed number of
// deterministic mutations, as a CTest test (and so under ASan+UBSan in CI).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// Inputs that reach deep into the parser; the standalone driver mutates them.
std::vector<std::string> fuzz_seeds();
