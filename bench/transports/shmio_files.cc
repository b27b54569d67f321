#include "bench/transports/shmio_files.h"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace bench {

std::string UniqueLogPath(const std::string& dir, const std::string& tag) {
  static std::atomic<int> counter{0};
  // Relaxed: only uniqueness within this process matters.
  const int n = counter.fetch_add(1, std::memory_order_relaxed);
  return absl::StrFormat("%s/shmio-bench-%d-%d-%s.shm", dir, getpid(), n, tag);
}

uint64_t LogCapacityFor(uint64_t messages, size_t payload_bytes) {
  const uint64_t bytes = shmio::format::kExtendedDataOffset +
                         messages * (payload_bytes + shmio::format::kFrameOverhead);
  const uint64_t page = 4096;
  return (bytes + page - 1) / page * page + page;
}

absl::Status CreateEmptyLog(const std::string& path, uint64_t capacity) {
  shmio::Options options;
  options.path = path;
  options.capacity = capacity;
  options.writable = true;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  // Creating the Pool initialises the header; destroying both releases the
  // writer lock for the process that will write.
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool =
      shmio::Pool::Create(shm->get());
  return pool.status();
}

absl::StatusOr<LogWriter> OpenLogWriter(const std::string& path) {
  shmio::Options options;
  options.path = path;
  options.writable = true;
  options.prefault = true;
  LogWriter writer;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  writer.shm = *std::move(shm);
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool =
      shmio::Pool::Create(writer.shm.get());
  if (!pool.ok()) return pool.status();
  writer.pool = *std::move(pool);
  return writer;
}

absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> OpenLogReader(
    const std::string& path) {
  shmio::Options options;
  options.path = path;
  options.prefault = true;
  return shmio::SharedMemory::Open(options);
}

}  // namespace bench
