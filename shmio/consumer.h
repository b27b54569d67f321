// Consumer: a reader with a position (a cursor) that it can save and resume,
// the original's SharedMemoryConsumer. It reads whole committed frames in
// batches bounded by frames and bytes, and never delivers a frame on a
// committed value it has not validated.
//
// Why validate: the original Node.js writer stores the 8 bytes of
// `committed` one at a time, so a reader can load a torn value (seen: 1-3 in
// 10,000 loads while a Node writer runs flat out), and a writer that is
// descheduled or stopped between two of its byte stores leaves such a value
// in place for as long as it is stopped. A committed value that goes
// backwards, lies outside the file, or does not end on a frame boundary is
// therefore never data: it is re-read for a moment and, if it still does not
// validate, the Consumer answers with the last value it validated ("nothing
// new yet") and keeps looking on every later call. It never gives up on a
// log because of `committed` alone: the value may complete at any time.
// CommittedProblem() says what is odd and for how long, so that a follower
// can report it once and a one-shot reader can give up after a bounded
// wait. Files written by shmio C++ are published with one release store and
// never tear; the check costs one walk over the new frames' sizes.
//
// Damage below a validated value is another matter: a frame that fails its
// bounds check there is DataLoss at once, naming the offset.
//
// Thread safety: one thread per Consumer. Many Consumers (threads,
// processes) may read one log at once.
//
// Invariants: cursor() is always a frame boundary at or below the last
// validated committed value; the Consumer never writes to the mapping.
#ifndef SHMIO_CONSUMER_H_
#define SHMIO_CONSUMER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"

namespace shmio {

// Bounds on one batch. A batch holds at least one frame when any is
// available, even if that one frame alone exceeds max_bytes.
struct BatchLimits {
  size_t max_frames = std::numeric_limits<size_t>::max();
  size_t max_bytes = std::numeric_limits<size_t>::max();  // payload bytes
};

// A run of whole committed frames, [frames.from(), frames.to()), of one
// file.
struct Batch {
  FrameRange frames;
  size_t frame_count = 0;
  uint64_t payload_bytes = 0;
  // Where the next batch starts: a file offset (== frames.to()) from a
  // Consumer, a chain position from a ChainConsumer. Save it to resume later.
  uint64_t next_cursor = 0;
  // A frame's cursor is its offset plus cursor_bias (modulo 2^64): 0 for a
  // single file, whose cursors are offsets; base position - dataOffset for
  // a file of a chain.
  uint64_t cursor_bias = 0;
  // Keeps the batch's file mapped while the Batch lives (a chain's batch;
  // null when the caller owns the SharedMemory).
  std::shared_ptr<const SharedMemory> file;

  bool empty() const { return frame_count == 0; }
  // The cursor (offset or position) of `frame`, one of this batch's.
  uint64_t CursorOf(const Frame& frame) const { return frame.offset + cursor_bias; }
};

class Consumer {
 public:
  // How soon a follower should look again at a committed value that did
  // not validate (a Node writer mid-store usually completes within it).
  static constexpr int kRecheckMs = 20;

  // Where a Consumer starts.
  static constexpr uint64_t kBeginning = 0;  // the first frame, once known

  // SpinUntilNew() reads the clock once per this many polls (a clock read
  // costs ~20 polls).
  static constexpr uint32_t kPollsPerClockRead = 256;

  // Reads `shm`, which must outlive the Consumer, from the first frame.
  explicit Consumer(const SharedMemory* shm);

  // The last validated committed value (data offset for an empty log, 0
  // while the header is all zero). Loads, validates and returns the current
  // one; a value that does not validate gives the previous one (see the
  // class comment and CommittedProblem()). Errors: DataLoss only for a
  // damaged header (headerSize or dataOffset). Cost: one load when nothing
  // moved; a walk over the new frames' sizes when it did. Only when a bad
  // value is seen does the call re-read it, for at most kTornRereadUs.
  absl::StatusOr<uint64_t> Committed() { return CommittedFrom(LoadCommitted()); }

  // How long a call re-reads a committed value that does not validate
  // before it answers with the last good one.
  static constexpr int kTornRereadUs = 50;

  // OK when the committed value in the header now is genuine (or has not
  // moved); otherwise DataLoss saying what is wrong with it (outside the
  // file, going backwards, not on a frame boundary, naming the offsets), how
  // long values have failed to validate, and that a Node.js writer may be
  // stopped mid-commit. Loads `committed` once; does not move the cursor.
  absl::Status CommittedProblem() const;

  // How long values loaded by Committed() have failed to validate without a
  // genuine one in between (zero when the last one was genuine).
  absl::Duration CommittedProblemAge() const;

