#include "shmio/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "shmio/fork_guard.h"
#include "shmio/format.h"
#include "shmio/log_file_creation.h"
#include "shmio/pool.h"
#include "shmio/reader_lock.h"
#include "shmio/regular_file.h"
#include "shmio/space_reservation.h"
#include "shmio/writer_lock.h"

namespace shmio {
namespace {

using format::DecodeU32;
using format::DecodeU64;

// How long a writer's Open() re-reads a `committed` outside the file before
// refusing to continue the log (a Node.js writer mid-store settles in
// microseconds unless it is descheduled).
constexpr int kWriterCommittedSettleMs = 200;

// Closes a descriptor on every early return of Open().
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

absl::Status Errno(int err, absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(err, absl::StrFormat("%s %s", what, path));
}

// Bad options are InvalidArgument before anything touches the disk.
absl::Status ValidateOptions(const Options& o) {
  if (o.path.empty()) {
    return absl::InvalidArgumentError("Options.path is empty: name the log file");
  }
  bool has_geometry = o.size != 0 || o.num != 0 || o.overlap != 0;
  if (has_geometry) {
    if (o.size == 0 || o.num == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: size %d and num %d must both be positive (the original's "
          "geometry: num segments of size bytes)",
          o.path, o.size, o.num));
    }
    if (o.overlap >= o.size) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: overlap %d must be smaller than size %d", o.path, o.overlap,
          o.size));
    }
    if (o.size < format::kMinSegmentSize || o.num > format::kMaxSegmentCount) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: size %d and num %d are out of bounds: a segment holds at least "
          "%d bytes (the header and a frame) and a log has at most %d "
          "segments",
          o.path, o.size, o.num, format::kMinSegmentSize,
          format::kMaxSegmentCount));
    }
    if (o.num > std::numeric_limits<uint64_t>::max() / o.size) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: size %d x num %d overflows 64 bits", o.path, o.size, o.num));
    }
    if (o.capacity != 0 && o.capacity != o.size * o.num) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: capacity %d disagrees with size %d x num %d = %d; give one or "
          "the other",
          o.path, o.capacity, o.size, o.num, o.size * o.num));
    }
  }
  uint64_t capacity = has_geometry ? o.size * o.num : o.capacity;
  if (capacity != 0 &&
      capacity < format::kExtendedDataOffset + format::kFrameOverhead) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: capacity %d bytes is too small: the header takes %d bytes and a "
        "frame at least %d",
        o.path, capacity, format::kExtendedDataOffset, format::kFrameOverhead));
  }
  if (capacity > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: capacity %d is larger than a file can be", o.path, capacity));
  }
  return absl::OkStatus();
}

uint64_t RequestedCapacity(const Options& o) {
  return o.size != 0 ? o.size * o.num : o.capacity;
}

// Recycle()'s middle, on `fd` (open on `path`, readers excluded, our
// writer lock held): out of the directory first, so that a reader that
// opens `path` from now on finds nothing, as after an unlink (one that
// opened it just before finds the recycler's lock, NotFound, or once
// readers are let in again a header that is not the one its name promised:
// chain_files.cc checks); then a fresh header (all zero) makes it a new,
// empty log: the frames of its old life, past the `committed` a writer
// stores, are not part of it (docs/format.md).
absl::Status MoveAsideAndClearHeader(int fd, const std::string& path,
                                     const std::string& temp_path) {
  if (rename(path.c_str(), temp_path.c_str()) != 0) {
    return Errno(errno, absl::StrFormat("cannot rename to %s", temp_path), path);
  }
  const uint8_t zero[format::kExtendedDataOffset] = {};
  if (pwrite(fd, zero, sizeof zero, 0) != static_cast<ssize_t>(sizeof zero)) {
    const int err = errno;
    // Back under its name, as it was: the caller unlinks it or keeps it.
    (void)rename(temp_path.c_str(), path.c_str());
    return Errno(err, "cannot clear the header of", temp_path);
  }
  return absl::OkStatus();
}

std::optional<Geometry> RequestedGeometry(const Options& o) {
  if (o.size == 0) return std::nullopt;
  return Geometry{o.size, o.num, o.overlap};
}

