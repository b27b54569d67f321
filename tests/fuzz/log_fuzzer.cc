// libFuzzer entry point: every input is a whole log file (see
// log_exerciser.h). Build and run with tests/fuzz/run_fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/log_exerciser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shmio_fuzz::ExerciseLogBytes(data, size);
  return 0;
}
