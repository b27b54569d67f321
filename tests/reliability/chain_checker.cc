#include "tests/reliability/chain_checker.h"

#include <unistd.h>

#include <limits>
#include <memory>

#include "absl/strings/str_format.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_files.h"
#include "shmio/chain_range.h"
#include "shmio/format.h"

namespace shmio_reliability {
namespace {

absl::Status Annotate(const absl::Status& status, const std::string& directory,
                      const char* what) {
  return absl::Status(status.code(),
                      absl::StrFormat("%s: %s: %s", directory, what, status.message()));
}

}  // namespace

absl::Status ChainChecker::CatchUp() {
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(directory_);
  if (!listing.ok() || listing->files.empty()) {
    if (initialised_) {
      return absl::DataLossError(absl::StrFormat(
          "%s: the chain is gone or empty after it held frames up to position %d (%s)",
          directory_, position_, listing.ok() ? "no files" : listing.status().ToString()));
    }
    return absl::OkStatus();  // no writer has made the first file yet
  }
  // Where the last check stopped (the chain's start before the first one),
  // unless retention removed it since: then at the oldest file's base.
  const uint64_t from = initialised_ ? position_ : 0;
  const uint64_t oldest = listing->files.front().base_position;
  const bool removed = oldest > from;
  shmio::ChainStart start{shmio::ChainStart::kPosition, removed ? oldest : from};
  auto consumer = shmio::ChainConsumer::Open(directory_, start, /*debug_checks=*/true);
  if (!consumer.ok()) return Annotate(consumer.status(), directory_, "open at the saved position");
  if (!initialised_) first_position_ = start.position;
  bool removal_checked = !removed;
  if (removed) {
    ++resumed_after_removal_;
    position_ = oldest;
  }
  for (;;) {
    shmio::BatchLimits limits;
    limits.max_frames = 1 + rng_() % 64;
    absl::StatusOr<shmio::Batch> batch = (*consumer)->Next(limits);
    if (!batch.ok()) return Annotate(batch.status(), directory_, "Next");
    if (batch->empty()) break;
    size_t count = 0;
    for (const shmio::Frame& frame : batch->frames) {
      const uint64_t position = batch->CursorOf(frame);
      if (position != position_) {
        return absl::DataLossError(absl::StrFormat(
            "%s: frame at position %d, expected the next frame at %d", directory_, position,
            position_));
      }
      if (!removal_checked) {
        PayloadInfo info;
        absl::Status status = CheckPayload(frame.payload, position, &info);
        if (!status.ok()) return Annotate(status, directory_, "the oldest frame");
        status = CheckRemoved(from, oldest, listing->files.size(), info.seq);
        if (!status.ok()) return status;
        sequence_.Resume(info.seq);
        removal_checked = true;
      }
      if (!initialised_) {
        initialised_ = true;
        first_seq_ = sequence_.next_seq();
      }
      absl::Status status = sequence_.Check(frame.payload, position);
      if (!status.ok()) return Annotate(status, directory_, "frame");
      position_ = position + (frame.end() - frame.offset);
      ++count;
    }
    if (!batch->frames.status().ok()) {
      return Annotate(batch->frames.status(), directory_, "batch walk");
    }
    if (count != batch->frame_count || batch->next_cursor != position_ ||
        count > limits.max_frames) {
      return absl::InternalError(absl::StrFormat(
          "%s: batch says %d frames (at most %d asked), next cursor %d; it held %d "
          "frames ending at %d",
          directory_, batch->frame_count, limits.max_frames, batch->next_cursor, count,
          position_));
    }
  }
  if (!removal_checked) {
    return absl::DataLossError(absl::StrFormat(
        "%s: positions %d..%d were removed and no frame follows them", directory_, from,
        oldest));
  }
  initialised_ = true;
  if ((*consumer)->cursor() != position_) {
    return absl::InternalError(absl::StrFormat("%s: consumer cursor %d, frames read up to %d",
                                               directory_, (*consumer)->cursor(), position_));
  }
  return sequence_.CheckAtBatchEnd(position_);
}

absl::Status ChainChecker::CheckRemoved(uint64_t from, uint64_t oldest, size_t files,
                                        uint64_t first_seq) const {
  if (retain_files_ == 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: the oldest file begins at position %d, after position %d where the last check "
        "stopped, and this chain has no retention",
        directory_, oldest, from));
  }
  if (files < retain_files_) {
    return absl::DataLossError(absl::StrFormat(
        "%s: positions %d..%d were removed, leaving %d files; retention keeps %d",
        directory_, from, oldest, files, retain_files_));
  }
  // Each removed frame took 20 (the smallest numbered payload and its two
  // sizes) to 65535 bytes: more frames than fit, or bytes without frames,
  // means the seq jump is not the removed range.
  const uint64_t expected = sequence_.next_seq();
  const uint64_t bytes = oldest - from;
  const uint64_t smallest = kMinPayload + shmio::format::kFrameOverhead;
  if (first_seq < expected || (first_seq - expected) * smallest > bytes ||
      (first_seq - expected) * shmio::format::kMaxFrameTotal < bytes) {
    return absl::DataLossError(absl::StrFormat(
        "%s: positions %d..%d (%d bytes) were removed and the oldest frame has seq %d; the "
        "frames there were seq %d onwards, so %d frames cannot have filled them",
        directory_, from, oldest, bytes, first_seq, expected,
        static_cast<int64_t>(first_seq - expected)));
  }
  return absl::OkStatus();
}

