#include "shmio/reader_table.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "shmio/chain_directory.h"
#include "shmio/format.h"

namespace shmio {
namespace {

// "SHMIORDR" read as a little-endian u64.
constexpr uint64_t kTableMagic = 0x5244524f494d4853ull;
constexpr uint32_t kTableVersion = 1;

enum SlotState : uint32_t { kFree = 0, kNamed = 1, kDropped = 2 };

// Offsets within a slot.
constexpr uint64_t kStateOffset = 0;
constexpr uint64_t kNameLengthOffset = 4;
constexpr uint64_t kNameOffset = 8;
constexpr uint64_t kPidOffset = 72;
constexpr uint64_t kPositionOffset = 80;
constexpr uint64_t kAckedAtOffset = 88;
constexpr uint64_t kDroppedAtOffset = 96;
constexpr uint64_t kResumeAtOffset = 104;

std::atomic_ref<uint32_t> State(uint8_t* slot) {
  return std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(slot + kStateOffset));
}

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// An OFD write lock on [start, start + 1) of `fd`'s file; `wait` blocks.
bool LockByte(int fd, uint64_t start, bool wait) {
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(start);
  lock.l_len = 1;
  while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

void UnlockByte(int fd, uint64_t start) {
  struct flock lock = {};
  lock.l_type = F_UNLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(start);
  lock.l_len = 1;
  (void)fcntl(fd, F_OFD_SETLK, &lock);
}

// The table lock: held for the few stores that change a slot's owner.
class TableLock {
 public:
  explicit TableLock(int fd) : fd_(fd) { locked_ = LockByte(fd_, 0, /*wait=*/true); }
  ~TableLock() {
    if (locked_) UnlockByte(fd_, 0);
  }
  bool locked() const { return locked_; }

 private:
  int fd_;
  bool locked_;
};

absl::Status CheckName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= ReaderTable::kMaxNameLength;
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "reader name \"%s\" is not 1 to %d characters of A-Z a-z 0-9 . _ -",
      absl::CHexEscape(name), ReaderTable::kMaxNameLength));
}

}  // namespace

absl::StatusOr<std::shared_ptr<ReaderTable>> ReaderTable::Open(const std::string& directory,
                                                               uint64_t chain_id, bool create) {
  const std::string path = ChainPath(directory, kReaderTableFileName);
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0644);
  if (fd < 0 && !create && (errno == EACCES || errno == EROFS)) {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);  // listing only
  }
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrFormat("%s: no named reader has opened the chain", path));
    }
    return absl::ErrnoToStatus(errno, absl::StrFormat(
        "cannot open the reader table %s (a named reader needs write access to it)", path));
  }
  const bool writable = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::DataLossError(absl::StrFormat("%s is not a regular file", path));
  }
  if (create && static_cast<uint64_t>(st.st_size) == 0) {
    // A new table: sized and stamped under the table lock, so that two
    // readers making it at once do it once.
    TableLock lock(fd);
    if (fstat(fd, &st) == 0 && st.st_size == 0) {
      uint8_t header[32] = {};
      format::EncodeU64(header, kTableMagic);
      std::memcpy(header + 8, &kTableVersion, 4);
      std::memcpy(header + 12, &kSlots, 4);
      format::EncodeU64(header + 16, chain_id);
      if (ftruncate(fd, static_cast<off_t>(kFileSize)) != 0 ||
          pwrite(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) {
        int err = errno;
        close(fd);
        return absl::ErrnoToStatus(err, absl::StrFormat("cannot make the reader table %s", path));
      }
      st.st_size = static_cast<off_t>(kFileSize);
    }
  }
  if (static_cast<uint64_t>(st.st_size) != kFileSize) {
    close(fd);
    return absl::DataLossError(absl::StrFormat(
        "%s is %d bytes, a reader table is %d: it is damaged or not a reader table; "
        "move it away (named readers then start again from their start option)",
        path, static_cast<int64_t>(st.st_size), kFileSize));
  }
  void* mapped = mmap(nullptr, kFileSize, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) {
    int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrFormat("cannot map the reader table %s", path));
  }
  auto* base = static_cast<uint8_t*>(mapped);
  uint32_t version = 0, slots = 0;
  std::memcpy(&version, base + 8, 4);
  std::memcpy(&slots, base + 12, 4);
  const uint64_t magic = format::DecodeU64(base);
  const uint64_t table_chain = format::DecodeU64(base + 16);
  std::shared_ptr<ReaderTable> table(new ReaderTable(path, fd, base));
  if (magic != kTableMagic || version != kTableVersion || slots != kSlots) {
    return absl::DataLossError(absl::StrFormat(
        "%s is not a reader table of version %d (magic %#x, version %d, %d slots); move it away",
        path, kTableVersion, magic, version, slots));
  }
  if (table_chain != chain_id) {
    return absl::DataLossError(absl::StrFormat(
        "%s belongs to the chain with id %d, not this one (%d); move it away", path,
        table_chain, chain_id));
  }
  return table;
}

