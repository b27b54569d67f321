// What the fuzzers' bodies share: the broken-promise check, and writing an
// input to a scratch file.
#ifndef TESTS_FUZZ_FUZZ_SUPPORT_H_
#define TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_format.h"

// A broken promise: say what and where, then abort so the fuzzer keeps the
// input (and the regression test fails).
#define EXPECT_PROMISE(condition, ...)                                     \
  do {                                                                     \
    if (!(condition)) {                                                    \
      std::fprintf(stderr, "shmio broke a promise: %s: %s\n", #condition,  \
                   absl::StrFormat(__VA_ARGS__).c_str());                  \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

namespace shmio_fuzz {

// Writes `size` bytes to `path` (created or truncated); aborts on failure:
// the scratch directory is the fuzzer's, not the input's.
void WriteFile(const std::string& path, const uint8_t* data, size_t size);

}  // namespace shmio_fuzz

#endif  // TESTS_FUZZ_FUZZ_SUPPORT_H_