// A header is checked against the file before anything trusts it. For a
// reader, a Node writer may be in the middle of storing `committed` one
// byte at a time, so a bad committed value is re-read for a moment before
// it counts as damage.
absl::Status ValidateHeader(const uint8_t* base, uint64_t file_size,
                            const std::string& path, bool writable) {
  // Acquire: pairs with the writer's release store at initialisation, so
  // the other header words are complete once committed is nonzero.
  uint64_t committed =
      format::AtomicWord(base, format::kCommittedOffset).load(std::memory_order_acquire);
  uint64_t header_size = DecodeU64(base + format::kHeaderSizeOffset);
  uint64_t data_offset = DecodeU64(base + format::kDataOffsetOffset);
  if (committed == 0) {
    // Fresh (an empty log) only if the rest of the header is zero too, or is
    // what a writer that initialises it writes before `committed` (so a
    // writer killed mid-initialisation leaves a fresh file). Anything else
    // is some other file, which a writer must not overwrite.
    bool zero = header_size == 0 && data_offset == 0;
    bool ours_half_done =
        header_size == format::kHeaderSize &&
        ((data_offset == format::kExtendedDataOffset && file_size >= data_offset &&
          (DecodeU64(base + format::kMagicOffset) == 0 ||
           DecodeU64(base + format::kMagicOffset) == format::kMagic)) ||
         data_offset == format::kHeaderSize);  // a Node writer's, likewise
    if (zero || ours_half_done) return absl::OkStatus();
    return absl::DataLossError(absl::StrFormat(
        "%s is not a shmio log: committed (offset 16) is 0 but headerSize is "
        "%d and dataOffset %d; a fresh log has all three zero",
        path, header_size, data_offset));
  }
  if (header_size != format::kHeaderSize) {
    return absl::DataLossError(absl::StrFormat(
        "%s is not a shmio log: headerSize at offset 0 is %d, expected %d",
        path, header_size, format::kHeaderSize));
  }
  if (data_offset < format::kHeaderSize || data_offset > file_size) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged: dataOffset at offset 8 is %d, outside [%d, %d] (the "
        "file size)",
        path, data_offset, format::kHeaderSize, file_size));
  }
  if (data_offset != format::kHeaderSize &&
      (data_offset < format::kExtendedDataOffset ||
       DecodeU64(base + format::kMagicOffset) != format::kMagic)) {
    // The Node.js library always puts data at 24; only shmio C++ puts it
    // later, always behind its magic. A file that is neither is refused.
    return absl::DataLossError(absl::StrFormat(
        "%s is not a shmio log: dataOffset is %d but there is no shmio magic "
        "at offset %d (a Node.js log has dataOffset 24; a shmio C++ log has "
        "the magic \"SHMIOC++\")",
        path, data_offset, format::kMagicOffset));
  }
  if (data_offset != format::kHeaderSize) {
    uint32_t version = DecodeU32(base + format::kVersionOffset);
    if (version != format::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s has format version %d; this library reads version %d (upgrade "
          "shmio)",
          path, version, format::kFormatVersion));
    }
  }
  // A reader never trusts `committed`: its Consumer validates every value
  // against the frames and waits out a Node writer that is mid-store (see
  // consumer.h), so a reader may open the log whatever `committed` says now.
  // A writer continues at `committed` and must not start from a bad value.
  if (!writable) return absl::OkStatus();
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(kWriterCommittedSettleMs);
  while (committed < data_offset || committed > file_size) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DataLossError(absl::StrFormat(
          "%s: committed at offset 16 is %d, outside [%d, %d] (dataOffset, "
          "file size), for %d ms, so a writer cannot continue it: the header "
          "is damaged, or a Node.js writer (which stores committed one byte "
          "at a time, and takes no lock) is stopped in the middle of a "
          "commit; stop that writer first",
          path, committed, data_offset, file_size, kWriterCommittedSettleMs));
    }
    std::this_thread::yield();
    // Acquire: as above; a torn value from a running Node writer settles at
    // once.
    committed = format::AtomicWord(base, format::kCommittedOffset)
                    .load(std::memory_order_acquire);
  }
  return absl::OkStatus();
}

