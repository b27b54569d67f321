#include "tests/reliability/chain_checker.h"

#include <unistd.h>

#include <limits>
#include <memory>

#include "absl/strings/str_format.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_files.h"
#include "shmio/chain_range.h"

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
  shmio::ChainStart start;
  if (initialised_) start = {shmio::ChainStart::kPosition, position_};
  auto consumer = shmio::ChainConsumer::Open(directory_, start, /*debug_checks=*/true);
  if (!consumer.ok()) return Annotate(consumer.status(), directory_, "open at the saved position");
  if (!initialised_) {
    initialised_ = true;
    position_ = (*consumer)->cursor();
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
  if ((*consumer)->cursor() != position_) {
    return absl::InternalError(absl::StrFormat("%s: consumer cursor %d, frames read up to %d",
                                               directory_, (*consumer)->cursor(), position_));
  }
  return sequence_.CheckAtBatchEnd(position_);
}

absl::Status ChainChecker::CheckFromScratch() const {
  ChainChecker fresh(directory_);
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
  shmio::ReverseChainFrameRange reverse(*files, 0, fresh.committed());
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
  if (expected_end != 0 || expected_seq != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: reverse walk stopped at position %d with %d frames unseen", directory_,
        expected_end, expected_seq));
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
