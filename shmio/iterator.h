// Frame ranges: zero-copy iteration over the frames in [from, to) of a
// mapping, forwards (leading sizes) or backwards (trailing sizes), the
// original's SharedMemoryIterator.
//
//   shmio::FrameRange frames(shm, from, to);
//   for (const shmio::Frame& frame : frames) Use(frame.payload);
//   if (!frames.status().ok()) ...  // a damaged frame ended the walk early
//
// Thread safety: a range and its iterators belong to one thread. Many
// ranges may read one SharedMemory at once.
//
// Bounds: every frame's size is checked against [from, to) before its bytes
// are touched (one compare), so a damaged or hostile file ends the walk with
// a DataLoss status naming the offset, never an out-of-bounds read. A
// reverse walk also checks that each frame's leading and trailing sizes
// agree; a forward walk does so with debug checks ("[DEBUG]"). So the two
// walks never disagree on a frame: where one would see a frame the other
// does not, one of them reports damage.
// The caller chooses `to`: below a validated committed value (Consumer does
// that), or any range it knows holds whole frames.
#ifndef SHMIO_ITERATOR_H_
#define SHMIO_ITERATOR_H_

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "shmio/format.h"
#include "shmio/shared_memory.h"

namespace shmio {

// One frame as seen by a reader. `payload` points into the mapping and stays
// valid while the SharedMemory lives (committed bytes never change).
struct Frame {
  uint64_t offset = 0;  // absolute offset of the leading size (the cursor)
  absl::Span<const uint8_t> payload;

  // The cursor just past this frame.
  uint64_t end() const { return offset + payload.size() + 4; }
};

// Checks the frame at `offset` of `base[0, limit)`: a leading size of at
// least 4 that ends within `limit`, and with `debug` an equal trailing
// size. On success stores the frame in *frame and returns true; touches no
// byte at or past `limit`. The building block of every reader.
inline bool TryReadFrameAt(const uint8_t* base, uint64_t offset, uint64_t limit,
                           bool debug, Frame* frame) {
  const uint64_t room = limit - offset;
  if (ABSL_PREDICT_FALSE(room < format::kFrameOverhead)) return false;
  uint64_t total = format::DecodeU16(base + offset);
  // kFrameOverhead <= total <= room, as one unsigned compare: a total below
  // the overhead wraps to a huge value.
  if (ABSL_PREDICT_FALSE(total - format::kFrameOverhead > room - format::kFrameOverhead)) {
    return false;
  }
  if (ABSL_PREDICT_FALSE(debug) &&
      format::DecodeU16(base + offset + total - format::kFrameSizeBytes) != total) {
    return false;
  }
  frame->offset = offset;
  frame->payload = absl::Span<const uint8_t>(base + offset + format::kFrameSizeBytes,
                                             total - format::kFrameOverhead);
  return true;
}

// Same, backwards: the frame that ends at `end` and starts at or after
// `floor`, found through its trailing size. Its leading size must equal the
// trailing one, with or without debug checks: a reverse walk steps from
// trailing size to trailing size, so one damaged size would otherwise make
// it invent a frame that the forward walk never sees (the forward walk
// needs no such check: a damaged trailing size does not move it).
inline bool TryReadFrameBefore(const uint8_t* base, uint64_t end, uint64_t floor,
                               Frame* frame) {
  const uint64_t room = end - floor;
  if (ABSL_PREDICT_FALSE(room < format::kFrameOverhead)) return false;
  uint64_t total = format::DecodeU16(base + end - format::kFrameSizeBytes);
  // kFrameOverhead <= total <= room, as one compare (see TryReadFrameAt).
  if (ABSL_PREDICT_FALSE(total - format::kFrameOverhead > room - format::kFrameOverhead)) {
    return false;
  }
  uint64_t offset = end - total;
  if (ABSL_PREDICT_FALSE(format::DecodeU16(base + offset) != total)) return false;
  frame->offset = offset;
  frame->payload = absl::Span<const uint8_t>(base + offset + format::kFrameSizeBytes,
                                             total - format::kFrameOverhead);
  return true;
}

// The DataLoss that explains why TryReadFrameAt(base, offset, limit, debug)
// failed, naming `path`, the offset and the sizes.
absl::Status FrameDamageAt(const uint8_t* base, uint64_t offset, uint64_t limit,
                           bool debug, const std::string& path);

// Same for TryReadFrameBefore(base, end, floor).
absl::Status FrameDamageBefore(const uint8_t* base, uint64_t end, uint64_t floor,
                               const std::string& path);

// The frames in [from, to), in order.
class FrameRange {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Frame;
    using difference_type = std::ptrdiff_t;
    using pointer = const Frame*;
    using reference = const Frame&;

