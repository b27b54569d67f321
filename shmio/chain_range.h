// Frame ranges over a chain's positions, across its files: the frames in
// [from, to), forwards or backwards, as FrameRange and ReverseFrameRange do
// within one file. Files are opened as the walk reaches them and released
// as it leaves them.
//
//   shmio::ChainFrameRange frames(files, from, to);
//   for (const shmio::ChainFrame& frame : frames) Use(frame.position, frame.payload);
//   if (!frames.status().ok()) ...  // damage, or a file removed by retention
//
// Bounds: within each file, as FrameRange (every size checked before its
// bytes are touched); a file ends at its sealed end, or, for the last one,
// at `to`. The caller chooses `to` at or below a committed position it
// validated (ChainConsumer::GetData does). A reverse walk checks each
// frame's two sizes, as ReverseFrameRange.
//
// Thread safety: a range and its iterators belong to one thread.
#ifndef SHMIO_CHAIN_RANGE_H_
#define SHMIO_CHAIN_RANGE_H_

#include <cstdint>
#include <iterator>
#include <memory>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "shmio/chain_files.h"
#include "shmio/iterator.h"

namespace shmio {

// One frame of a chain, as a walk over positions sees it. `payload` points
// into the file's mapping, valid while the iterator that produced it holds
// that file (until it moves to another file) -- copy what you keep.
// It is a Frame of its file (`offset` there, `payload`) with its chain
// position.
struct ChainFrame : Frame {
  uint64_t position = 0;
  uint64_t end() const { return position + payload.size() + 4; }
};

class ChainFrameRange {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = ChainFrame;
    using difference_type = std::ptrdiff_t;
    using pointer = const ChainFrame*;
    using reference = const ChainFrame&;

    const ChainFrame& operator*() const { return frame_; }
    const ChainFrame* operator->() const { return &frame_; }
    Iterator& operator++() {
      // The walk steps in file offsets, as FrameRange's does, and derives
      // the position: the bias is added beside the loop's chain of
      // dependent loads (offset, size, next offset), not in it.
      const uint64_t offset = frame_.Frame::end();  // (ChainFrame::end() is a position)
      position_ = offset + bias_;
      Load(offset);
      return *this;
    }
    bool operator==(const Iterator& other) const { return position_ == other.position_; }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class ChainFrameRange;
    Iterator(const ChainFrameRange* range, uint64_t position) : range_(range), position_(position) {
      Load(0);  // no file is open yet: LoadSlow() opens one
    }
    // Reads the frame at position_, which is at `offset` in the open file,
    // or ends the walk (at `to`). The fast path is FrameRange's, in the
    // file's offsets: a walk's offset never passes limit_, so
    // TryReadFrameAt()'s room check also catches the end of the file.
    // LoadSlow() opens a file (the first, or the next when this one ends)
    // and reports damage.
    //
    // Written so that GCC keeps the walk in registers, as it does
    // FrameRange's; each of these was measured in //bench:micro's
    // BM_ChainForward at 32 B against a single file (12-04, GCC 12):
    // - LoadSlow() takes and returns the iterator by value: its address
    //   never leaves the caller's loop (taking `this`, 0.70x: every frame
    //   stored and reloaded the position and the payload span, a
    //   store-forwarding delay on the loop's critical path);
    // - the walk steps in offsets, adding the bias beside the chain of
    //   dependent loads, not in it (0.82x with positions);
    // - the test of base_, redundant with limit_ == 0 before a file is
    //   open, settles it: without it GCC left the frame in memory (0.74x;
    //   0.99x with it).
    ABSL_ATTRIBUTE_ALWAYS_INLINE void Load(uint64_t offset) {
      if (position_ == range_->to_) return;
      // Read straight into frame_ (a Frame): copying a Frame's payload span
      // from another one costs a store-forwarding stall per frame.
      if (ABSL_PREDICT_TRUE(base_ != nullptr) &&
          ABSL_PREDICT_TRUE(TryReadFrameAt(base_, offset, limit_, debug_, &frame_))) {
        frame_.position = position_;
        return;
      }
      *this = LoadSlow(std::move(*this));  // copies once per file, not per frame
    }
    static Iterator LoadSlow(Iterator it);
    // Opens the file holding position_ (the next one when the current file
    // is read to its end) and sets limit_; false after Fail().
    bool OpenFileAtPosition();
    void Fail(const absl::Status& status);

    const ChainFrameRange* range_;
    uint64_t position_;  // == range_->to_ at the end
    ChainFile file_;     // the file position_ lies in, once opened
    // Of file_: its bytes, position - offset, and where the walk stops in
    // it, as an offset: its end (sealed end, or committed for the last
    // file) capped at the range's end. Set once per file: the range's
    // frames were committed when it was made.
    const uint8_t* base_ = nullptr;
    uint64_t bias_ = 0;
    uint64_t limit_ = 0;
    bool debug_ = false;
    ChainFrame frame_;
  };

  // The frames in [from, to) of the chain `files`; `from` must be a frame
  // boundary. The first file may be given when the caller has it open.
  ChainFrameRange(std::shared_ptr<const ChainFiles> files, uint64_t from, uint64_t to,
                  std::optional<ChainFile> first = {});

  Iterator begin() const { return Iterator(this, from_); }
  Iterator end() const { return Iterator(this, to_); }
  uint64_t from() const { return from_; }
  uint64_t to() const { return to_; }
  bool empty() const { return from_ == to_; }
  // OK, or what ended the last walk early (DataLoss for damage, OutOfRange
  // for a file retention removed).
  const absl::Status& status() const { return status_; }

 private:
  std::shared_ptr<const ChainFiles> files_;
  uint64_t from_;
  uint64_t to_;
  std::optional<ChainFile> first_;
  mutable absl::Status status_;
};

// The frames in [from, to), last first, found through the trailing sizes.
class ReverseChainFrameRange {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = ChainFrame;
    using difference_type = std::ptrdiff_t;
    using pointer = const ChainFrame*;
    using reference = const ChainFrame&;

    const ChainFrame& operator*() const { return frame_; }
    const ChainFrame* operator->() const { return &frame_; }
    Iterator& operator++() {
      position_ = frame_.position;
      Load();
      return *this;
    }
    bool operator==(const Iterator& other) const { return position_ == other.position_; }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class ReverseChainFrameRange;
    Iterator(const ReverseChainFrameRange* range, uint64_t position)
        : range_(range), position_(position) {
      Load();
    }
    void Load();
    void Fail(const absl::Status& status);

    const ReverseChainFrameRange* range_;
    uint64_t position_;  // end of the current frame; == range_->from_ at the end
    ChainFile file_;
    ChainFrame frame_;
  };

  ReverseChainFrameRange(std::shared_ptr<const ChainFiles> files, uint64_t from, uint64_t to);

  Iterator begin() const { return Iterator(this, to_); }
  Iterator end() const { return Iterator(this, from_); }
  const absl::Status& status() const { return status_; }

 private:
  std::shared_ptr<const ChainFiles> files_;
  uint64_t from_;
  uint64_t to_;
  mutable absl::Status status_;
};

}  // namespace shmio

#endif  // SHMIO_CHAIN_RANGE_H_
