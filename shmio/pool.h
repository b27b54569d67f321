// Pool: the writer. Appends frames after `committed` and publishes them with
// Commit(), the original's Pool.
//
// Thread safety: one thread at a time per Pool (it is the file's only
// writer; the lock in SharedMemory keeps other processes and other Pools
// out). Readers in any thread or process may run concurrently.
//
// Writers that take no lock (the original Node.js library) exist: before it
// writes the first frame of a batch and before it publishes one, the Pool
// checks that `committed` is still the value it stored last, and refuses
// (FailedPrecondition naming both values; nothing written or stored) if
// another writer moved it. This narrows the damage such a writer can do to
// the instant between the check and the store; it cannot close it.
//
// fork(): a child of the writer's process may not write through the
// parent's Pool (every append and commit is FailedPrecondition naming both
// pids) and holds no lock; see fork_guard.h.
//
// Invariants:
//   - Frames are written only in [committed, capacity) and never past the
//     mapping; nothing below `committed` is ever written again.
//   - `committed` moves only forward, only in Commit(), by one release store,
//     and always lands on a frame boundary: a batch of appends becomes
//     visible to readers all at once or not at all.
//   - With a geometry, every frame obeys the original's segment rule
//     (format.h), so the original's readers keep working.
#ifndef SHMIO_POOL_H_
#define SHMIO_POOL_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "shmio/doorbell.h"
#include "shmio/format.h"
#include "shmio/shared_memory.h"

namespace shmio {

class Pool {
 public:
  // The write position, as the original's getSize(): `committed` is the end
  // offset of the last committed frame (what readers see), `uncommitted` the
  // end offset of the last appended frame (what the next Commit() will
  // publish). Both are absolute file offsets.
  struct Size {
    uint64_t committed = 0;
    uint64_t uncommitted = 0;
  };

  // The original's getStatus(): the segment the next frame starts in and the
  // offset within that segment.
  struct Status {
    uint64_t segment = 0;
    uint64_t offset = 0;
  };

  // Creates the writer over `shm`, which must be writable and outlive the
  // Pool. Initialises a fresh (all-zero) file; continues an existing one at
  // its committed value, overwriting whatever lay beyond. Errors:
  // FailedPrecondition when `shm` is read-only, when another Pool already
  // writes through it, or when the file has no geometry (written by the
  // Node.js library) and none was given; DataLoss when `committed` is not
  // within the file.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(SharedMemory* shm);

  // For chains (shmio/chain_writer.h): the writer of a fresh (all-zero)
  // file, initialised as the file `chain` says it is in its chain
  // (format.h, "Chains of files"). FailedPrecondition when the file is not
  // fresh; otherwise as Create().
  static absl::StatusOr<std::unique_ptr<Pool>> CreateChainFile(
      SharedMemory* shm, const ChainFileInfo& chain);

  // For chains: the writer of an existing, unsealed file of a chain (which
  // Create() refuses: a chain's files are written through its ChainWriter).
  static absl::StatusOr<std::unique_ptr<Pool>> ContinueChainFile(SharedMemory* shm);

  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Reserves a frame for an `n`-byte payload and returns the payload bytes
  // for the caller to fill. Not visible to readers until Commit(). The span
  // stays valid while the SharedMemory lives. Errors: InvalidArgument for
  // n > 65531; FailedPrecondition when the frame would cross a segment
  // boundary by more than the overlap (nothing is written; raise the
  // overlap to at least the largest frame), when another writer moved
  // `committed`, or in a fork() child; ResourceExhausted ("Shared memory
  // exhausted") when the log is full.
  absl::StatusOr<absl::Span<uint8_t>> SliceSize(size_t n) {
    uint8_t* payload = TrySliceFast(n);
    if (ABSL_PREDICT_TRUE(payload != nullptr)) return absl::Span<uint8_t>(payload, n);
    return SliceSizeSlow(n);
  }

  // SliceSize(sizeof(T)).
  template <typename T>
  absl::StatusOr<absl::Span<uint8_t>> Slice() {
    static_assert(std::is_trivially_copyable_v<T>,
                  "frames hold trivially copyable types");
    return SliceSize(sizeof(T));
  }