  // Busy-polls, with no syscall and no sleep, until the committed value is
  // past the cursor (true) or `deadline` passes (false); then Poll() or
  // Next() reads what came. For a reader that owns a core and wants the
  // lowest latency; a reader that may sleep wants uvwatch instead. While it
  // spins it also prefetches the cache lines where the next frame will land,
  // so that when the writer commits, the frame's bytes are already on their
  // way with the committed value instead of being fetched after it (one
  // cache miss less per wake-up; see README "Performance"). The clock is
  // read once every kPollsPerClockRead polls. On a file whose header no
  // writer has initialised yet it answers true once, when one does. It also
  // answers true when `committed` moved to a value that does not validate
  // (a Node writer mid-store): Poll() then finds nothing, and the loop
  // spins again.
  bool SpinUntilNew(absl::Time deadline) {
    // The cursor means the first frame only once the header is known; a
    // damaged header is left for Poll() or Next() to report.
    if (ABSL_PREDICT_FALSE(data_offset_ == 0)) (void)LoadHeaderIfNeeded();
    const uint64_t from = cursor();
    constexpr uint64_t kCacheLine = 64;  // x86-64, and most ARM cores
    const uint8_t* next = base_ + std::min(from, capacity_);
    const uint8_t* next_line = base_ + std::min(from + kCacheLine, capacity_);
    for (uint32_t polls = 1;; ++polls) {
      if (LoadCommitted() != from) return true;
      // A frame of up to a line's size lies in these two. Debian's Abseil
      // predates absl::PrefetchToLocalCache; this is what it wraps.
      __builtin_prefetch(next);
      __builtin_prefetch(next_line);
      if (ABSL_PREDICT_FALSE(polls % kPollsPerClockRead == 0) && absl::Now() >= deadline) {
        return false;
      }
    }
  }
  // Calls visit(const Frame&) for each committed frame after the cursor, at
  // most `max_frames`, moving the cursor past each before its call; returns
  // how many (0: nothing new). The same validation and errors as Next(),
  // without building a Batch: inline and allocation-free, for busy-polling
  // readers (nothing new costs one load and a compare). `visit` must not
  // call this Consumer.
  template <typename Visit>
  absl::StatusOr<size_t> Poll(Visit&& visit,
                              size_t max_frames = std::numeric_limits<size_t>::max()) {
    const uint64_t candidate = LoadCommitted();
    // Nothing new: `committed` is the value validated last and the cursor
    // is there already (one load, two compares). validated_ is no offset
    // until the header is known, so this never skips learning it.
    if (ABSL_PREDICT_TRUE(candidate == cursor_ && candidate == validated_)) return size_t{0};
    // One new frame, for a reader that has delivered all it validated (it
    // keeps up with a writer that commits each frame): the frame that
    // validates `candidate` (read within it, ending exactly on it: the same
    // test as IsGenuine()'s walk) is the frame delivered, read once instead
    // of once to validate and once to deliver. Anything else takes the
    // general path below. cursor_ == validated_ implies a known header:
    // until then validated_ is no offset.
    if (ABSL_PREDICT_TRUE(cursor_ == validated_ && candidate > validated_ &&
                          candidate <= capacity_ && max_frames != 0)) {
      Frame frame;
      if (ABSL_PREDICT_TRUE(TryReadFrameAt(base_, validated_, candidate, debug_, &frame) &&
                            frame.end() == candidate)) {
        validated_ = candidate;
        cursor_ = candidate;  // before the call, as promised
        visit(static_cast<const Frame&>(frame));
        return size_t{1};
      }
    }
    absl::StatusOr<uint64_t> committed = CommittedFrom(candidate);
    if (ABSL_PREDICT_FALSE(!committed.ok())) return committed.status();
    // The debug test out of the per-frame loop: one loop each way.
    if (ABSL_PREDICT_FALSE(debug_)) {
      return Deliver</*kDebug=*/true>(visit, *committed, max_frames);
    }
    return Deliver</*kDebug=*/false>(visit, *committed, max_frames);
  }

  // The next run of frames after the cursor, up to the committed value and
  // `limits`, and moves the cursor past it. An empty batch means nothing new.
  absl::StatusOr<Batch> Next(BatchLimits limits = {});

  // The original's getData(from): the frames in [from, committed at call
  // time). `from` defaults to the cursor; it must be a frame boundary. Does
  // not move the cursor.
  absl::StatusOr<FrameRange> GetData(std::optional<uint64_t> from = {});

  // Moves the cursor to `cursor`, which must be a frame boundary at or
  // below the committed value (checked by walking the frames from a known
  // boundary). kBeginning (0, never a frame's offset) means the first frame,
  // wherever the header puts it: a cursor saved from a log that was still
  // empty resumes at its beginning. Errors: OutOfRange past
  // the committed value, InvalidArgument when not a frame boundary.
  absl::Status Seek(uint64_t cursor);

