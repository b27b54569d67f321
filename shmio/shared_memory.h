// SharedMemory: a log file mapped into this process, opened read-only (any
// number of readers) or writable (the one writer, enforced by a file lock).
//
// Thread safety: a SharedMemory is immutable after Open() and may be shared
// by threads; the objects reading or writing through it (Consumer, Pool) have
// their own rules.
//
// Invariants: the mapping covers the whole file (capacity() bytes) and lives
// as long as the SharedMemory; spans handed out by readers point into it.
// A read-only SharedMemory never writes to the file, not even to a header it
// dislikes. A writable one holds the writer lock until it is destroyed.
#ifndef SHMIO_SHARED_MEMORY_H_
#define SHMIO_SHARED_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "shmio/format.h"

namespace shmio {

class Pool;

// The original's options, plus the capacity-only form.
//
// Creating (writable, file missing or empty) needs a size: either `capacity`
// (file bytes, one segment), or the original's geometry `size`, `num`,
// `overlap` (file bytes = size * num). Opening an existing file needs
// neither; any size given must match the file, or Open() names both values.
struct Options {
  std::string path;

  // Capacity-only form: the file's size in bytes. 0 = not given.
  uint64_t capacity = 0;

  // The original's geometry: `num` segments of `size` bytes, read through
  // views of size + overlap bytes. 0 = not given.
  uint64_t size = 0;
  uint64_t num = 0;
  uint64_t overlap = 0;

  // true: the one writer; creates the file if missing (a size is needed).
  // false: a reader; never creates, never writes.
  bool writable = false;

  // Populates the whole mapping at Open() so the first touch of each page
  // does not fault later (latency-sensitive users). Costs Open() time and
  // resident memory.
  bool prefault = false;

  // Adds the leading == trailing check to every reader and the writer's
  // check of the previous frame; failures are DataLoss with "[DEBUG]".
  // SHMIO_DEBUG=true in the environment turns this on too.
  bool debug_checks = false;

  // Permission bits for a file this call creates, minus the process's
  // umask. 0644: the owner writes, every local user may read (as a file
  // made by the original Node.js library). A reader in inotify mode also
  // needs write access, to arm the doorbell (see README "Security").
  mode_t create_mode = 0644;
};

// Which of the layouts a file has.
enum class FileFormat {
  kEmpty,    // all-zero header: no writer has initialised it yet
  kNode,     // written by the original: data at 24, no extension
  kShmioV1,  // created by shmio C++: extension block, magic, version 1
};

const char* FileFormatName(FileFormat format);  // "empty", "node", "shmio-v1"

// A geometry in force: segments of `size` bytes, `num` of them, `overlap`.
struct Geometry {
  uint64_t size = 0;
  uint64_t num = 0;
  uint64_t overlap = 0;
};

// Where a file of a chain belongs (format.h, "Chains of files").
struct ChainFileInfo {
  uint64_t sequence = 0;       // index in the chain; the first file is 0
  uint64_t base_position = 0;  // the chain position of its first frame
  uint64_t chain_id = 0;       // shared by every file of one chain
};

// A consistent reading of the 24-byte header (and extension, if any).
struct HeaderSnapshot {
  FileFormat format = FileFormat::kEmpty;
  uint64_t header_size = 0;
  uint64_t data_offset = 0;
  uint64_t committed = 0;          // as loaded (acquire); may be torn (Node)
  std::optional<Geometry> geometry;  // from the extension, if present
  uint64_t writer_pid = 0;         // from the extension; 0 = unknown
  std::optional<ChainFileInfo> chain;  // for a file of a chain
};

class SharedMemory {
 public:
  // Opens (and, when writable and missing, creates) the log at
  // options.path. Errors: InvalidArgument for bad options (nothing touched
  // on disk), NotFound for a missing file opened read-only, DataLoss for a
  // file whose header is damaged, FailedPrecondition for a size mismatch or
  // a second writer, ResourceExhausted when the space cannot be reserved.
  static absl::StatusOr<std::unique_ptr<SharedMemory>> Open(Options options);

  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  const std::string& path() const { return options_.path; }
  bool writable() const { return options_.writable; }
  bool debug_checks() const { return options_.debug_checks; }

  // The options in force (the original's getConfig()): those given, with
  // size/num/overlap/capacity filled in from the file.
  const Options& config() const { return options_; }

  // The file's size in bytes; the mapping covers all of it.
  uint64_t capacity() const { return capacity_; }

  // The geometry in force: from the options or the extension. Absent for a
  // capacity-only log (one segment, no segment rule).
  const std::optional<Geometry>& geometry() const { return geometry_; }

  // Reads the header now. committed is loaded with acquire, so every byte
  // below it is visible once the value is known to be genuine (see
  // Consumer for why a Node writer's value may not be).
  HeaderSnapshot ReadHeader() const;

  // Loads the extension's sealed_end (format.h, "Sealing") with acquire
  // ordering: 0 while a writer may still append to this file of a chain;
  // then its final committed value, which is loaded after it. 0 for a file
  // that is not part of a chain.
  uint64_t LoadSealedEnd() const {
    if (capacity_ < format::kExtendedDataOffset) return 0;
    // Acquire: pairs with the writer's release store in Pool::Seal(), after
    // its final store of `committed`, which is therefore visible.
    return format::AtomicWord(base_, format::kSealedEndOffset)
        .load(std::memory_order_acquire);
  }

