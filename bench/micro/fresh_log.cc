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
  log->capacity_ = capacity;
  log->prefault_ = prefault;
  absl::Status status = log->Open();
  if (!status.ok()) return status;
  return log;
}

absl::Status FreshShmioLog::Open() {
  shmio::Options options;
  options.path = path_;
  options.capacity = capacity_;
  options.writable = true;
  options.prefault = prefault_;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  shm_ = *std::move(shm);
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm_.get());
  if (!pool.ok()) return pool.status();
  pool_ = *std::move(pool);
  return absl::OkStatus();
}

absl::Status FreshShmioLog::Rewind() {
  const uint64_t first_frame = shm_->ReadHeader().data_offset;
  pool_.reset();
  shm_.reset();
  // No writer holds the file now; a new one continues at `committed`.
  const int fd = open(path_.c_str(), O_WRONLY);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path_));
  const ssize_t written = pwrite(fd, &first_frame, sizeof first_frame, 16);
  const int error = errno;
  close(fd);
  if (written != sizeof first_frame) {
    return absl::ErrnoToStatus(error, absl::StrCat("pwrite of committed to ", path_));
  }
  return Open();
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
  // Reserved like shmio reserves a new log (posix_fallocate), so both pay
  // the same kind of page fault when not prefaulted.
  const int reserve = posix_fallocate(fd, 0, static_cast<off_t>(capacity));
  if (reserve != 0) {
    close(fd);
    return absl::ErrnoToStatus(
        reserve, absl::StrFormat("posix_fallocate %s to %d bytes", log->path_, capacity));
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
  // As shmio does: MAP_POPULATE maps shared pages read-only, so fault them
  // writable too (Linux 5.14+; ignored where unsupported).
  if (prefault) (void)madvise(base, capacity, MADV_POPULATE_WRITE);
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