  // Reserves a frame for a T and returns it, value-initialised, in place.
  // Payloads are unaligned, so T must have alignof 1 (a packed struct, such
  // as bendec's C++ generator emits); copy anything else in with Append().
  template <typename T>
  absl::StatusOr<T*> Wrap() {
    static_assert(std::is_trivially_copyable_v<T>,
                  "frames hold trivially copyable types");
    static_assert(alignof(T) == 1,
                  "payloads are unaligned: Wrap<T> needs a packed T "
                  "(alignof 1); use Append() for other types");
    absl::StatusOr<absl::Span<uint8_t>> bytes = SliceSize(sizeof(T));
    if (!bytes.ok()) return bytes.status();
    return new (bytes->data()) T();
  }

  // SliceSize(bytes.size()) and copies `bytes` in.
  absl::Status Append(absl::Span<const uint8_t> bytes);

  // Publishes every frame appended since the last Commit() with one release
  // store of `committed`, then rings the doorbell if a reader sleeps on it
  // (one syscall per wake-up, none while no reader is armed).
  // Errors: DataLoss "[DEBUG]" when debug checks find the last frame's
  // trailing size overwritten (a slice was overrun); FailedPrecondition
  // when another writer moved `committed` since our last store, or in a
  // fork() child. Nothing is published on error.
  absl::Status Commit() {
    if (ABSL_PREDICT_FALSE(!fast_commit_)) return CommitChecked();
    if (ABSL_PREDICT_FALSE(!Publish())) return ForeignWriterError();
    return absl::OkStatus();
  }

  Size GetSize() const;
  Status GetStatus() const;

  // false: SliceSize() hands out heap buffers instead of log space, and
  // Append()/Commit() write nothing, like the original's setActive(false).
  // Frames appended while inactive are dropped. Appended but uncommitted
  // frames stay pending and are committed by the next Commit().
  void SetActive(bool active);
  bool active() const { return active_; }

  // For chains: marks the file sealed at its committed value (format.h,
  // "Sealing"): readers that reach it move on to the next file, which must
  // exist already. Frames appended but not committed are dropped, and every
  // later append is refused. Rings the doorbell if a reader sleeps on it.
  // Errors as Commit()'s (another writer, a fork() child); nothing is stored
  // then.
  absl::Status Seal();
  bool sealed() const { return sealed_; }

  // Makes committed frames durable on disk (see SharedMemory::Flush).
  absl::Status Flush() const { return shm_->Flush(); }

  // How many times Commit() has rung the doorbell (made the syscall that
  // wakes inotify readers). For tests and benchmarks.
  uint64_t doorbell_rings() const { return doorbell_rings_; }

  const SharedMemory& shared_memory() const { return *shm_; }

  // Internal: the fork guard's child handler (shmio/fork_guard.h), through
  // SharedMemory::DetachAfterFork(). Async-signal-safe.
  void DetachAfterFork(pid_t parent);

 private:
  friend class ChainWriter;  // its SliceSize() is TrySliceFast() first

  Pool(SharedMemory* shm, uint64_t committed, bool has_doorbell);
  // Create() once the header is initialised (or was already). A file of a
  // chain is refused unless `chain_writer`, and a sealed one always.
  static absl::StatusOr<std::unique_ptr<Pool>> Adopt(SharedMemory* shm, bool chain_writer);