// The geometry the extension records, if any.
std::optional<Geometry> GeometryFromExtension(const uint8_t* base) {
  uint64_t size = DecodeU64(base + format::kSegmentSizeOffset);
  uint64_t num = DecodeU64(base + format::kSegmentCountOffset);
  if (size == 0 || num == 0) return std::nullopt;
  return Geometry{size, num, DecodeU64(base + format::kOverlapOffset)};
}

// The extension's geometry and capacity must describe the file as it is: a
// damaged extension must not drive GetBuffers() or the segment rule, and a
// file truncated or extended since creation is not the log it was.
absl::Status ValidateExtension(const uint8_t* base, uint64_t file_size,
                               const std::string& path) {
  uint64_t capacity = DecodeU64(base + format::kCapacityOffset);
  if (capacity != file_size) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged: its extension records a capacity of %d bytes (offset "
        "%d) but the file is %d bytes; was it truncated or extended after "
        "creation?",
        path, capacity, format::kCapacityOffset, file_size));
  }
  uint64_t size = DecodeU64(base + format::kSegmentSizeOffset);
  uint64_t num = DecodeU64(base + format::kSegmentCountOffset);
  uint64_t overlap = DecodeU64(base + format::kOverlapOffset);
  if (size == 0 && num == 0 && overlap == 0) return absl::OkStatus();
  if (size < format::kMinSegmentSize || num == 0 ||
      num > format::kMaxSegmentCount || overlap >= size ||
      num > file_size / size || size * num != file_size) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged: its extension records segment size %d, count %d, "
        "overlap %d (offsets %d, %d, %d), which do not describe a %d-byte "
        "file (segments of %d to the file's size bytes, at most %d of them, "
        "overlap below the segment size, size x count = the file size)",
        path, size, num, overlap, format::kSegmentSizeOffset,
        format::kSegmentCountOffset, format::kOverlapOffset, file_size,
        format::kMinSegmentSize, format::kMaxSegmentCount));
  }
  return absl::OkStatus();
}

// Options given for an existing file must describe it; the error names the
// value given and the value found.
absl::Status CheckOptionsMatch(const Options& o, uint64_t file_size,
                               const std::optional<Geometry>& file_geometry,
                               bool extension) {
  uint64_t requested = RequestedCapacity(o);
  if (requested != 0 && requested != file_size) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is %d bytes but the options ask for %d (size x num or capacity); "
        "open it without a size, or with the size it has",
        o.path, file_size, requested));
  }
  std::optional<Geometry> want = RequestedGeometry(o);
  if (!want || !extension) return absl::OkStatus();
  if (!file_geometry) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s was created with a capacity only (one segment) but the options "
        "give size %d, num %d, overlap %d; open it without a geometry",
        o.path, want->size, want->num, want->overlap));
  }
  if (want->size != file_geometry->size || want->num != file_geometry->num ||
      want->overlap != file_geometry->overlap) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s has size %d, num %d, overlap %d but the options give size %d, "
        "num %d, overlap %d; open it with its own geometry or none",
        o.path, file_geometry->size, file_geometry->num, file_geometry->overlap,
        want->size, want->num, want->overlap));
  }
  return absl::OkStatus();
}

// The smallest file a writer initialises: the header and one empty frame.
constexpr uint64_t kSmallestWritableLog =
    format::kExtendedDataOffset + format::kFrameOverhead;

// What a path that cannot be opened for creation is: a dangling symbolic
// link gets its own words (creating through a link is refused: in a shared
// directory such as /dev/shm a link planted by someone else would redirect
// the write).
absl::Status NotFoundAt(const std::string& path, bool writable) {
  char target[4096];
  ssize_t length = readlink(path.c_str(), target, sizeof target - 1);
  if (length > 0) {
    target[length] = '\0';
    return absl::NotFoundError(absl::StrFormat(
        "%s is a symbolic link to %s, which does not exist; shmio does not "
        "create a log through a link: create it at %s, or remove the link",
        path, target, target));
  }
  if (writable) {
    return absl::NotFoundError(absl::StrFormat(
        "%s disappeared while it was being opened; try again", path));
  }
  return absl::NotFoundError(absl::StrFormat(
      "%s does not exist (a reader never creates a log: start the writer "
      "first, or check the path)",
      path));
}

