#include "tests/fuzz/log_exerciser.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "shmio/consumer.h"
#include "shmio/format.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/fuzz/fuzz_support.h"

namespace shmio_fuzz {
namespace {

using shmio::format::DecodeU64;

// Files in /dev/shm named after the process, rewritten for every input.
std::string InputPathOf(pid_t pid) {
  return absl::StrCat("/dev/shm/shmio-fuzz-", pid, "-input");
}
std::string WritablePathOf(pid_t pid) {
  return absl::StrCat("/dev/shm/shmio-fuzz-", pid, "-writable");
}
// Not cached: a forked child must use its own pid.
std::string InputPath() { return InputPathOf(getpid()); }
std::string WritablePath() { return WritablePathOf(getpid()); }

// Removes the files when the process exits normally.
struct Cleanup {
  ~Cleanup() { RemoveScratchFiles(getpid()); }
};

// A frame must lie inside [from, to) and inside the mapping.
void CheckFrameWithin(const shmio::SharedMemory& shm, const shmio::Frame& frame,
                      uint64_t from, uint64_t to, const char* api) {
  const uint8_t* base = shm.data();
  EXPECT_PROMISE(frame.offset >= from && frame.end() <= to &&
                     to <= shm.capacity(),
                 "%s: frame [%d, %d) outside the range [%d, %d) of a %d-byte "
                 "file",
                 api, frame.offset, frame.end(), from, to, shm.capacity());
  EXPECT_PROMISE(frame.payload.data() == base + frame.offset + 2,
                 "%s: payload of the frame at %d does not start after its "
                 "leading size",
                 api, frame.offset);
}

struct Walk {
  std::vector<uint64_t> offsets;  // frame starts, in walk order
  uint64_t reached = 0;           // where the walk stopped
  absl::Status status;
};

Walk WalkForward(const shmio::SharedMemory& shm, uint64_t from, uint64_t to,
                 bool debug) {
  Walk walk;
  shmio::FrameRange range(shm, from, to, debug);
  walk.reached = range.from();
  for (const shmio::Frame& frame : range) {
    CheckFrameWithin(shm, frame, from, to, "FrameRange");
    EXPECT_PROMISE(frame.offset == walk.reached,
                   "FrameRange: frame at %d, previous ended at %d",
                   frame.offset, walk.reached);
    walk.offsets.push_back(frame.offset);
    walk.reached = frame.end();
  }
  walk.status = range.status();
  if (from > to || to > shm.capacity()) {
    EXPECT_PROMISE(!walk.status.ok() && walk.offsets.empty(),
                   "FrameRange [%d, %d) beyond a %d-byte file gave frames or "
                   "no error",
                   from, to, shm.capacity());
  } else if (walk.status.ok()) {
    EXPECT_PROMISE(walk.reached == to,
                   "FrameRange [%d, %d) stopped at %d without an error", from,
                   to, walk.reached);
  }
  return walk;
}

Walk WalkBackward(const shmio::SharedMemory& shm, uint64_t from, uint64_t to,
                  bool debug) {
  Walk walk;
  shmio::ReverseFrameRange range(shm, from, to, debug);
  walk.reached = to;
  bool in_file = from <= to && to <= shm.capacity();
  for (const shmio::Frame& frame : range) {
    CheckFrameWithin(shm, frame, from, to, "ReverseFrameRange");
    EXPECT_PROMISE(frame.end() == walk.reached,
                   "ReverseFrameRange: frame ends at %d, next started at %d",
                   frame.end(), walk.reached);
    walk.offsets.push_back(frame.offset);
    walk.reached = frame.offset;
  }
  walk.status = range.status();
  if (!in_file) {
    EXPECT_PROMISE(!walk.status.ok() && walk.offsets.empty(),
                   "ReverseFrameRange [%d, %d) beyond a %d-byte file gave "
                   "frames or no error",
                   from, to, shm.capacity());
  } else if (walk.status.ok()) {
    EXPECT_PROMISE(walk.reached == from,
                   "ReverseFrameRange [%d, %d) stopped at %d without an error",
                   from, to, walk.reached);
  }
  return walk;
}

// With debug checks (leading == trailing), a range is whole frames walking
// forwards exactly when it is walking backwards, and the frames are the same.
void CheckWalksAgree(const shmio::SharedMemory& shm, uint64_t from,
                     uint64_t to) {
  Walk forward = WalkForward(shm, from, to, true);
  Walk backward = WalkBackward(shm, from, to, true);
  if (from > to || to > shm.capacity()) return;
  EXPECT_PROMISE(forward.status.ok() == backward.status.ok(),
                 "[%d, %d) with debug checks: forward walk %s, backward walk "
                 "%s",
                 from, to, forward.status.ToString(),
                 backward.status.ToString());
  if (forward.status.ok()) {
    std::vector<uint64_t> reversed(backward.offsets.rbegin(),
                                   backward.offsets.rend());
    EXPECT_PROMISE(reversed == forward.offsets,
                   "[%d, %d): forward and backward walks found different "
                   "frames (%d vs %d)",
                   from, to, forward.offsets.size(), backward.offsets.size());
  }
  if (!forward.status.ok()) {
    EXPECT_PROMISE(absl::IsDataLoss(forward.status),
                   "a damaged frame must be DataLoss, got %s",
                   forward.status.ToString());
  }
  // Without debug checks the forward walk reads leading sizes only, so it
  // may pass over damage the backward walk reports; but where both walks
  // succeed they find the same frames (a backward walk never invents one).
  Walk plain_forward = WalkForward(shm, from, to, false);
  Walk plain_backward = WalkBackward(shm, from, to, false);
  if (plain_forward.status.ok() && plain_backward.status.ok()) {
    std::vector<uint64_t> reversed(plain_backward.offsets.rbegin(),
                                   plain_backward.offsets.rend());
    EXPECT_PROMISE(reversed == plain_forward.offsets,
                   "[%d, %d) without debug checks: forward and backward walks "
                   "both succeed but find different frames (%d vs %d)",
                   from, to, plain_forward.offsets.size(),
                   plain_backward.offsets.size());
  }
}

// Reads everything through a Consumer in small batches and checks it against
// a debug walk of [data_offset, committed).
void ExerciseConsumer(const shmio::SharedMemory& shm, const uint8_t* data,
                      size_t size) {
  shmio::Consumer consumer(&shm);
  absl::StatusOr<uint64_t> committed = consumer.Committed();
  uint64_t raw_committed = size >= 24 ? DecodeU64(data + 16) : 0;
  uint64_t data_offset = size >= 24 ? DecodeU64(data + 8) : 0;
  if (!committed.ok()) {
    // Only a damaged header is an error; a committed value is never one.
    EXPECT_PROMISE(absl::IsDataLoss(committed.status()),
                   "Committed() on a damaged file: %s",
                   committed.status().ToString());
    return;  // every further call would give the same error
  }
  if (*committed == 0) {
    EXPECT_PROMISE(raw_committed == 0,
                   "Committed() says empty, the header says %d",
                   raw_committed);
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    EXPECT_PROMISE(batch.ok() && batch->empty(),
                   "Next() on an empty log gave frames or an error");
    return;
  }
  if (*committed != raw_committed) {
    // A value it could not validate: nothing is delivered (the first
    // frame's offset is the only value a fresh Consumer knows to be
    // genuine), and CommittedProblem() says why, naming the file.
    absl::Status problem = consumer.CommittedProblem();
    EXPECT_PROMISE(*committed == data_offset,
                   "Committed() = %d for a header value %d it did not "
                   "validate; a fresh Consumer may only answer %d",
                   *committed, raw_committed, data_offset);
    EXPECT_PROMISE(absl::IsDataLoss(problem) &&
                       absl::StrContains(problem.message(), shm.path()),
                   "CommittedProblem() for the unvalidated value %d: %s",
                   raw_committed, problem.ToString());
    // It is right to refuse only a value that does not end a run of whole
    // frames (checked by a plain walk).
    if (data_offset <= raw_committed && raw_committed <= shm.capacity()) {
      Walk walk = WalkForward(shm, data_offset, raw_committed, false);
      EXPECT_PROMISE(!walk.status.ok(),
                     "Committed() refused %d, but [%d, %d) is whole frames",
                     raw_committed, data_offset, raw_committed);
    }
  }
  EXPECT_PROMISE(data_offset <= *committed && *committed <= shm.capacity(),
                 "Committed() = %d; header says dataOffset %d, committed %d, "
                 "file %d bytes",
                 *committed, data_offset, raw_committed, shm.capacity());
  Walk expected = WalkForward(shm, data_offset, *committed, shm.debug_checks());

  // Next() in batches of 1..3 frames and a small byte limit.
  std::vector<uint64_t> seen;
  absl::Status error;
  for (size_t turn = 0; turn < 100000; ++turn) {
    shmio::BatchLimits limits;
    limits.max_frames = 1 + turn % 3;
    limits.max_bytes = 1 + (turn * 37) % 300;
    uint64_t before = consumer.cursor();
    absl::StatusOr<shmio::Batch> batch = consumer.Next(limits);
    if (!batch.ok()) {
      error = batch.status();
      EXPECT_PROMISE(consumer.cursor() == before,
                     "a failed Next() moved the cursor from %d to %d", before,
                     consumer.cursor());
      break;
    }
    if (batch->empty()) break;
    EXPECT_PROMISE(batch->frame_count <= limits.max_frames,
                   "Next(): %d frames, limit %d", batch->frame_count,
                   limits.max_frames);
    size_t count = 0;
    for (const shmio::Frame& frame : batch->frames) {
      CheckFrameWithin(shm, frame, data_offset, *committed, "Next");
      seen.push_back(frame.offset);
      ++count;
    }
    EXPECT_PROMISE(count == batch->frame_count && batch->frames.status().ok(),
                   "Next(): batch says %d frames, its range held %d (%s)",
                   batch->frame_count, count,
                   batch->frames.status().ToString());
  }
  EXPECT_PROMISE(seen == expected.offsets,
                 "Next() delivered %d frames, a walk of [%d, %d) finds %d",
                 seen.size(), data_offset, *committed, expected.offsets.size());
  EXPECT_PROMISE(error.ok() == expected.status.ok(),
                 "Next(): %s; walk of [%d, %d): %s", error.ToString(),
                 data_offset, *committed, expected.status.ToString());
  EXPECT_PROMISE(error.ok() || absl::IsDataLoss(error),
                 "damage must be DataLoss: %s", error.ToString());

  // Poll() in runs of 1..3 frames must deliver the same frames and error,
  // and SpinUntilNew() must say whether anything is left.
  shmio::Consumer poller(&shm);
  std::vector<uint64_t> polled;
  absl::Status poll_error;
  for (size_t turn = 0; turn < 100000; ++turn) {
    const bool more = poller.SpinUntilNew(absl::InfinitePast());
    absl::StatusOr<size_t> frames = poller.Poll(
        [&](const shmio::Frame& frame) {
          CheckFrameWithin(shm, frame, data_offset, *committed, "Poll");
          polled.push_back(frame.offset);
        },
        1 + turn % 3);
    if (!frames.ok()) {
      poll_error = frames.status();
      break;
    }
    if (*frames == 0) {
      // (A value that does not validate also wakes SpinUntilNew(); Poll()
      // then finds nothing, and CommittedProblem() says why.)
      EXPECT_PROMISE(!more || poller.cursor() != *committed ||
                         !poller.CommittedProblem().ok(),
                     "SpinUntilNew() said frames were waiting at %d, the end",
                     poller.cursor());
      break;
    }
  }
  EXPECT_PROMISE(polled == seen,
                 "Poll() delivered %d frames, Next() %d", polled.size(), seen.size());
  EXPECT_PROMISE(poll_error.ok() == error.ok(), "Poll(): %s; Next(): %s",
                 poll_error.ToString(), error.ToString());

  // GetData from the beginning must be the same walk.
  absl::StatusOr<shmio::FrameRange> all = consumer.GetData(data_offset);
  if (all.ok()) {
    std::vector<uint64_t> offsets;
    for (const shmio::Frame& frame : *all) {
      CheckFrameWithin(shm, frame, data_offset, *committed, "GetData");
      offsets.push_back(frame.offset);
    }
    EXPECT_PROMISE(offsets == expected.offsets,
                   "GetData(%d) gave %d frames, a walk finds %d", data_offset,
                   offsets.size(), expected.offsets.size());
  }

  // Seek to boundaries and non-boundaries; Next() after a good Seek.
  std::vector<uint64_t> targets = {data_offset, *committed, *committed + 1,
                                   data_offset + 1,
                                   std::numeric_limits<uint64_t>::max()};
  if (!expected.offsets.empty()) {
    targets.push_back(expected.offsets[expected.offsets.size() / 2]);
    targets.push_back(expected.offsets.back());
  }
  for (uint64_t target : targets) {
    absl::Status sought = consumer.Seek(target);
    if (!sought.ok()) continue;
    EXPECT_PROMISE(target >= data_offset && target <= *committed,
                   "Seek(%d) accepted a cursor outside [%d, %d]", target,
                   data_offset, *committed);
    EXPECT_PROMISE(consumer.cursor() == target, "Seek(%d) left cursor at %d",
                   target, consumer.cursor());
    absl::StatusOr<shmio::Batch> batch = consumer.Next({4, 1000});
    if (batch.ok()) {
      for (const shmio::Frame& frame : batch->frames) {
        CheckFrameWithin(shm, frame, target, *committed, "Next after Seek");
      }
    }
    absl::StatusOr<shmio::FrameRange> from_here = consumer.GetData(target);
    if (from_here.ok()) {
      for (const shmio::Frame& frame : *from_here) {
        CheckFrameWithin(shm, frame, target, *committed, "GetData(cursor)");
      }
    }
  }
  absl::Status end = consumer.SeekToEnd();
  if (end.ok()) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    EXPECT_PROMISE(!batch.ok() || batch->empty(),
                   "Next() after SeekToEnd() gave frames");
  }
}

// The writer on a copy: if it accepts the file, a frame it commits must be
// readable exactly where it says, and the bytes below the old committed
// value must be untouched.
void ExerciseWriter(const uint8_t* data, size_t size) {
  WriteFile(WritablePath(), data, size);
  shmio::Options options;
  options.path = WritablePath();
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return;
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return;
  uint64_t old_committed = (*pool)->GetSize().committed;
  const uint8_t payload[] = {'f', 'u', 'z', 'z'};
  if (!(*pool)->Append(payload).ok()) return;
  absl::Status committed = (*pool)->Commit();
  if (!committed.ok()) return;
  uint64_t new_committed = (*pool)->GetSize().committed;
  EXPECT_PROMISE(new_committed == old_committed + sizeof payload + 4 &&
                     new_committed == (*shm)->LoadCommitted() &&
                     new_committed <= (*shm)->capacity(),
                 "Commit() of one 4-byte frame at %d published %d (file %d "
                 "bytes)",
                 old_committed, new_committed, (*shm)->capacity());
  shmio::Frame frame;
  EXPECT_PROMISE(shmio::TryReadFrameAt((*shm)->data(), old_committed,
                                       new_committed, true, &frame) &&
                     frame.payload.size() == sizeof payload &&
                     std::equal(frame.payload.begin(), frame.payload.end(),
                                payload),
                 "the committed frame at %d does not read back",
                 old_committed);
  uint64_t data_offset = (*shm)->ReadHeader().data_offset;
  if (size >= 24 && DecodeU64(data + 16) != 0) {
    // Not a fresh file: the writer must not have rewritten committed bytes.
    EXPECT_PROMISE(
        std::equal(data + data_offset, data + old_committed,
                   (*shm)->data() + data_offset),
        "the writer changed committed bytes in [%d, %d)", data_offset,
        old_committed);
  }
}

}  // namespace