  // Moves the cursor to the committed value: only new frames follow.
  absl::Status SeekToEnd();

  // The cursor: the offset of the next frame to read (kBeginning until the
  // header is known). Save it; Seek() to it later to resume.
  uint64_t cursor() const { return cursor_ == kBeginning ? data_offset_ : cursor_; }

  const SharedMemory& shared_memory() const { return *shm_; }

 private:
  // True when `candidate` is a genuine committed value: within the file, not
  // behind validated_, and the frames since validated_ end exactly on it.
  // One pass over the new frames' sizes; no byte at or past the candidate is
  // touched.
  bool IsGenuine(uint64_t candidate) const {
    if (candidate < validated_ || candidate > capacity_) return false;
    return EndOfWholeFrames(candidate) == candidate;
  }
  // Walks the frames from validated_ (a boundary) towards `candidate`
  // (validated_ <= candidate <= capacity) by their leading sizes; returns
  // where the walk stopped: `candidate` when they end exactly on it, else
  // the first frame that does not fit below it.
  uint64_t EndOfWholeFrames(uint64_t candidate) const {
    const uint8_t* const base = base_;
    Frame frame;
    uint64_t position = validated_;
    while (position < candidate &&
           TryReadFrameAt(base, position, candidate, /*debug=*/false, &frame)) {
      position = frame.end();
    }
    return position;
  }
  // Poll()'s loop: calls visit for each frame from the cursor towards
  // `end` (validated), at most `max_frames`, checking every frame's bounds
  // against `end` (and with kDebug, its trailing size).
  template <bool kDebug, typename Visit>
  absl::StatusOr<size_t> Deliver(Visit& visit, uint64_t end, size_t max_frames) {
    // Locals in the loop: stores through `visit` may alias *this as far as
    // the compiler knows, and would otherwise force reloads per frame.
    const uint8_t* const base = base_;
    uint64_t position = cursor();
    size_t count = 0;
    Frame frame;
    while (position < end && count < max_frames) {
      if (ABSL_PREDICT_FALSE(!TryReadFrameAt(base, position, end, kDebug, &frame))) {
        if (count > 0) break;  // deliver the good frames; the error comes next
        return FrameDamageAt(base, position, end, kDebug, shm_->path());
      }
      position = frame.end();
      cursor_ = position;  // before the call, as Poll() promises
      ++count;
      visit(static_cast<const Frame&>(frame));
    }
    return count;
  }
  // `committed` in the header (acquire: pairs with the writer's release
  // store, so every frame byte below it is visible).
  uint64_t LoadCommitted() const {
    return format::AtomicWord(base_, format::kCommittedOffset)
        .load(std::memory_order_acquire);
  }
  // Committed() for a value the caller has just loaded.
  absl::StatusOr<uint64_t> CommittedFrom(uint64_t candidate) {
    // Fast path, inline: nothing moved, or it moved to a value whose new
    // frames end exactly on it (always so for a shmio C++ writer).
    if (ABSL_PREDICT_TRUE(data_offset_ != 0)) {
      if (candidate == validated_) return validated_;
      if (ABSL_PREDICT_TRUE(IsGenuine(candidate))) return validated_ = candidate;
    }
    return CommittedSlow();
  }
  // What is wrong with a candidate that is not genuine ("" if nothing).
  std::string Validate(uint64_t candidate) const;
  absl::StatusOr<uint64_t> CommittedSlow();
  // Learns dataOffset once a writer has initialised the header.
  absl::Status LoadHeaderIfNeeded();
  // OK when `target` is a frame boundary in [dataOffset, committed].
  absl::Status CheckBoundary(uint64_t target, uint64_t committed) const;

  const SharedMemory* shm_;  // not owned
  // shm_'s mapping and size, which never change: kept here so that the hot
  // paths load them from this object, not through shm_. (Not const
  // members, so that a Consumer stays assignable.)
  const uint8_t* base_;
  uint64_t capacity_;
  bool debug_;
  uint64_t data_offset_ = 0;  // 0 until the header is initialised
  uint64_t cursor_ = kBeginning;
  // The last committed value known genuine; until the header is known, a
  // value no cursor can equal (Poll's nothing-new test then fails).
  uint64_t validated_ = kNoValidatedValue;
  static constexpr uint64_t kNoValidatedValue = ~uint64_t{0};
  // When a bad header was first seen (0 = not now), to tell a Node writer
  // initialising it byte by byte from damage.
  int64_t header_bad_since_ns_ = 0;
  // When Committed() first saw a value that did not validate, since the
  // last genuine one (0 = the last one was genuine), and the validated value
  // that episode started from.
  int64_t unvalidated_since_ns_ = 0;
  uint64_t unvalidated_from_ = 0;
};

}  // namespace shmio

#endif  // SHMIO_CONSUMER_H_
