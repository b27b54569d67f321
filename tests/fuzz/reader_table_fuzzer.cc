// libFuzzer entry point: every input is a chain's readers.shm (see
// reader_table_exerciser.h). Build and run with tests/fuzz/run_fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/reader_table_exerciser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shmio_fuzz::ExerciseReaderTableBytes(data, size);
  return 0;
}