ReaderTable::~ReaderTable() {
  munmap(base_, kFileSize);
  close(fd_);
}

absl::StatusOr<bool> ReaderTable::Alive(uint32_t i) const {
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(slot(i) - base_);
  lock.l_len = 1;
  if (fcntl(fd_, F_OFD_GETLK, &lock) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrFormat("cannot test the lock of slot %d of %s", i, path_));
  }
  return lock.l_type != F_UNLCK;
}

absl::StatusOr<NamedReaderInfo> ReaderTable::Read(uint32_t i) const {
  uint8_t* s = slot(i);
  NamedReaderInfo info;
  // Acquire: a slot's name and fields are stored before its state.
  const uint32_t state = State(s).load(std::memory_order_acquire);
  if (state == kFree) return info;
  uint32_t length = 0;
  std::memcpy(&length, s + kNameLengthOffset, 4);
  if (state > kDropped || length == 0 || length > kMaxNameLength) {
    return absl::DataLossError(absl::StrFormat(
        "%s: slot %d is damaged (state %d, name length %d); remove the table to start "
        "every named reader again",
        path_, i, state, length));
  }
  info.name.assign(reinterpret_cast<const char*>(s + kNameOffset), length);
  // Acquire: pairs with the reader's release store, after the ack time.
  info.position = format::AtomicWord(s, kPositionOffset).load(std::memory_order_acquire);
  info.acked_at_ns = format::AtomicWord(s, kAckedAtOffset).load(std::memory_order_relaxed);
  info.pid = format::AtomicWord(s, kPidOffset).load(std::memory_order_relaxed);
  info.dropped = state == kDropped;
  info.dropped_at = format::DecodeU64(s + kDroppedAtOffset);
  info.resume_at = format::DecodeU64(s + kResumeAtOffset);
  absl::StatusOr<bool> alive = Alive(i);
  if (!alive.ok()) return alive.status();
  info.alive = *alive;
  return info;
}

absl::StatusOr<std::vector<NamedReaderInfo>> ReaderTable::List() const {
  std::vector<NamedReaderInfo> readers;
  for (uint32_t i = 0; i < kSlots; ++i) {
    absl::StatusOr<NamedReaderInfo> info = Read(i);
    if (!info.ok()) return info.status();
    if (!info->name.empty()) readers.push_back(*std::move(info));
  }
  return readers;
}

absl::StatusOr<int> ReaderTable::Find(absl::string_view name) const {
  for (uint32_t i = 0; i < kSlots; ++i) {
    absl::StatusOr<NamedReaderInfo> info = Read(i);
    if (!info.ok()) return info.status();
    if (info->name == name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<ReaderSlot>> ReaderTable::Claim(absl::string_view name,
                                                               uint64_t start_position) {
  absl::Status valid = CheckName(name);
  if (!valid.ok()) return valid;
  // A descriptor of the slot's own: its lock is the reader's liveness.
  int lock_fd = open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (lock_fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrFormat(
        "cannot open the reader table %s for writing (a named reader needs write access)", path_));
  }
  TableLock lock(fd_);
  absl::StatusOr<int> found = Find(name);
  if (!found.ok()) {
    close(lock_fd);
    return found.status();
  }
  int index = *found;
  if (index < 0) {
    for (uint32_t i = 0; i < kSlots && index < 0; ++i) {
      if (State(slot(i)).load(std::memory_order_acquire) == kFree) index = static_cast<int>(i);
    }
    if (index < 0) {
      close(lock_fd);
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%s: all %d reader slots are taken; remove readers no longer used with "
          "`shmio readers DIR --remove NAME`",
          path_, kSlots));
    }
  }
  uint8_t* s = slot(static_cast<uint32_t>(index));
  if (!LockByte(lock_fd, static_cast<uint64_t>(s - base_), /*wait=*/false)) {
    const uint64_t pid = format::AtomicWord(s, kPidOffset).load(std::memory_order_relaxed);
    close(lock_fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a reader named \"%s\" is already running (pid %d); two readers may not "
        "share a name",
        path_, name, pid));
  }
  // Relaxed: informational; published by the state's release below or
  // already visible for a slot that exists.
  format::AtomicWord(s, kPidOffset).store(static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
  if (*found < 0) {
    const uint32_t length = static_cast<uint32_t>(name.size());
    std::memcpy(s + kNameLengthOffset, &length, 4);
    std::memset(s + kNameOffset, 0, kMaxNameLength);
    std::memcpy(s + kNameOffset, name.data(), name.size());
    format::AtomicWord(s, kAckedAtOffset).store(NowNs(), std::memory_order_relaxed);
    // Relaxed: published by the release store of the state.
    format::AtomicWord(s, kPositionOffset).store(start_position, std::memory_order_relaxed);
    // Release: the name and position are visible to whoever sees the slot named.
    State(s).store(kNamed, std::memory_order_release);
  }
  return std::unique_ptr<ReaderSlot>(new ReaderSlot(shared_from_this(), static_cast<uint32_t>(index),
                                                    lock_fd, std::string(name)));
}

