#include "shmio/consumer.h"

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace shmio {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// How long a header that is not valid must stay so before it is damage: a
// Node writer initialising a fresh file writes its three words one by one.
constexpr int64_t kHeaderConfirmNs = 20 * 1000000;
constexpr int64_t kTornRereadNs = int64_t{Consumer::kTornRereadUs} * 1000;

}  // namespace

Consumer::Consumer(const SharedMemory* shm)
    : shm_(shm),
      base_(shm->data()),
      capacity_(shm->capacity()),
      debug_(shm->debug_checks()) {}

absl::Status Consumer::LoadHeaderIfNeeded() {
  if (data_offset_ != 0) return absl::OkStatus();
  HeaderSnapshot h = shm_->ReadHeader();
  if (h.format == FileFormat::kEmpty) return absl::OkStatus();
  if (h.header_size == format::kHeaderSize && h.data_offset >= format::kHeaderSize &&
      h.data_offset <= shm_->capacity()) {
    data_offset_ = h.data_offset;
    validated_ = data_offset_;
    if (cursor_ == kBeginning) cursor_ = data_offset_;  // the same cursor()
    header_bad_since_ns_ = 0;
    return absl::OkStatus();
  }
  // A Node writer initialising the header may be caught half-way: wait for
  // it to settle before calling it damage.
  int64_t now = NowNs();
  if (header_bad_since_ns_ == 0) header_bad_since_ns_ = now;
  if (now - header_bad_since_ns_ < kHeaderConfirmNs) return absl::OkStatus();
  return absl::DataLossError(absl::StrFormat(
      "%s is damaged: headerSize %d (expected %d) or dataOffset %d (expected "
      "%d to %d) is wrong",
      shm_->path(), h.header_size, format::kHeaderSize, h.data_offset,
      format::kHeaderSize, shm_->capacity()));
}

std::string Consumer::Validate(uint64_t candidate) const {
  const std::string& path = shm_->path();
  if (candidate < data_offset_) {
    return absl::StrFormat(
        "%s is damaged: committed %d is before the first frame, at %d", path,
        candidate, data_offset_);
  }
  if (candidate < validated_) {
    return absl::StrFormat(
        "%s: committed went backwards from %d to %d: the log was rewritten "
        "or re-created; reopen it",
        path, validated_, candidate);
  }
  if (candidate > shm_->capacity()) {
    return absl::StrFormat(
        "%s is damaged: committed %d is beyond the end of the file (%d bytes)",
        path, candidate, shm_->capacity());
  }
  // The new frames must end exactly at the candidate.
  const uint64_t stopped = EndOfWholeFrames(candidate);
  if (stopped == candidate) return "";
  return absl::StrFormat(
      "committed %d is not on a frame boundary: %s", candidate,
      FrameDamageAt(shm_->data(), stopped, candidate, false, path).message());
}

absl::StatusOr<uint64_t> Consumer::CommittedSlow() {
  absl::Status header = LoadHeaderIfNeeded();
  if (!header.ok()) return header;
  if (data_offset_ == 0) return uint64_t{0};  // empty: no writer yet

  // Torn (a Node writer mid-store) or bad: re-read for a moment, then answer
  // with the last good value and keep the episode's start for
  // CommittedProblem().
  const int64_t start = NowNs();
  for (;;) {
    const uint64_t candidate = shm_->LoadCommitted();
    if (candidate == validated_ || IsGenuine(candidate)) {
      unvalidated_since_ns_ = 0;
      return validated_ = candidate;
    }
    const int64_t now = NowNs();
    if (now - start >= kTornRereadNs) {
      if (unvalidated_since_ns_ == 0 || unvalidated_from_ != validated_) {
        unvalidated_since_ns_ = start;
        unvalidated_from_ = validated_;
      }
      return validated_;
    }
    std::this_thread::yield();
  }
}

absl::Duration Consumer::CommittedProblemAge() const {
  if (unvalidated_since_ns_ == 0 || unvalidated_from_ != validated_) {
    return absl::ZeroDuration();
  }
  return absl::Nanoseconds(NowNs() - unvalidated_since_ns_);
}

