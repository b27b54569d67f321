// ChainWriter: the one writer of a chain, a log that never fills. It
// appends and commits as a Pool does, into the chain's current file; when a
// frame does not fit, it rolls: the next file (prepared ahead of need on a
// thread of its own, chain_file_preparer.h) is initialised with the next
// base position, takes the frames of the batch in progress, is linked into
// the directory, and only then is the full file sealed (format.h,
// "Sealing") and its sleeping readers woken. Retention removes old sealed
// files after rolls.
//
//   auto chain = shmio::ChainWriter::Open({.directory = "/dev/shm/events",
//                                          .create = true,
//                                          .file_capacity = 64 << 20});
//   (*chain)->Append(bytes);  // as Pool::Append
//   (*chain)->Commit();       // readers see the batch whole, across rolls too
//
// Positions: the chain's first frame is at position 0 (or
// ChainOptions::first_position); a frame's position is its file's base
// position plus its offset minus the file's dataOffset. GetSize() reports
// positions.
//
// Thread safety: one thread at a time per ChainWriter. The whole chain has
// one writer, enforced by DIR/writer.lock (writer_lock.h: a second writer
// is refused naming the holder's pid), and each file has its own writer
// lock as any log does.
//
// Invariants:
//   - Every file but the last is sealed (after a writer died between
//     linking a file and sealing its predecessor, the next Open() seals it).
//   - Each file's base position is the previous file's base plus its
//     committed length: positions run on with no gap and no overlap.
//   - A batch (the frames between two Commit()s) is in one file: a roll in
//     the middle of a batch moves the batch's frames into the next file.
//     So a span from SliceSize() is valid until the next SliceSize(),
//     Append() or Commit(): fill it before asking for the next one.
#ifndef SHMIO_CHAIN_WRITER_H_
#define SHMIO_CHAIN_WRITER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "shmio/chain_directory.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace shmio {

namespace internal {
class ChainFilePreparer;
}  // namespace internal

struct ChainOptions {
  std::string directory;

  // true: make the directory and the chain when missing (file_capacity is
  // then required); an existing chain is opened as it is.
  bool create = false;

  // Bytes of each file, at creation; opening an existing chain takes it
  // from its chain.conf (a value given must match it).
  uint64_t file_capacity = 0;

  // Retention (see ChainSettings), stored in chain.conf: at creation, or
  // when given to Open() for an existing chain. 0 = no such limit; leaving
  // all three 0 when opening keeps the chain's own.
  uint64_t retain_files = 0;
  uint64_t retain_bytes = 0;
  uint64_t retain_seconds = 0;
  // Named readers' protection (see ChainSettings): stored with the
  // retention limits, and given with them.
  uint64_t max_reader_lag = 0;
  bool drop_slow_readers = false;

  // The position of the chain's first frame, at creation (a mirror of a
  // trimmed stream starts where the stream starts). Default 0.
  uint64_t first_position = 0;

  // Prefaults each new file as it is prepared (see Options::prefault).
  bool prefault = false;
  // Reuses a file retention removes for the next file when no reader has
  // it open, so the kernel need not allocate and zero fresh pages for each
  // file (SharedMemory::Recycle). Every reader of this library holds a
  // reader lock that tells; turn it off when a process that does not (the
  // original Node.js library reading a chain's file by itself) may still
  // have a removed file open: it would see the new file's frames.
  bool recycle_files = true;
  bool debug_checks = false;
  mode_t create_mode = 0644;  // of the files, chain.conf and writer.lock
};

class ChainWriter {
 public:
  // Positions, as Pool::Size: what readers see, and what the next Commit()
  // publishes.
  struct Size {
    uint64_t committed = 0;
    uint64_t uncommitted = 0;
  };

  // Opens (with options.create, creates) the chain in options.directory as
  // its one writer, checking every file (NotFound, FailedPrecondition for a
  // second writer naming its pid, DataLoss naming the file and positions
  // for a chain that is not whole: a file of another chain, a gap, an
  // overlap; nothing on disk is changed then), sealing a file a dead writer
  // left unsealed, and continuing after the last committed frame.
  // InvalidArgument for bad options, before anything is touched.
  static absl::StatusOr<std::unique_ptr<ChainWriter>> Open(ChainOptions options);

  // Stops the preparer; the current file stays unsealed, for the next
  // writer to continue. Frames appended but not committed are lost.
  ~ChainWriter();
  ChainWriter(const ChainWriter&) = delete;
  ChainWriter& operator=(const ChainWriter&) = delete;

