#include "bench/micro/fresh_log.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <utility>

#include "absl/strings/str_format.h"

namespace bench {

std::string MicroLogPath(const std::string& tag) {
  static std::atomic<int> counter{0};
  // Relaxed: only uniqueness within this process matters.
  const int n = counter.fetch_add(1, std::memory_order_relaxed);
  return absl::StrFormat("/dev/shm/shmio-micro-%d-%d-%s.shm", getpid(), n, tag);
}

absl::StatusOr<std::unique_ptr<FreshShmioLog>> FreshShmioLog::Create(
    uint64_t capacity, bool prefault) {
  std::unique_ptr<FreshShmioLog> log(new FreshShmioLog());
  log->path_ = MicroLogPath("shmio");
  shmio::Options options;
  options.path = log->path_;
  options.capacity = capacity;
  options.writable = true;
  options.prefault = prefault;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  log->shm_ = *std::move(shm);
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool =
      shmio::Pool::Create(log->shm_.get());
  if (!pool.ok()) return pool.status();
  log->pool_ = *std::move(pool);
  return log;
}

FreshShmioLog::~FreshShmioLog() {
  pool_.reset();
  shm_.reset();
  if (!path_.empty()) unlink(path_.c_str());
}

absl::StatusOr<std::unique_ptr<FreshReferenceLog>> FreshReferenceLog::Create(
    uint64_t capacity, bool prefault) {
  std::unique_ptr<FreshReferenceLog> log(new FreshReferenceLog());
  log->path_ = MicroLogPath("reference");
  const int fd = open(log->path_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", log->path_));
  }
  if (ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    const int error = errno;
    close(fd);
    return absl::ErrnoToStatus(
        error, absl::StrFormat("ftruncate %s to %d bytes", log->path_, capacity));
  }
  void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                 MAP_SHARED | (prefault ? MAP_POPULATE : 0), fd, 0);
  const int error = errno;
  close(fd);
  if (p == MAP_FAILED) {
    return absl::ErrnoToStatus(
        error, absl::StrFormat("mmap %d bytes of %s", capacity, log->path_));
  }
  uint8_t* base = static_cast<uint8_t*>(p);
  const uint64_t header[3] = {24, kRefDataOffset, kRefDataOffset};
  std::memcpy(base, header, sizeof header);
  log->writer_ = RefWriter{base, capacity, kRefDataOffset};
  return log;
}

FreshReferenceLog::~FreshReferenceLog() {
  if (writer_.base != nullptr) munmap(writer_.base, writer_.capacity);
  if (!path_.empty()) unlink(path_.c_str());
}

}  // namespace bench