absl::Status Consumer::CommittedProblem() const {
  if (data_offset_ == 0) return absl::OkStatus();
  const uint64_t candidate = shm_->LoadCommitted();
  if (candidate == validated_ || IsGenuine(candidate)) return absl::OkStatus();
  return absl::DataLossError(absl::StrFormat(
      "%s (for %d ms; frames up to offset %d were validated and are "
      "readable). The header is damaged, or a Node.js writer, which stores "
      "committed one byte at a time, is stopped in the middle of a commit",
      Validate(candidate), absl::ToInt64Milliseconds(CommittedProblemAge()),
      validated_));
}

absl::StatusOr<Batch> Consumer::Next(BatchLimits limits) {
  absl::StatusOr<uint64_t> committed = Committed();
  if (!committed.ok()) return committed.status();
  const uint64_t from = cursor();
  const uint8_t* base = shm_->data();
  uint64_t to = from;
  size_t count = 0;
  uint64_t bytes = 0;
  Frame frame;
  while (to < *committed && count < limits.max_frames) {
    if (!TryReadFrameAt(base, to, *committed, debug_, &frame)) {
      if (count > 0) break;  // deliver the good frames; the error comes next
      return FrameDamageAt(base, to, *committed, debug_, shm_->path());
    }
    // At least one frame per batch, however large.
    if (count > 0 && bytes + frame.payload.size() > limits.max_bytes) break;
    bytes += frame.payload.size();
    ++count;
    to = frame.end();
  }
  if (data_offset_ != 0) cursor_ = to;
  Batch batch{FrameRange(*shm_, from, to, debug_), count, bytes, to, 0, nullptr};
  return batch;
}

absl::Status Consumer::CheckBoundary(uint64_t target, uint64_t committed) const {
  const std::string& path = shm_->path();
  if (data_offset_ == 0) {
    if (target == 0) return absl::OkStatus();
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: cursor %d is past the end of an empty log", path, target));
  }
  if (target > committed) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: cursor %d is past the committed end %d of the log", path, target,
        committed));
  }
  if (target < data_offset_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: cursor %d is before the first frame, at %d", path, target,
        data_offset_));
  }
  // Walk from the nearest boundary we know at or below the target.
  uint64_t position = target >= cursor() ? cursor() : data_offset_;
  const uint8_t* base = shm_->data();
  Frame frame;
  while (position < target) {
    if (!TryReadFrameAt(base, position, committed, debug_, &frame)) {
      return FrameDamageAt(base, position, committed, debug_, path);
    }
    if (frame.end() > target) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: offset %d is not a frame boundary: the frame at %d runs to %d",
          path, target, frame.offset, frame.end()));
    }
    position = frame.end();
  }
  return absl::OkStatus();
}

absl::StatusOr<FrameRange> Consumer::GetData(std::optional<uint64_t> from) {
  absl::StatusOr<uint64_t> committed = Committed();
  if (!committed.ok()) return committed.status();
  uint64_t start = from.value_or(cursor());
  if (from) {
    absl::Status boundary = CheckBoundary(start, *committed);
    if (!boundary.ok()) return boundary;
  }
  return FrameRange(*shm_, start, *committed, debug_);
}

absl::Status Consumer::Seek(uint64_t cursor) {
  if (cursor == kBeginning) {
    cursor_ = data_offset_;  // kBeginning while the header is unknown
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> committed = Committed();
  if (!committed.ok()) return committed.status();
  absl::Status boundary = CheckBoundary(cursor, *committed);
  if (!boundary.ok()) return boundary;
  cursor_ = cursor;
  return absl::OkStatus();
}

absl::Status Consumer::SeekToEnd() {
  absl::StatusOr<uint64_t> committed = Committed();
  if (!committed.ok()) return committed.status();
  cursor_ = data_offset_ == 0 ? kBeginning : *committed;
  return absl::OkStatus();
}

}  // namespace shmio
