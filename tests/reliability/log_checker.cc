#include "tests/reliability/log_checker.h"

#include <sys/stat.h>

#include <limits>

#include "absl/strings/str_format.h"
#include "shmio/consumer.h"
#include "shmio/format.h"
#include "shmio/iterator.h"

namespace shmio_reliability {
namespace {

absl::Status Annotate(const absl::Status& status, const std::string& path,
                      const char* what) {
  return absl::Status(status.code(), absl::StrFormat("%s: %s: %s", path, what,
                                                     status.message()));
}

}  // namespace

absl::Status LogChecker::CatchUp() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0 ||
      static_cast<uint64_t>(st.st_size) < shmio::format::kHeaderSize) {
    if (initialised()) {
      return absl::DataLossError(absl::StrFormat(
          "%s: the log vanished or shrank to %d bytes after it held frames",
          path_, static_cast<int64_t>(st.st_size)));
    }
    return absl::OkStatus();
  }
  shmio::Options options;
  options.path = path_;
  options.debug_checks = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return Annotate(shm.status(), path_, "open read-only");
  return CatchUp(**shm);
}

absl::Status LogChecker::CatchUp(const shmio::SharedMemory& shm) {
  shmio::Consumer consumer(&shm);
  absl::StatusOr<uint64_t> committed = consumer.Committed();
  if (!committed.ok()) return Annotate(committed.status(), path_, "Committed");
  if (*committed == 0) {
    // All-zero header: no writer has initialised the file yet.
    if (initialised()) {
      return absl::DataLossError(absl::StrFormat(
          "%s: header reads as fresh (all zero) after it held frames up to %d",
          path_, committed_));
    }
    return absl::OkStatus();
  }
  if (!initialised()) {
    data_offset_ = consumer.cursor();
    committed_ = data_offset_;
  }
  if (*committed < committed_) {
    return absl::DataLossError(absl::StrFormat(
        "%s: committed went backwards from %d to %d", path_, committed_,
        *committed));
  }
  absl::Status status = consumer.Seek(committed_);
  if (!status.ok()) return Annotate(status, path_, "Seek to saved cursor");

  for (;;) {
    shmio::BatchLimits limits;
    limits.max_frames = 1 + rng_() % 64;
    limits.max_bytes = rng_() % 2 ? std::numeric_limits<size_t>::max()
                                  : 1 + rng_() % 100000;
    absl::StatusOr<shmio::Batch> batch = consumer.Next(limits);
    if (!batch.ok()) return Annotate(batch.status(), path_, "Next");
    if (batch->empty()) break;
    if (batch->frame_count > limits.max_frames) {
      return absl::InternalError(absl::StrFormat(
          "%s: batch of %d frames exceeds max_frames %d", path_,
          batch->frame_count, limits.max_frames));
    }
    size_t count = 0;
    uint64_t payload_bytes = 0;
    for (const shmio::Frame& frame : batch->frames) {
      if (frame.offset != committed_) {
        return absl::DataLossError(absl::StrFormat(
            "%s: frame at %d, expected the next frame at %d", path_,
            frame.offset, committed_));
      }
      status = sequence_.Check(frame.payload, frame.offset);
      if (!status.ok()) return Annotate(status, path_, "frame");
      committed_ = frame.end();
      ++count;
      payload_bytes += frame.payload.size();
    }
    if (!batch->frames.status().ok()) {
      return Annotate(batch->frames.status(), path_, "batch walk");
    }
    if (count != batch->frame_count || committed_ != batch->next_cursor ||
        payload_bytes != batch->payload_bytes) {
      return absl::InternalError(absl::StrFormat(
          "%s: batch says %d frames, %d payload bytes, next cursor %d; its "
          "range held %d frames, %d bytes, ending at %d",
          path_, batch->frame_count, batch->payload_bytes, batch->next_cursor,
          count, payload_bytes, committed_));
    }
    if (count > 1 && payload_bytes > limits.max_bytes) {
      return absl::InternalError(absl::StrFormat(
          "%s: batch of %d frames holds %d payload bytes, over max_bytes %d",
          path_, count, payload_bytes, limits.max_bytes));
    }
  }
  // Caught up: the cursor sits on a committed value, which must close a
  // batch (a batch is published all at once or not at all).
  if (consumer.cursor() != committed_) {
    return absl::InternalError(absl::StrFormat(
        "%s: consumer cursor %d, frames read up to %d", path_,
        consumer.cursor(), committed_));
  }
  return sequence_.CheckAtBatchEnd(committed_);
}

absl::Status LogChecker::CheckFromScratch() const {
  shmio::Options options;
  options.path = path_;
  options.debug_checks = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return Annotate(shm.status(), path_, "open read-only");
  LogChecker fresh(path_);
  absl::Status status = fresh.CatchUp(**shm);
  if (!status.ok()) return status;
  if (fresh.committed() < committed_ || fresh.frames() < frames()) {
    return absl::DataLossError(absl::StrFormat(
        "%s: a fresh reader sees %d frames up to %d; earlier %d frames up to %d",
        path_, fresh.frames(), fresh.committed(), frames(), committed_));
  }
  if (!fresh.initialised()) return absl::OkStatus();

  // Backwards from the committed value through the trailing sizes.
  shmio::ReverseFrameRange reverse(**shm, fresh.data_offset(),
                                   fresh.committed(), true);
  uint64_t expected_end = fresh.committed();
  uint64_t expected_seq = fresh.frames();
  for (const shmio::Frame& frame : reverse) {
    PayloadInfo info;
    status = CheckPayload(frame.payload, frame.offset, &info);
    if (!status.ok()) return Annotate(status, path_, "reverse walk");
    if (frame.end() != expected_end || info.seq + 1 != expected_seq) {
      return absl::DataLossError(absl::StrFormat(
          "%s: reverse walk found seq %d ending at %d; expected seq %d ending "
          "at %d",
          path_, info.seq, frame.end(), expected_seq - 1, expected_end));
    }
    expected_end = frame.offset;
    --expected_seq;
  }
  if (!reverse.status().ok()) {
    return Annotate(reverse.status(), path_, "reverse walk");
  }
  if (expected_end != fresh.data_offset() || expected_seq != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: reverse walk stopped at %d with %d frames unseen", path_,
        expected_end, expected_seq));
  }
  return absl::OkStatus();
}

}  // namespace shmio_reliability