absl::StatusOr<uint32_t> ReaderTable::FindStopped(absl::string_view name) const {
  absl::StatusOr<int> found = Find(name);
  if (!found.ok()) return found.status();
  if (*found < 0) {
    return absl::NotFoundError(absl::StrFormat("%s: no reader is named \"%s\"", path_, name));
  }
  absl::StatusOr<NamedReaderInfo> info = Read(static_cast<uint32_t>(*found));
  if (!info.ok()) return info.status();
  if (info->alive) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the reader \"%s\" is running (pid %d); stop it first", path_, name, info->pid));
  }
  return static_cast<uint32_t>(*found);
}

absl::Status ReaderTable::Remove(absl::string_view name) {
  TableLock lock(fd_);
  absl::StatusOr<uint32_t> found = FindStopped(name);
  if (!found.ok()) return found.status();
  // Release: a lister that sees the slot free sees nothing of the old name.
  State(slot(*found)).store(kFree, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ReaderTable::Reset(absl::string_view name, uint64_t position) {
  TableLock lock(fd_);
  absl::StatusOr<uint32_t> found = FindStopped(name);
  if (!found.ok()) return found.status();
  uint8_t* s = slot(*found);
  format::AtomicWord(s, kAckedAtOffset).store(NowNs(), std::memory_order_relaxed);
  // Release: after the ack time (the reader is not running: no other writer).
  format::AtomicWord(s, kPositionOffset).store(position, std::memory_order_release);
  // Release: a reset reader is not dropped any more.
  State(s).store(kNamed, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status ReaderTable::Drop(absl::string_view name, uint64_t position, uint64_t resume_at) {
  TableLock lock(fd_);
  absl::StatusOr<int> found = Find(name);
  if (!found.ok()) return found.status();
  if (*found < 0) return absl::OkStatus();  // removed meanwhile: nothing to drop
  uint8_t* s = slot(static_cast<uint32_t>(*found));
  format::EncodeU64(s + kDroppedAtOffset, position);
  format::EncodeU64(s + kResumeAtOffset, resume_at);
  // Release: the reader's acquire load of the state sees both positions.
  State(s).store(kDropped, std::memory_order_release);
  return absl::OkStatus();
}

ReaderSlot::~ReaderSlot() { close(lock_fd_); }  // the kernel drops the lock with it

void ReaderSlot::Ack(uint64_t position) {
  uint8_t* s = table_->slot(index_);
  format::AtomicWord(s, kAckedAtOffset).store(NowNs(), std::memory_order_relaxed);
  // Release: the ack time is visible with the position (the writer and
  // `shmio readers` load it with acquire).
  format::AtomicWord(s, kPositionOffset).store(position, std::memory_order_release);
}

uint64_t ReaderSlot::position() const {
  // Relaxed: this reader is the position's only writer.
  return format::AtomicWord(table_->slot(index_), kPositionOffset).load(std::memory_order_relaxed);
}

bool ReaderSlot::dropped() const {
  // Acquire: pairs with Drop()'s release, after the positions it records.
  return State(table_->slot(index_)).load(std::memory_order_acquire) == kDropped;
}

NamedReaderInfo ReaderSlot::info() const {
  absl::StatusOr<NamedReaderInfo> info = table_->Read(index_);
  return info.ok() ? *info : NamedReaderInfo{};
}

absl::Status ReaderSlot::Resume(uint64_t position) {
  TableLock lock(table_->fd_);
  uint8_t* s = table_->slot(index_);
  Ack(position);
  // Release: after the new position.
  State(s).store(kNamed, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace shmio