    const Frame& operator*() const { return frame_; }
    const Frame* operator->() const { return &frame_; }
    Iterator& operator++() {
      position_ = frame_.end();
      Load();
      return *this;
    }
    bool operator==(const Iterator& other) const {
      return position_ == other.position_;
    }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class FrameRange;
    Iterator(const FrameRange* range, uint64_t position)
        : range_(range), position_(position) {
      Load();
    }
    // Reads the frame at position_, or ends the walk (at the end of the
    // range, or on damage, which it records in the range's status).
    void Load() {
      if (position_ == range_->to_) return;
      if (ABSL_PREDICT_FALSE(!TryReadFrameAt(range_->base_, position_, range_->to_,
                                             range_->debug_, &frame_))) {
        range_->Fail(position_);
        position_ = range_->to_;
      }
    }

    const FrameRange* range_;
    uint64_t position_;  // == range_->to_ at the end
    Frame frame_;
  };

  // `shm` must outlive the range. from <= to <= shm.capacity(), and `from`
  // must be a frame boundary; otherwise the range is empty with an error.
  FrameRange(const SharedMemory& shm, uint64_t from, uint64_t to);
  FrameRange(const SharedMemory& shm, uint64_t from, uint64_t to, bool debug);

  // Iterating is const: the frames never change, only status() records
  // what a walk found.
  Iterator begin() const { return Iterator(this, from_); }
  Iterator end() const { return Iterator(this, to_); }

  uint64_t from() const { return from_; }
  uint64_t to() const { return to_; }
  bool empty() const { return from_ == to_; }

  // OK, or the DataLoss that ended the last walk early. Check it after the
  // loop.
  const absl::Status& status() const { return status_; }

 private:
  void Fail(uint64_t offset) const;  // records the damage at `offset`

  const SharedMemory* shm_;
  const uint8_t* base_;
  uint64_t from_;
  uint64_t to_;
  bool debug_;
  mutable absl::Status status_;  // what the last walk found
};

// The frames in [from, to), last first, found through the trailing sizes.
class ReverseFrameRange {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Frame;
    using difference_type = std::ptrdiff_t;
    using pointer = const Frame*;
    using reference = const Frame&;

    const Frame& operator*() const { return frame_; }
    const Frame* operator->() const { return &frame_; }
    Iterator& operator++() {
      position_ = frame_.offset;
      Load();
      return *this;
    }
    bool operator==(const Iterator& other) const {
      return position_ == other.position_;
    }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class ReverseFrameRange;
    Iterator(const ReverseFrameRange* range, uint64_t position)
        : range_(range), position_(position) {
      Load();
    }
    void Load() {
      if (position_ == range_->from_) return;
      if (ABSL_PREDICT_FALSE(!TryReadFrameBefore(range_->base_, position_,
                                                 range_->from_, &frame_))) {
        range_->Fail(position_);
        position_ = range_->from_;
      }
    }

    const ReverseFrameRange* range_;
    uint64_t position_;  // end of the current frame; == range_->from_ at end
    Frame frame_;
  };

  // The frames in [from, to), as FrameRange's constructor. A reverse walk
  // always compares each frame's leading and trailing sizes, so debug
  // checks add nothing to it; the second form exists for symmetry with
  // FrameRange.
  ReverseFrameRange(const SharedMemory& shm, uint64_t from, uint64_t to);
  ReverseFrameRange(const SharedMemory& shm, uint64_t from, uint64_t to,
                    bool debug);

  Iterator begin() const { return Iterator(this, to_); }
  Iterator end() const { return Iterator(this, from_); }

  const absl::Status& status() const { return status_; }

 private:
  void Fail(uint64_t end) const;  // records the damage before `end`

  const SharedMemory* shm_;
  const uint8_t* base_;
  uint64_t from_;
  uint64_t to_;
  mutable absl::Status status_;  // what the last walk found
};

}  // namespace shmio

#endif  // SHMIO_ITERATOR_H_
