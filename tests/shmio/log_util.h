// Shortcuts over the public //shmio API used by several behaviour tests:
// open a writer (SharedMemory + Pool) or a reader, and read every committed
// payload through a Consumer. Failures are reported as gtest failures.
#ifndef TESTS_SHMIO_LOG_UTIL_H_
#define TESTS_SHMIO_LOG_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace shmio_test {

// A writable log and its one writer. The Pool writes through the
// SharedMemory, so it must always go first: Close(), the destructor and
// move assignment release the Pool before the SharedMemory.
struct Writer {
  Writer() = default;
  Writer(Writer&&) = default;
  Writer& operator=(Writer&& other) {
    Close();
    shm = std::move(other.shm);
    pool = std::move(other.pool);
    return *this;
  }
  ~Writer() { Close(); }

  // Releases the writer (and its lock), then the mapping.
  void Close() {
    pool.reset();
    shm.reset();
  }

  std::unique_ptr<shmio::SharedMemory> shm;
  std::unique_ptr<shmio::Pool> pool;
};

// Opens `options` writable (forcing writable = true) and creates its Pool.
absl::StatusOr<Writer> OpenWriter(shmio::Options options);

// Opens `path` read-only with default options.
absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> OpenReader(
    const std::string& path);

// A committed frame copied out of the mapping.
struct CopiedFrame {
  uint64_t offset = 0;
  std::vector<uint8_t> payload;
};

// Reads every committed frame with a fresh Consumer (from the first frame to
// the committed value), adding a gtest failure on any error.
std::vector<CopiedFrame> ReadCommittedFrames(const shmio::SharedMemory& shm);

// Same, payloads only.
std::vector<std::vector<uint8_t>> ReadCommittedPayloads(
    const shmio::SharedMemory& shm);

}  // namespace shmio_test

#endif  // TESTS_SHMIO_LOG_UTIL_H_
