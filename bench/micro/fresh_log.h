// Fresh log files for //bench:micro under /dev/shm: a shmio writer (Pool)
// or the reference writer over a mapping of the same size, optionally
// prefaulted, removed when the object dies. Benchmarks re-create them when
// full, with timing paused, so every timed append lands on a fresh page just
// as in a long-running writer.
#ifndef BENCH_MICRO_FRESH_LOG_H_
#define BENCH_MICRO_FRESH_LOG_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/micro/reference_log.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace bench {

// Returns "/dev/shm/shmio-micro-<pid>-<n>-<tag>.shm", unique per call.
std::string MicroLogPath(const std::string& tag);

// A shmio log with its writer; unlinks the file on destruction.
class FreshShmioLog {
 public:
  static absl::StatusOr<std::unique_ptr<FreshShmioLog>> Create(
      uint64_t capacity, bool prefault);
  ~FreshShmioLog();

  // Starts the log over on the same file: closes the writer, sets
  // `committed` back to the first frame, and reopens (prefaulted as
  // before). The pages stay allocated, so this models a writer whose whole
  // log is resident, without the cost of allocating a new file.
  absl::Status Rewind();

  shmio::Pool& pool() { return *pool_; }
  shmio::SharedMemory& shm() { return *shm_; }
  const std::string& path() const { return path_; }

 private:
  FreshShmioLog() = default;
  absl::Status Open();
  std::string path_;
  uint64_t capacity_ = 0;
  bool prefault_ = false;
  std::unique_ptr<shmio::SharedMemory> shm_;
  std::unique_ptr<shmio::Pool> pool_;
};

// The reference log's mapping: a file of `capacity` bytes mapped shared
// (MAP_POPULATE when prefaulted) with the header words set as shmio would.
class FreshReferenceLog {
 public:
  static absl::StatusOr<std::unique_ptr<FreshReferenceLog>> Create(
      uint64_t capacity, bool prefault);
  ~FreshReferenceLog();

  // Starts over at the first frame; the mapping stays.
  void Rewind() { writer_.position = kRefDataOffset; }

  RefWriter& writer() { return writer_; }
  const uint8_t* data() const { return writer_.base; }

 private:
  FreshReferenceLog() = default;
  std::string path_;
  RefWriter writer_{nullptr, 0, 0};
};

}  // namespace bench

#endif  // BENCH_MICRO_FRESH_LOG_H_