absl::Status ChainChecker::CheckFromScratch() const {
  ChainChecker fresh(directory_, 1, retain_files_);
  absl::Status status = fresh.CatchUp();
  if (!status.ok()) return status;
  if (fresh.committed() < committed() || fresh.frames() < frames()) {
    return absl::DataLossError(absl::StrFormat(
        "%s: a fresh reader sees %d frames up to %d; earlier %d frames up to %d", directory_,
        fresh.frames(), fresh.committed(), frames(), committed()));
  }
  if (!fresh.initialised()) return absl::OkStatus();

  auto files = shmio::ChainFiles::Open(directory_, true);
  if (!files.ok()) return files.status();
  absl::StatusOr<shmio::ChainListing> listing = (*files)->List();
  if (!listing.ok()) return listing.status();
  // Each file begins where the one before it ends: no gap, no overlap.
  for (size_t i = 0; i + 1 < listing->files.size(); ++i) {
    auto file = (*files)->OpenFile(listing->files[i].base_position);
    if (!file.ok()) return file.status();
    const uint64_t sealed = file->LoadSealedEnd();
    const uint64_t end = file->PositionOf(sealed != 0 ? sealed : file->shm->LoadCommitted());
    if (end != listing->files[i + 1].base_position) {
      return absl::DataLossError(absl::StrFormat(
          "%s ends at position %d, the next file begins at %d", listing->files[i].path, end,
          listing->files[i + 1].base_position));
    }
  }
  // Backwards from the end through every file's trailing sizes.
  shmio::ReverseChainFrameRange reverse(*files, fresh.first_position_, fresh.committed());
  uint64_t expected_end = fresh.committed();
  uint64_t expected_seq = fresh.frames();
  for (const shmio::ChainFrame& frame : reverse) {
    PayloadInfo info;
    status = CheckPayload(frame.payload, frame.position, &info);
    if (!status.ok()) return Annotate(status, directory_, "reverse walk");
    if (frame.end() != expected_end || info.seq + 1 != expected_seq) {
      return absl::DataLossError(absl::StrFormat(
          "%s: reverse walk found seq %d ending at position %d; expected seq %d ending at %d",
          directory_, info.seq, frame.end(), expected_seq - 1, expected_end));
    }
    expected_end = frame.position;
    --expected_seq;
  }
  if (!reverse.status().ok()) return Annotate(reverse.status(), directory_, "reverse walk");
  if (expected_end != fresh.first_position_ || expected_seq != fresh.first_seq_) {
    return absl::DataLossError(absl::StrFormat(
        "%s: reverse walk stopped at position %d (seq %d); the oldest frame is at %d (seq %d)",
        directory_, expected_end, expected_seq, fresh.first_position_, fresh.first_seq_));
  }
  return absl::OkStatus();
}

bool ChainChecker::UnsealedBeforeLast() const {
  auto files = shmio::ChainFiles::Open(directory_, false);
  if (!files.ok()) return false;
  absl::StatusOr<shmio::ChainListing> listing = (*files)->List();
  if (!listing.ok()) return false;
  for (size_t i = 0; i + 1 < listing->files.size(); ++i) {
    auto file = (*files)->OpenFile(listing->files[i].base_position);
    if (file.ok() && file->LoadSealedEnd() == 0) return true;
  }
  return false;
}

size_t ChainChecker::FileCount() const {
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(directory_);
  return listing.ok() ? listing->files.size() : 0;
}

}  // namespace shmio_reliability