  // SliceSize()'s fast path, inline (ChainWriter::SliceSize() uses it
  // too): the payload's address, or nullptr when the frame must take the
  // slow path. The frame must end within the fast window, which lies
  // inside the current segment, its segment-rule limit and the mapping
  // (CheckRoom() sets it; it is empty while the fast path is off: debug
  // checks, inactive, sealed, a fork() child). Frames that would reach
  // past it, into a segment's overlap or the next segment, take the slow
  // path, which checks everything and moves the window.
  // Members are read into locals and updated before the frame's bytes are
  // written: byte stores may alias *this, and would otherwise force the
  // compiler to reload them on every append.
  // The first frame of a batch starts at committed_; only then is
  // `committed` re-read, to see whether another writer moved it.
  uint8_t* TrySliceFast(size_t n) {
    uint64_t total = uint64_t{n} + format::kFrameOverhead;
    uint64_t position = position_;
    if (ABSL_PREDICT_FALSE(n > format::kMaxPayload || position + total > fast_end_ ||
                           (position == committed_ && !CommittedIsOurs()))) {
      return nullptr;
    }
    // (last_frame_start_ is left alone: only debug checks read it, and
    // they keep every append on the slow path. One store less also keeps
    // position_ from sharing a vector store, which the next append's load
    // of it could not be forwarded from cheaply.)
    uint8_t* frame = base_ + position;
    position_ = position + total;
    format::EncodeU16(frame, static_cast<uint16_t>(total));
    format::EncodeU16(frame + total - format::kFrameSizeBytes, static_cast<uint16_t>(total));
    return frame + format::kFrameSizeBytes;
  }
  absl::StatusOr<absl::Span<uint8_t>> SliceSizeSlow(size_t n);
  absl::Status CommitChecked();

  // True when `committed` in the file is still the value we stored last.
  bool CommittedIsOurs() const {
    // Relaxed: compared with our own last store only; no frame byte is read
    // on the strength of it. A writer that ignores our lock shows up here.
    return format::AtomicWord(base_, format::kCommittedOffset)
               .load(std::memory_order_relaxed) == committed_;
  }

  // Stores `committed` (release) and rings the doorbell if a reader sleeps.
  // Returns false, storing nothing, when another writer moved `committed`.
  bool Publish() {
    // A local: the store below goes through a uint64_t* into the mapping,
    // which the compiler must assume may alias position_.
    const uint64_t position = position_;
    if (position == committed_) return true;  // nothing new: no store, no ring
    if (ABSL_PREDICT_FALSE(!CommittedIsOurs())) return false;
    // Release: every frame byte below `position` was written by this thread
    // before; a reader's acquire load of `committed` makes them visible.
    format::AtomicWord(base_, format::kCommittedOffset)
        .store(position, std::memory_order_release);
    committed_ = position;
    if (has_doorbell_ && RingDoorbellIfArmed(base_, shm_->fd(), doorbell_rings_ + 1,
                                             fence_free_commit_)) {
      ++doorbell_rings_;
    }
    return true;
  }

  // Why a write is refused when `committed` is not ours (another writer),
  // or in a fork() child.
  absl::Status ForeignWriterError() const;
  // OK, or why this Pool may not write at all now (a fork() child, a
  // foreign writer).
  absl::Status CheckMayWrite() const;

  // Returns OK when a frame of `total` bytes fits at position_, or the
  // error that explains why not; updates segment_end_, frame_limit_ and
  // fast_end_.
  absl::Status CheckRoom(uint64_t total);
  absl::Status CheckPreviousFrame() const;  // debug: leading == trailing

  SharedMemory* shm_;  // not owned
  uint8_t* base_;      // shm_'s writable mapping
  uint64_t capacity_;
  uint64_t committed_;         // last value stored to the header
  uint64_t position_;          // end of the last appended frame
  uint64_t last_frame_start_;  // for the debug check (slow path only); 0 = none known
  // The segment position_ lies in ends at segment_end_; frames starting in
  // it must end by frame_limit_ (the segment rule, and the mapping's end).
  uint64_t segment_end_ = 0;
  uint64_t frame_limit_ = 0;
  // SliceSize()'s fast path takes a frame that ends at or before this:
  // min(segment_end_, frame_limit_) as CheckRoom() last set them while
  // fast_path_, else 0 (every append takes the slow path).
  uint64_t fast_end_ = 0;
  bool has_doorbell_;
  bool fence_free_commit_;  // RegisterWriterForDoorbell() succeeded
  bool debug_;
  bool active_ = true;
  bool fast_path_ = false;    // active_ && !debug_ && !forked_from_ && !sealed_
  bool sealed_ = false;       // Seal() done: no more appends
  bool fast_commit_ = false;  // !debug_ && !forked_from_
  pid_t forked_from_ = 0;     // nonzero in a fork() child of the writer
  std::vector<uint8_t> scratch_;  // SetActive(false) slices
  uint64_t doorbell_rings_ = 0;
};

}  // namespace shmio

#endif  // SHMIO_POOL_H_