// Opens `o.path` (never blocking: OpenRegularFile) or, for a writer when it
// is missing, creates it; *created says which. A creator that loses a race
// opens the winner's file, whose lock then decides.
absl::StatusOr<int> OpenOrCreate(const Options& o, bool* created) {
  const int flags = o.writable ? O_RDWR : O_RDONLY;
  const char* what = o.writable ? "cannot open for writing" : "cannot open";
  absl::StatusOr<int> fd = internal::OpenRegularFile(o.path, flags, what);
  if (fd.ok() || !absl::IsNotFound(fd.status())) return fd;
  if (!o.writable) return NotFoundAt(o.path, /*writable=*/false);
  if (RequestedCapacity(o) == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s does not exist and no size was given to create it: set "
        "capacity, or size, num and overlap",
        o.path));
  }
  absl::StatusOr<int> made =
      internal::CreateLogFile(o.path, o.create_mode, RequestedCapacity(o));
  if (made.ok()) {
    *created = true;
    return made;
  }
  if (!absl::IsAlreadyExists(made.status())) return made.status();
  // Something is at the path now: another creator's file, or a link.
  fd = internal::OpenRegularFile(o.path, flags, what);
  if (fd.ok() || !absl::IsNotFound(fd.status())) return fd;
  return NotFoundAt(o.path, /*writable=*/true);
}

}  // namespace

const char* FileFormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kEmpty:
      return "empty";
    case FileFormat::kNode:
      return "node";
    case FileFormat::kShmioV1:
      return "shmio-v1";
  }
  return "unknown";
}

bool DebugFromEnvironment() {
  static const bool debug = [] {
    const char* value = std::getenv("SHMIO_DEBUG");
    return value != nullptr && std::strcmp(value, "true") == 0;
  }();
  return debug;
}

