// Log files for the shmio transports: unique paths under /dev/shm, created
// and initialised in the parent before fork, removed afterwards.
#ifndef BENCH_TRANSPORTS_SHMIO_FILES_H_
#define BENCH_TRANSPORTS_SHMIO_FILES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace bench {

// Returns a fresh path "<dir>/shmio-bench-<pid>-<counter>-<tag>.shm".
std::string UniqueLogPath(const std::string& dir, const std::string& tag);

// Bytes a log needs for `messages` frames of `payload_bytes`: the extended
// header, the frames, rounded up to whole pages.
uint64_t LogCapacityFor(uint64_t messages, size_t payload_bytes);

// Creates the log file at `path` with `capacity` bytes and an initialised
// header, then closes it (so another process can become its writer).
absl::Status CreateEmptyLog(const std::string& path, uint64_t capacity);

// A writer: the mapping and its Pool.
struct LogWriter {
  std::unique_ptr<shmio::SharedMemory> shm;
  std::unique_ptr<shmio::Pool> pool;
};

// Opens `path` (created by CreateEmptyLog) as its writer, prefaulted.
absl::StatusOr<LogWriter> OpenLogWriter(const std::string& path);

// Opens `path` read-only, prefaulted.
absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> OpenLogReader(
    const std::string& path);

}  // namespace bench

#endif  // BENCH_TRANSPORTS_SHMIO_FILES_H_