void RemoveScratchFiles(pid_t pid) {
  unlink(InputPathOf(pid).c_str());
  unlink(WritablePathOf(pid).c_str());
}

void ExerciseLogBytes(const uint8_t* data, size_t size) {
  static Cleanup cleanup;
  const std::string input_path = InputPath();
  WriteFile(input_path, data, size);
  shmio::Options options;
  options.path = input_path;
  options.debug_checks = true;
  auto opened = shmio::SharedMemory::Open(options);
  if (size < shmio::format::kHeaderSize) {
    EXPECT_PROMISE(!opened.ok(), "a %d-byte file opened as a log", size);
  }
  if (!opened.ok()) {
    EXPECT_PROMISE(!absl::IsInternal(opened.status()) &&
                       absl::StrContains(opened.status().message(), input_path),
                   "Open() error must name the file: %s",
                   opened.status().ToString());
    return;
  }
  const shmio::SharedMemory& shm = **opened;
  EXPECT_PROMISE(shm.capacity() == size, "capacity %d of a %d-byte file",
                 shm.capacity(), size);
  uint64_t header_size = DecodeU64(data);
  uint64_t data_offset = DecodeU64(data + 8);
  uint64_t committed = DecodeU64(data + 16);
  if (committed != 0) {
    // A reader may open a log whatever its committed value says (the
    // Consumer validates it); the other header words must be sound.
    EXPECT_PROMISE(header_size == 24 && data_offset >= 24 && data_offset <= size,
                   "opened a file with headerSize %d, dataOffset %d, "
                   "committed %d, %d bytes",
                   header_size, data_offset, committed, size);
  }
  shmio::HeaderSnapshot header = shm.ReadHeader();
  EXPECT_PROMISE(header.committed == committed,
                 "ReadHeader().committed %d, bytes say %d", header.committed,
                 committed);

  // A geometry in force describes this file (Open validates the extension
  // before anything trusts it); checked before GetBuffers(), which makes
  // one view per segment.
  if (const std::optional<shmio::Geometry>& g = shm.geometry()) {
    EXPECT_PROMISE(g->size >= shmio::format::kMinSegmentSize && g->num > 0 &&
                       g->num <= shmio::format::kMaxSegmentCount &&
                       g->overlap < g->size &&
                       g->num <= shm.capacity() / g->size &&
                       g->size * g->num == shm.capacity(),
                   "opened a %d-byte file with geometry size %d, num %d, "
                   "overlap %d",
                   shm.capacity(), g->size, g->num, g->overlap);
  }
  // Views of the segments stay inside the mapping.
  for (absl::Span<const uint8_t> buffer : shm.GetBuffers()) {
    EXPECT_PROMISE(buffer.data() >= shm.data() &&
                       buffer.data() + buffer.size() <=
                           shm.data() + shm.capacity(),
                   "GetBuffers(): a view outside the %d-byte mapping",
                   shm.capacity());
  }

  // The verify walk: the header's own range, with and without debug
  // checks, and ranges chosen by the input itself.
  CheckWalksAgree(shm, data_offset, committed);
  WalkForward(shm, data_offset, committed, false);
  WalkBackward(shm, data_offset, committed, false);
  if (size >= 32) {
    uint64_t from = DecodeU64(data + 24) % (size + 2);
    uint64_t to = from + (size >= 40 ? DecodeU64(data + 32) % (size + 2) : 0);
    CheckWalksAgree(shm, from, to);
    WalkForward(shm, from, to, false);
    WalkBackward(shm, from, to, false);
    if (to <= size && from <= to) {
      shmio::Frame frame;
      if (shmio::TryReadFrameAt(shm.data(), from, to, false, &frame)) {
        CheckFrameWithin(shm, frame, from, to, "TryReadFrameAt");
      }
      if (shmio::TryReadFrameBefore(shm.data(), to, from, &frame)) {
        CheckFrameWithin(shm, frame, from, to, "TryReadFrameBefore");
      }
    }
  }

  ExerciseConsumer(shm, data, size);
  ExerciseWriter(data, size);
}

}  // namespace shmio_fuzz