namespace {

// The options a SharedMemory keeps for a mapped file of `file_size` bytes
// with `geometry`: what the file is, whatever was asked.
void SettleOptions(Options* options, uint64_t file_size,
                   const std::optional<Geometry>& geometry) {
  options->capacity = file_size;
  if (geometry) {
    options->size = geometry->size;
    options->num = geometry->num;
    options->overlap = geometry->overlap;
  }
  options->debug_checks = options->debug_checks || DebugFromEnvironment();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::Open(
    Options options) {
  absl::Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid;
  bool created = false;
  absl::StatusOr<int> opened = OpenOrCreate(options, &created);
  if (!opened.ok()) return opened.status();
  return FromDescriptor(std::move(options), *opened, created);
}

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::CreateUnlinked(
    const std::string& directory, Options options) {
  options.writable = true;
  options.path = absl::StrFormat("%s/(a file being prepared)", directory);
  absl::Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid;
  if (RequestedCapacity(options) == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: no size was given to create it: set capacity", options.path));
  }
  absl::StatusOr<internal::UnlinkedFile> file = internal::CreateUnlinkedLogFile(
      directory, options.path, options.create_mode, RequestedCapacity(options));
  if (!file.ok()) return file.status();
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      FromDescriptor(std::move(options), file->fd, /*created=*/true);
  if (!shm.ok()) {
    file->fd = -1;  // FromDescriptor closed it
    internal::DiscardLogFile(*file);
    return shm.status();
  }
  (*shm)->unlinked_temp_path_ = file->temp_path;
  (*shm)->unlinked_ = true;
  return shm;
}

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::Recycle(
    const std::string& path, const std::string& temp_path, Options options) {
  options.writable = true;
  absl::StatusOr<int> opened =
      internal::OpenRegularFile(path, O_RDWR, "cannot open for reuse");
  if (!opened.ok()) return opened.status();
  internal::UnlinkedFile file{*opened, ""};
  auto discard = [&](absl::Status status) {
    internal::DiscardLogFile(file);
    return status;
  };
  absl::Status excluded = internal::ExcludeReaders(file.fd, path);
  if (!excluded.ok()) return discard(excluded);
  struct stat st;
  if (fstat(file.fd, &st) != 0) return discard(Errno(errno, "cannot stat", path));
  if (static_cast<uint64_t>(st.st_size) != RequestedCapacity(options)) {
    return discard(absl::FailedPreconditionError(absl::StrFormat(
        "%s cannot be reused for a new file: it is %d bytes, new files are %d", path,
        st.st_size, RequestedCapacity(options))));
  }
  absl::Status locked = internal::AcquireWriterLock(file.fd, path);
  if (!locked.ok()) return discard(locked);
  absl::Status moved = MoveAsideAndClearHeader(file.fd, path, temp_path);
  if (!moved.ok()) return discard(moved);
  file.temp_path = temp_path;
  internal::AdmitReaders(file.fd);
  options.path = absl::StrFormat("%s (being reused for a new file)", temp_path);
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      FromDescriptor(std::move(options), file.fd, /*created=*/true);
  if (!shm.ok()) {
    file.fd = -1;  // FromDescriptor closed it
    internal::DiscardLogFile(file);
    return shm.status();
  }
  (*shm)->unlinked_temp_path_ = file.temp_path;
  (*shm)->unlinked_ = true;
  return shm;
}

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::RecycleMapped(
    std::unique_ptr<SharedMemory> retired, const std::string& temp_path, Options options) {
  const std::string path = retired->path();
  struct stat linked, mapped;
  if (!retired->writable() || retired->unlinked_ || retired->pool_ != nullptr ||
      retired->forked_from_ != 0 || retired->capacity_ != RequestedCapacity(options) ||
      stat(path.c_str(), &linked) != 0 || fstat(retired->fd_, &mapped) != 0 ||
      linked.st_dev != mapped.st_dev || linked.st_ino != mapped.st_ino) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s cannot be reused in place: it is not a retired file of this writer, still at "
        "its name, of %d bytes",
        path, RequestedCapacity(options)));
  }
  absl::Status excluded = internal::ExcludeReaders(retired->fd_, path);
  if (!excluded.ok()) return excluded;
  // Ours since it was made or continued (an open file description's lock:
  // taking it again changes nothing); checked as Recycle() checks it.
  absl::Status locked = internal::AcquireWriterLock(retired->fd_, path);
  absl::Status moved =
      locked.ok() ? MoveAsideAndClearHeader(retired->fd_, path, temp_path) : locked;
  internal::AdmitReaders(retired->fd_);
  if (!moved.ok()) return moved;
  // Now what FromDescriptor() makes of a fresh file with these options.
  options.writable = true;
  options.path = absl::StrFormat("%s (being reused for a new file)", temp_path);
  const std::optional<Geometry> geometry = RequestedGeometry(options);
  SettleOptions(&options, retired->capacity_, geometry);
  retired->options_ = std::move(options);
  retired->geometry_ = geometry;
  retired->unlinked_temp_path_ = temp_path;
  retired->unlinked_ = true;
  return retired;
}