  // As Pool::SliceSize, rolling to the next file when the frame does not
  // fit. Errors: InvalidArgument for a payload over 65531 bytes or a frame
  // that would not fit even in an empty file of the chain; ResourceExhausted
  // when the batch in progress does not fit in one file (commit more
  // often), or the next file cannot be created (file system full); as Pool.
  absl::StatusOr<absl::Span<uint8_t>> SliceSize(size_t n) {
    // Shaped as Pool::SliceSize(), so that it inlines as that does: the
    // pool's fast path, else one out-of-line call, each return built in
    // the caller's slot. (Wrapping pool_->SliceSize()'s StatusOr instead
    // cost most of an append, through a store-forwarding stall when it was
    // copied out, or a call when the error handling made this function too
    // big to inline: 14.6 vs 10.1 ns per append against a single file,
    // perf annotate of //bench:micro, 12-03.)
    uint8_t* payload = pool_->TrySliceFast(n);
    if (ABSL_PREDICT_TRUE(payload != nullptr)) return absl::Span<uint8_t>(payload, n);
    return SliceSizeSlow(n);
  }

  template <typename T>
  absl::StatusOr<T*> Wrap() {
    static_assert(std::is_trivially_copyable_v<T>, "frames hold trivially copyable types");
    static_assert(alignof(T) == 1, "payloads are unaligned: Wrap<T> needs a packed T");
    absl::StatusOr<absl::Span<uint8_t>> bytes = SliceSize(sizeof(T));
    if (!bytes.ok()) return bytes.status();
    return new (bytes->data()) T();
  }

  // SliceSize(bytes.size()) and copies `bytes` in.
  absl::Status Append(absl::Span<const uint8_t> bytes);

  // As Pool::Commit: publishes the batch with one release store.
  absl::Status Commit() { return pool_->Commit(); }

  // Makes every committed frame durable (see SharedMemory::Flush): the
  // current file's, and those of files sealed since the last Flush().
  absl::Status Flush();

  Size GetSize() const;

  // The file frames go to now.
  const SharedMemory& current_file() const { return *shm_; }
  uint64_t current_base() const { return base_; }
  // How many times this writer has rolled to a new file.
  uint64_t rolls() const { return rolls_; }
  // How many files retention has removed since Open().
  uint64_t files_removed() const;
  // How many of the files this writer started were removed files reused
  // (ChainOptions::recycle_files).
  uint64_t files_recycled() const;
  // True when the next file is already prepared (created, reserved and, if
  // asked, prefaulted): the next roll will not wait for one.
  bool next_file_ready() const;
  const ChainSettings& settings() const { return settings_; }
  const std::string& directory() const { return options_.directory; }

 private:
  ChainWriter(ChainOptions options, ChainSettings settings, int lock_fd);

  // SliceSize() off the pool's fast path: the pool's own SliceSize(), and
  // when the file is full, a roll and the frame in the next file. Other
  // errors are the pool's, or the chain's own (a frame or a batch too big
  // for one file).
  absl::StatusOr<absl::Span<uint8_t>> SliceSizeSlow(size_t n);
  // ResourceExhausted: the batch in progress does not fit in one file.
  absl::Status BatchTooBigError() const;
  // Continues the last file, or starts the first or the next one.
  absl::Status OpenCurrent(const ChainListing& listing);
  // Makes a new file the current one, at `base` with `sequence`, moving the
  // frames of the batch in progress into it.
  absl::Status StartFile(uint64_t base, uint64_t sequence);
  // StartFile() after the current file, then seals it.
  absl::Status Roll();
  // Before a roll to a file at `end`: the named readers that retention
  // would leave without their frames are dropped (past max_reader_lag, or
  // with drop_slow_readers), or the roll fails with ResourceExhausted
  // naming the slowest. Reads the reader table only when there is one.
  absl::Status ProtectNamedReaders(uint64_t end);

  ChainOptions options_;
  ChainSettings settings_;
  int lock_fd_;
  std::unique_ptr<internal::ChainFilePreparer> preparer_;
  std::unique_ptr<SharedMemory> shm_;  // the current file
  std::unique_ptr<Pool> pool_;         // its writer; destroyed before shm_
  uint64_t base_ = 0;
  uint64_t sequence_ = 0;
  uint64_t data_offset_ = format::kExtendedDataOffset;
  uint64_t rolls_ = 0;
  // Files sealed since the last Flush(), whose dirty pages it must write;
  // none are recorded on tmpfs, where Flush() has no disk to write to.
  bool on_tmpfs_ = false;
  std::vector<std::string> unflushed_;
};

}  // namespace shmio

#endif  // SHMIO_CHAIN_WRITER_H_
