// ChainConsumer: a reader of a chain (chain_writer.h) with a position that
// it can save and resume, and the same calls as Consumer, in positions: it
// reads the current file with a Consumer and, once it has read a sealed
// file to its end, moves on to the next by itself.
//
//   auto chain = shmio::ChainConsumer::Open("/dev/shm/events");
//   absl::StatusOr<shmio::Batch> batch = (*chain)->Next();
//   for (const shmio::Frame& frame : batch->frames) Use(frame.payload);
//   Save(batch->next_cursor);  // a position; Seek() to it later
//
// A batch never spans two files; `batch.CursorOf(frame)` is a frame's
// position. The batch holds its file, so its payload spans stay valid as
// long as the Batch lives, also after the consumer moved on and retention
// removed the file.
//
// Retention: a reader of a chain is not protected from retention (named
// readers are, in a later issue). A file the consumer has open stays
// readable to its end after retention unlinks it; a file it has not opened
// yet may be gone: then Next() and Poll() fail with OutOfRange naming the
// frames lost and the oldest position still there (Seek() there to go on).
//
// Thread safety: one thread per ChainConsumer, as Consumer.
//
// Invariants: cursor() is a frame boundary of the current file, at or below
// its last validated committed value, as a position.
#ifndef SHMIO_CHAIN_CONSUMER_H_
#define SHMIO_CHAIN_CONSUMER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "shmio/chain_files.h"
#include "shmio/consumer.h"

namespace shmio {

class ChainFrameRange;

// Where a ChainConsumer starts.
struct ChainStart {
  enum Kind { kBeginning, kEnd, kPosition };
  Kind kind = kBeginning;  // kBeginning: the oldest frame still in the chain
  uint64_t position = 0;   // with kPosition: a frame boundary (a saved cursor)
};

class ChainConsumer {
 public:
  // Opens the chain in `directory` read-only (it never writes), at `start`.
  // Errors: those of ChainFiles::Open (NotFound, "not a chain"), OutOfRange
  // or InvalidArgument for a bad start position, DataLoss for a file that is
  // not where it should be.
  static absl::StatusOr<std::unique_ptr<ChainConsumer>> Open(
      const std::string& directory, ChainStart start = {}, bool debug_checks = false);

  // The next run of frames after the cursor, from one file, up to its
  // committed value and `limits`; moves the cursor past it, and on to the
  // next file when the current one is sealed and read. Empty: nothing new.
  absl::StatusOr<Batch> Next(BatchLimits limits = {});

  // As Consumer::Poll: calls visit(frame) or visit(frame, position) for
  // each new frame of the current file, at most `max_frames`, moving the
  // cursor past each first; moves to the next file when this one is sealed
  // and read. Returns how many.
  template <typename Visit>
  absl::StatusOr<size_t> Poll(Visit&& visit,
                              size_t max_frames = std::numeric_limits<size_t>::max()) {
    for (int hop = 0; hop < 2; ++hop) {
      const uint64_t bias = file_.base_position - file_.data_offset;
      absl::StatusOr<size_t> count = consumer_->Poll(
          [&](const Frame& frame) {
            if constexpr (std::is_invocable_v<Visit, const Frame&, uint64_t>) {
              visit(frame, frame.offset + bias);
            } else {
              visit(frame);
            }
          },
          max_frames);
      if (!count.ok() || *count > 0) return count;
      absl::StatusOr<bool> moved = MoveOnIfFinished();
      if (!moved.ok()) return moved.status();
      if (!*moved) return count;
    }
    return size_t{0};
  }

  // As Consumer::SpinUntilNew, for the current file: also true when the
  // file is sealed and read (the next Poll() or Next() moves on).
  bool SpinUntilNew(absl::Time deadline);

  // The frames in [from, the chain's committed end at call time), across
  // files; `from` defaults to the cursor. Does not move the cursor.
  absl::StatusOr<ChainFrameRange> GetData(std::optional<uint64_t> from = {});

  // Moves the cursor to `position`, a frame boundary of the chain.
  // OutOfRange past the committed end, or before the oldest position still
  // there (naming it); InvalidArgument when not a frame boundary.
  absl::Status Seek(uint64_t position);
  // Moves the cursor to the chain's committed end: only new frames follow.
  absl::Status SeekToEnd();
  // Moves the cursor to the oldest frame still in the chain.
  absl::Status SeekToBeginning();

  // The position of the next frame to read.
  // (A fresh Consumer's cursor is 0, "the first frame": the file's base.)
  uint64_t cursor() const {
    const uint64_t offset = consumer_->cursor();
    return offset < file_.data_offset ? file_.base_position : file_.PositionOf(offset);
  }

  // The committed end of the current file, as a position (the chain's, when
  // the current file is the last). Errors as Consumer::Committed().
  absl::StatusOr<uint64_t> Committed();

  // As Consumer::CommittedProblem, for the current file.
  absl::Status CommittedProblem() const { return consumer_->CommittedProblem(); }
  absl::Duration CommittedProblemAge() const { return consumer_->CommittedProblemAge(); }

  // The file being read, and how many times the consumer moved to another
  // one (a follower re-arms its watch on each move).
  const SharedMemory& current_file() const { return *file_.shm; }
  const ChainFile& current() const { return file_; }
  uint64_t file_changes() const { return file_changes_; }
  const ChainFiles& files() const { return *files_; }

 private:
  ChainConsumer(std::shared_ptr<ChainFiles> files, ChainFile file);
  // Makes `file` the current one, its cursor at `offset` (0: its first frame).
  absl::Status Switch(ChainFile file, uint64_t offset);
  // When the current file is sealed and read to its end, moves to the next
  // one and returns true.
  absl::StatusOr<bool> MoveOnIfFinished();

  std::shared_ptr<ChainFiles> files_;
  ChainFile file_;
  std::unique_ptr<Consumer> consumer_;  // reads file_
  uint64_t file_changes_ = 0;
};

}  // namespace shmio

#endif  // SHMIO_CHAIN_CONSUMER_H_