  // Loads `committed` with acquire ordering.
  uint64_t LoadCommitted() const {
    // Acquire: pairs with the writer's release store in Pool::Commit(), so
    // every frame byte below the value is visible to this thread.
    return format::AtomicWord(base_, format::kCommittedOffset)
        .load(std::memory_order_acquire);
  }

  // Views of the segments, like the original's getBuffers(): segment k
  // covers [k*size, min((k+1)*size + overlap, capacity)); a capacity-only
  // log has one view of the whole file. Valid while *this lives.
  std::vector<absl::Span<const uint8_t>> GetBuffers() const;

  // The whole mapping, read-only. Valid while *this lives.
  const uint8_t* data() const { return base_; }

  // The file descriptor (O_RDONLY or O_RDWR), owned by *this.
  int fd() const { return fd_; }

  // Makes every byte written so far durable on disk (msync + fdatasync).
  // A no-op in effect on tmpfs (/dev/shm), which has no disk.
  absl::Status Flush() const;

  // Returns the pid holding the writer lock on `path`, 0 when the lock is
  // held but the pid is unknown, or nullopt when no writer holds it. Never
  // blocks (a FIFO at `path` is refused, not opened).
  static absl::StatusOr<std::optional<pid_t>> WriterPid(const std::string& path);

  // The same for the file this SharedMemory has open, wherever its path
  // now points (it may have been renamed or removed).
  absl::StatusOr<std::optional<pid_t>> CurrentWriterPid() const;

  // Nonzero in a child made by fork() from the process that opened this
  // writable SharedMemory: the parent's pid. Such a child reads the log
  // through a read-only mapping and may not write (see fork_guard.h).
  pid_t forked_from() const { return forked_from_; }

  // Internal: the fork guard's child handler (shmio/fork_guard.h) calls it
  // in a fork() child. Only async-signal-safe calls.
  void DetachAfterFork();

  // For chains (shmio/chain_writer.h): creates a writable log of
  // options.capacity bytes in `directory` that no path names yet (so no
  // reader can see it), locked and reserved (and prefaulted, if asked);
  // LinkAt() gives it its name. Until then path() says it is being
  // prepared. Errors as Open()'s for creating.
  static absl::StatusOr<std::unique_ptr<SharedMemory>> CreateUnlinked(
      const std::string& directory, Options options);

  // For chains: turns the retired file at `path` (sealed, removed by
  // retention) into a file like CreateUnlinked()'s, whose pages the kernel
  // need not allocate and zero again: renames it to `temp_path` (in the
  // same directory; LinkAt() links it and removes that name, destruction
  // removes it), clears its header and maps it writable with `options`.
  // FailedPrecondition, with nothing changed, while any reader has the file
  // open (reader_lock.h), while a writer holds it, or when its size is not
  // options.capacity: the caller unlinks it instead.
  static absl::StatusOr<std::unique_ptr<SharedMemory>> Recycle(const std::string& path,
                                                               const std::string& temp_path,
                                                               Options options);
  // Recycle() for a file this process still has mapped: `retired`, a
  // chain's writable file whose Pool is gone, still linked at its path.
  // The mapping and its page tables are kept (the pages are the same), so
  // the new file costs no mapping, populating or unmapping: with small
  // files these were most of the preparing thread's work per roll, which a
  // fast writer waited for. FailedPrecondition, with nothing changed (and
  // `retired` unmapped), as Recycle(), and when `retired` is not such a
  // file or is no longer the file at its path.
  static absl::StatusOr<std::unique_ptr<SharedMemory>> RecycleMapped(
      std::unique_ptr<SharedMemory> retired, const std::string& temp_path, Options options);
  // Gives a file from CreateUnlinked() or Recycle() its name `path`. AlreadyExists when
  // something is at `path` (nothing changes then).
  absl::Status LinkAt(const std::string& path);

 private:
  friend class Pool;
  SharedMemory(Options options, int fd, uint8_t* base, uint64_t capacity,
               std::optional<Geometry> geometry);

  // Checks, locks (when writable), sizes and maps the open file `fd` (owned
  // from here on, closed on error) described by `options`; `created` says
  // that this call made it.
  static absl::StatusOr<std::unique_ptr<SharedMemory>> FromDescriptor(
      Options options, int fd, bool created);

  // The writable mapping; only Pool writes through it.
  uint8_t* mutable_data() const { return base_; }

  Options options_;
  int fd_;
  uint8_t* base_;
  uint64_t capacity_;
  std::optional<Geometry> geometry_;
  Pool* pool_ = nullptr;  // the one Pool of a writable SharedMemory; not owned
  pid_t forked_from_ = 0;
  bool unlinked_ = false;           // from CreateUnlinked(), not yet LinkAt()
  std::string unlinked_temp_path_;  // its temporary name, if it has one
};

// True when SHMIO_DEBUG=true is set in the environment (read once).
bool DebugFromEnvironment();

}  // namespace shmio

#endif  // SHMIO_SHARED_MEMORY_H_