absl::Status SharedMemory::LinkAt(const std::string& path) {
  if (!unlinked_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is linked already; cannot link it as %s", this->path(), path));
  }
  internal::UnlinkedFile file{fd_, unlinked_temp_path_};
  absl::Status linked = internal::LinkLogFile(file, path);
  unlinked_temp_path_ = file.temp_path;
  if (!linked.ok()) return linked;
  unlinked_ = false;
  options_.path = path;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SharedMemory>> SharedMemory::FromDescriptor(
    Options options, int fd, bool created) {
  const std::string path = options.path;
  FdCloser closer(fd);

  if (!options.writable) {
    // Before the first read of the header: from here on no chain writer
    // may reuse this file's pages while we have it (reader_lock.h).
    absl::Status held = internal::HoldReaderLock(fd, path);
    if (!held.ok()) return held;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return Errno(errno, "cannot stat", path);
  if (options.writable && !created) {
    absl::Status locked = internal::AcquireWriterLock(fd, path);
    if (!locked.ok()) return locked;
    if (st.st_size == 0) {
      // An empty file (e.g. made by `touch`): reserve it like a new one.
      if (RequestedCapacity(options) == 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s is empty and no size was given: set capacity, or size, num "
            "and overlap",
            path));
      }
      absl::Status reserved =
          internal::ReserveSpace(fd, path, RequestedCapacity(options));
      if (!reserved.ok()) return reserved;
      if (fstat(fd, &st) != 0) return Errno(errno, "cannot stat", path);
    }
  }
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < format::kHeaderSize) {
    if (!options.writable) {
      // A writer reserving an empty file in place holds the lock while the
      // file is still shorter than a header (creating a large log takes
      // seconds): that is a log on its way, not a file that is no log.
      absl::StatusOr<std::optional<pid_t>> writer =
          internal::QueryWriterLock(fd, path);
      if (writer.ok() && writer->has_value()) {
        return absl::UnavailableError(absl::StrFormat(
            "%s is being created: its writer (%s) holds the lock and is "
            "reserving its space; try again in a moment (`shmio tail -f` "
            "waits for it)",
            path, **writer == 0 ? std::string("pid unknown")
                                : absl::StrFormat("pid %d", **writer)));
      }
    }
    return absl::DataLossError(absl::StrFormat(
        "%s is not a shmio log: it is %d bytes, shorter than the %d-byte "
        "header",
        path, file_size, format::kHeaderSize));
  }

  int prot = PROT_READ | (options.writable ? PROT_WRITE : 0);
  int flags = MAP_SHARED | (options.prefault ? MAP_POPULATE : 0);
  void* mapped = mmap(nullptr, file_size, prot, flags, fd, 0);
  if (mapped == MAP_FAILED) {
    return Errno(errno, absl::StrFormat("cannot map %d bytes of", file_size), path);
  }
  auto* base = static_cast<uint8_t*>(mapped);
  auto unmap_on_error = [&](absl::Status status) {
    munmap(base, file_size);
    return status;
  };
#ifdef MADV_POPULATE_WRITE
  if (options.prefault && options.writable) {
    // MAP_POPULATE maps shared pages read-only; fault them writable too, so
    // the writer's first store to each page costs nothing. Best effort
    // (Linux >= 5.14).
    (void)madvise(base, file_size, MADV_POPULATE_WRITE);
  }
#endif

  absl::Status header = ValidateHeader(base, file_size, path, options.writable);
  if (!header.ok()) return unmap_on_error(header);
  bool extension = format::HasExtension(base, file_size);
  if (extension) {
    absl::Status valid_extension = ValidateExtension(base, file_size, path);
    if (!valid_extension.ok()) return unmap_on_error(valid_extension);
  }
  std::optional<Geometry> file_geometry =
      extension ? GeometryFromExtension(base) : std::nullopt;
  absl::Status match =
      CheckOptionsMatch(options, file_size, file_geometry, extension);
  if (!match.ok()) return unmap_on_error(match);

  // Acquire: as in ValidateHeader.
  bool fresh = format::AtomicWord(base, format::kCommittedOffset)
                   .load(std::memory_order_acquire) == 0;
  std::optional<Geometry> geometry =
      extension ? file_geometry : RequestedGeometry(options);
  if (options.writable && !fresh && !extension && !geometry &&
      options.capacity == 0) {
    // A Node.js file records no geometry. The original (0.3) reads it
    // through segments whose geometry only its creator knew; the 1.x
    // library maps it whole, which a capacity (one segment) describes.
    return unmap_on_error(absl::FailedPreconditionError(absl::StrFormat(
        "%s was written by the Node.js shmio library (no extension block), "
        "so writing to it needs the shape its Node readers expect: give the "
        "size, num and overlap it was created with (the 0.3 library's "
        "geometry), or capacity = its size, %d bytes, for a file of the 1.x "
        "library (one mapping, one segment)",
        path, file_size)));
  }
  if (options.writable && fresh && file_size < kSmallestWritableLog) {
    // Initialising would write a header past the end of the file.
    return unmap_on_error(absl::FailedPreconditionError(absl::StrFormat(
        "%s is %d bytes and empty (all zero): too small for a log, which "
        "needs at least %d bytes (the %d-byte header and one frame); remove "
        "it, or make it larger before writing",
        path, file_size, kSmallestWritableLog, format::kExtendedDataOffset)));
  }

  SettleOptions(&options, file_size, geometry);
  return std::unique_ptr<SharedMemory>(new SharedMemory(
      std::move(options), closer.Release(), base, file_size, geometry));
}

