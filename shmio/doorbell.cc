#include "shmio/doorbell.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "shmio/regular_file.h"

namespace shmio {
namespace {

// The doorbell line lies in the file's first page.
constexpr size_t kDoorbellPageBytes = 4096;
static_assert(format::kDoorbellRingsOffset + 8 <= kDoorbellPageBytes);

// membarrier(2) has no glibc wrapper. Linux-only: a port replaces these
// two functions (and keeps the writer's seq_cst fence).
long Membarrier(int command) { return syscall(SYS_membarrier, command, 0, 0); }

// True when this kernel lets us use the expedited global membarrier.
bool MembarrierSupported() {
  static const bool supported = [] {
    long commands = Membarrier(MEMBARRIER_CMD_QUERY);
    return commands > 0 && (commands & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
           (commands & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
  }();
  return supported;
}

}  // namespace

bool RegisterWriterForDoorbell() {
  static const bool registered =
      MembarrierSupported() &&
      Membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
  return registered;
}

absl::StatusOr<std::unique_ptr<Doorbell>> Doorbell::Open(const std::string& path) {
  return OpenAs(path, path);
}

absl::StatusOr<std::unique_ptr<Doorbell>> Doorbell::Open(const SharedMemory& shm) {
  return OpenAs(absl::StrFormat("/proc/self/fd/%d", shm.fd()), shm.path());
}

absl::StatusOr<std::unique_ptr<Doorbell>> Doorbell::OpenAs(
    const std::string& open_path, const std::string& path) {
  int err = 0;
  absl::StatusOr<int> opened =
      internal::OpenRegularFile(open_path, O_RDWR, "cannot open", &err);
  if (!opened.ok()) {
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrFormat("%s does not exist", path));
    }
    if (err == EACCES || err == EPERM || err == EROFS) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "cannot arm the doorbell of %s: arming writes a flag into the "
          "file, and this process may not write to it",
          path));
    }
    return opened.status();
  }
  const int fd = *opened;
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) < kDoorbellPageBytes) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is too small to have a doorbell (%d bytes); watch it with a timer",
        path, static_cast<int64_t>(st.st_size)));
  }
  void* mapped = mmap(nullptr, kDoorbellPageBytes, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd, 0);
  int map_errno = errno;
  close(fd);  // the mapping keeps the file
  if (mapped == MAP_FAILED) {
    return absl::ErrnoToStatus(
        map_errno, absl::StrFormat("cannot map the doorbell page of %s", path));
  }
  auto* page = static_cast<uint8_t*>(mapped);
  if (!format::HasExtension(page, kDoorbellPageBytes)) {
    // Acquire: as in HasExtension, to say which case this is.
    uint64_t committed = format::AtomicWord(page, format::kCommittedOffset)
                             .load(std::memory_order_acquire);
    munmap(page, kDoorbellPageBytes);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s has no doorbell: it %s", path,
        committed == 0 ? "has not been initialised by a writer yet"
                       : "was written by the Node.js library, which never rings"));
  }
  return std::unique_ptr<Doorbell>(new Doorbell(path, page));
}

Doorbell::Doorbell(std::string path, uint8_t* page)
    : path_(std::move(path)), page_(page) {}

Doorbell::~Doorbell() { munmap(page_, kDoorbellPageBytes); }

uint64_t Doorbell::ArmAndLoadCommitted() {
  // Relaxed: the fence below orders this store before the load of
  // `committed`; the writer's fence pairs with it (see the protocol).
  format::AtomicWord(page_, format::kDoorbellArmedOffset)
      .store(1, std::memory_order_relaxed);
  // seq_cst fence: store `armed`, then load `committed` (store-load order)
  // on this CPU, for writers that kept their own fence.
  StoreLoadFence();
  // A full barrier on every CPU running a registered writer, standing in
  // for the fence those writers left out of Commit() (see the protocol).
  if (MembarrierSupported()) (void)Membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
  // Acquire: frames below the value are visible once we read it.
  return format::AtomicWord(page_, format::kCommittedOffset)
      .load(std::memory_order_acquire);
}

void RingDoorbell(int fd, uint64_t ring_number) {
  uint8_t bytes[8];
  format::EncodeU64(bytes, ring_number);
  // The write itself is the point: it raises IN_MODIFY. Retry on a signal.
  while (pwrite(fd, bytes, sizeof bytes, format::kDoorbellRingsOffset) < 0 &&
         errno == EINTR) {
  }
}

}  // namespace shmio