SharedMemory::SharedMemory(Options options, int fd, uint8_t* base,
                           uint64_t capacity, std::optional<Geometry> geometry)
    : options_(std::move(options)),
      fd_(fd),
      base_(base),
      capacity_(capacity),
      geometry_(geometry) {
  if (options_.writable) internal::RegisterWriterForFork(this);
}

SharedMemory::~SharedMemory() {
  if (options_.writable) internal::UnregisterWriterForFork(this);
  if (!unlinked_temp_path_.empty()) unlink(unlinked_temp_path_.c_str());
  munmap(base_, capacity_);
  // Drops the writer lock, if we held it: the mapping's hold on the open
  // file description went with munmap, this is the last one.
  if (fd_ >= 0) close(fd_);
}

void SharedMemory::DetachAfterFork() {
  forked_from_ = getppid();
  if (pool_ != nullptr) pool_->DetachAfterFork(forked_from_);
  // Both the mapping and the descriptor hold the parent's open file
  // description, which holds the writer lock; swap each for one of a new,
  // read-only open file description of the same file.
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd_);
  int read_only = open(self, O_RDONLY | O_CLOEXEC);
  if (read_only >= 0 &&
      mmap(base_, capacity_, PROT_READ, MAP_SHARED | MAP_FIXED, read_only, 0) !=
          MAP_FAILED &&
      dup3(read_only, fd_, O_CLOEXEC) >= 0) {
    close(read_only);
    return;
  }
  // Out of descriptors or memory: give up reading rather than the lock.
  if (read_only >= 0) close(read_only);
  mmap(base_, capacity_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  close(fd_);
  fd_ = -1;
}

HeaderSnapshot SharedMemory::ReadHeader() const {
  HeaderSnapshot h;
  h.committed = LoadCommitted();
  if (h.committed == 0) return h;  // fresh or being initialised: empty
  h.header_size = DecodeU64(base_ + format::kHeaderSizeOffset);
  h.data_offset = DecodeU64(base_ + format::kDataOffsetOffset);
  if (format::HasExtension(base_, capacity_)) {
    h.format = FileFormat::kShmioV1;
    h.geometry = GeometryFromExtension(base_);
    if (DecodeU32(base_ + format::kFlagsOffset) & format::kFlagChainFile) {
      h.chain = ChainFileInfo{DecodeU64(base_ + format::kFileSequenceOffset),
                              DecodeU64(base_ + format::kBasePositionOffset),
                              DecodeU64(base_ + format::kChainIdOffset)};
    }
    // Relaxed: informational, rewritten by each writer at open.
    h.writer_pid = format::AtomicWord(base_, format::kWriterPidOffset)
                       .load(std::memory_order_relaxed);
  } else {
    h.format = FileFormat::kNode;
  }
  return h;
}

std::vector<absl::Span<const uint8_t>> SharedMemory::GetBuffers() const {
  std::vector<absl::Span<const uint8_t>> buffers;
  if (!geometry_) {
    buffers.emplace_back(base_, capacity_);
    return buffers;
  }
  for (uint64_t k = 0; k < geometry_->num; ++k) {
    uint64_t start = k * geometry_->size;
    uint64_t end = (k + 1 == geometry_->num)
                       ? capacity_
                       : std::min(capacity_, start + geometry_->size + geometry_->overlap);
    buffers.emplace_back(base_ + start, end - start);
  }
  return buffers;
}

absl::Status SharedMemory::Flush() const {
  if (msync(base_, capacity_, MS_SYNC) != 0) {
    return Errno(errno, "msync failed for", path());
  }
  if (fdatasync(fd_) != 0) return Errno(errno, "fdatasync failed for", path());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<pid_t>> SharedMemory::CurrentWriterPid() const {
  return internal::QueryWriterLock(fd_, path());
}

absl::StatusOr<std::optional<pid_t>> SharedMemory::WriterPid(
    const std::string& path) {
  absl::StatusOr<int> fd =
      internal::OpenRegularFile(path, O_RDONLY, "cannot open");
  if (!fd.ok()) return fd.status();
  FdCloser closer(*fd);
  return internal::QueryWriterLock(*fd, path);
}

}  // namespace shmio
