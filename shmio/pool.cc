#include "shmio/pool.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"

namespace shmio {
namespace {

// Writes a fresh file's header and extension, then publishes it by storing
// `committed` last (release), so a reader that sees a nonzero committed
// value sees a complete header.
void InitialiseHeader(uint8_t* base, uint64_t capacity,
                      const std::optional<Geometry>& geometry) {
  using namespace format;
  std::memset(base + kMagicOffset, 0, kExtendedDataOffset - kMagicOffset);
  EncodeU64(base + kHeaderSizeOffset, kHeaderSize);
  EncodeU64(base + kDataOffsetOffset, kExtendedDataOffset);
  EncodeU64(base + kMagicOffset, kMagic);
  EncodeU32(base + kVersionOffset, kFormatVersion);
  EncodeU32(base + kFlagsOffset, 0);
  if (geometry) {
    EncodeU64(base + kSegmentSizeOffset, geometry->size);
    EncodeU64(base + kSegmentCountOffset, geometry->num);
    EncodeU64(base + kOverlapOffset, geometry->overlap);
  }
  EncodeU64(base + kCapacityOffset, capacity);
  // Release: publishes the header words above to readers' acquire loads.
  AtomicWord(base, kCommittedOffset).store(kExtendedDataOffset, std::memory_order_release);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(SharedMemory* shm) {
  if (!shm->writable()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s was opened read-only; open it with writable = true to write",
        shm->path()));
  }
  if (shm->has_pool_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s already has a Pool writing through this SharedMemory; use that "
        "one (one writer per log)",
        shm->path()));
  }
  uint8_t* base = shm->mutable_data();
  HeaderSnapshot header = shm->ReadHeader();
  if (header.format == FileFormat::kEmpty) {
    InitialiseHeader(base, shm->capacity(), shm->geometry());
    header = shm->ReadHeader();
  }
  // SharedMemory::Open validated committed and dataOffset for this file, and
  // only a writer (we hold the lock) moves committed.
  bool has_doorbell = header.format == FileFormat::kShmioV1;
  if (has_doorbell) {
    // Relaxed: informational, read by `shmio stat` and error messages only.
    format::AtomicWord(base, format::kWriterPidOffset)
        .store(static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
  }
  shm->has_pool_ = true;
  return std::unique_ptr<Pool>(
      new Pool(shm, header.committed, has_doorbell));
}

Pool::Pool(SharedMemory* shm, uint64_t committed, bool has_doorbell)
    : shm_(shm),
      base_(shm->mutable_data()),
      capacity_(shm->capacity()),
      committed_(committed),
      position_(committed),
      last_frame_start_(0),
      has_doorbell_(has_doorbell),
      fence_free_commit_(has_doorbell && RegisterWriterForDoorbell()),
      debug_(shm->debug_checks()) {
  fast_path_ = active_ && !debug_;
  // Start with an empty fast-path window; the first slice computes it.
  segment_end_ = 0;
  frame_limit_ = 0;
}

Pool::~Pool() { shm_->has_pool_ = false; }

absl::Status Pool::CheckRoom(uint64_t total) {
  const std::optional<Geometry>& g = shm_->geometry();
  uint64_t start = position_;
  if (g) {
    uint64_t k = start / g->size;
    segment_end_ = (k + 1) * g->size;
    frame_limit_ = (k + 1 >= g->num) ? g->num * g->size : segment_end_ + g->overlap;
  } else {
    segment_end_ = capacity_;
    frame_limit_ = capacity_;
  }
  frame_limit_ = std::min(frame_limit_, capacity_);
  if (total > capacity_ - std::min(start, capacity_)) {
    // The original's words, which users grep for.
    uint64_t segment = g ? std::min(start / g->size, g->num - 1) : 0;
    uint64_t in_segment = g ? start - segment * g->size : start;
    return absl::ResourceExhaustedError(absl::StrFormat(
        "Shared memory exhausted: cannot allocate %d bytes (frame of %d) at "
        "offset %d of %s: capacity %d, %d bytes free (buffer %d/%d, index "
        "%d/%d); create a larger log",
        total - format::kFrameOverhead, total, start, shm_->path(), capacity_,
        capacity_ - std::min(start, capacity_), segment, g ? g->num : 1,
        in_segment, g ? g->size : capacity_));
  }
  if (start + total > frame_limit_) {
    uint64_t over = start + total - segment_end_;
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a frame of %d bytes at offset %d would cross the end of segment "
        "%d (offset %d) by %d bytes, more than the overlap of %d allows, so "
        "Node.js readers would see it cut; raise the overlap to at least the "
        "largest frame (%d or more)",
        shm_->path(), total, start, start / g->size, segment_end_, over,
        g->overlap, total));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<uint8_t>> Pool::SliceSizeSlow(size_t n) {
  if (n > format::kMaxPayload) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a payload of %d bytes is over the %d-byte limit of a frame; "
        "split it",
        shm_->path(), n, format::kMaxPayload));
  }
  if (!active_) {
    // The original's setActive(false): hand out memory outside the log.
    scratch_.assign(n, 0);
    return absl::Span<uint8_t>(scratch_.data(), n);
  }
  if (debug_) {
    absl::Status previous = CheckPreviousFrame();
    if (!previous.ok()) return previous;
  }
  uint64_t total = uint64_t{n} + format::kFrameOverhead;
  absl::Status room = CheckRoom(total);
  if (!room.ok()) return room;
  uint8_t* frame = base_ + position_;
  format::EncodeU16(frame, static_cast<uint16_t>(total));
  format::EncodeU16(frame + total - format::kFrameSizeBytes,
                    static_cast<uint16_t>(total));
  last_frame_start_ = position_;
  position_ += total;
  return absl::Span<uint8_t>(frame + format::kFrameSizeBytes, n);
}

absl::Status Pool::Append(absl::Span<const uint8_t> bytes) {
  absl::StatusOr<absl::Span<uint8_t>> slice = SliceSize(bytes.size());
  if (!slice.ok()) return slice.status();
  if (!bytes.empty()) std::memcpy(slice->data(), bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status Pool::CommitChecked() {
  absl::Status previous = CheckPreviousFrame();
  if (!previous.ok()) return previous;
  Publish();
  return absl::OkStatus();
}

absl::Status Pool::CheckPreviousFrame() const {
  if (last_frame_start_ == 0) return absl::OkStatus();
  // The last frame ends at position_, so its sizes are known without
  // trusting the bytes a caller may have overwritten.
  uint64_t expected = position_ - last_frame_start_;
  uint16_t leading = format::DecodeU16(base_ + last_frame_start_);
  uint16_t trailing = format::DecodeU16(base_ + position_ - format::kFrameSizeBytes);
  if (leading == expected && trailing == expected) return absl::OkStatus();
  return absl::DataLossError(absl::StrFormat(
      "[DEBUG] %s: the frame at offset %d should have size %d but its leading "
      "size is %d and its trailing size %d: a slice was written past its end",
      shm_->path(), last_frame_start_, expected, leading, trailing));
}

Pool::Size Pool::GetSize() const { return Size{committed_, position_}; }

Pool::Status Pool::GetStatus() const {
  const std::optional<Geometry>& g = shm_->geometry();
  if (!g) return Status{0, position_};
  uint64_t segment = std::min(position_ / g->size, g->num - 1);
  return Status{segment, position_ - segment * g->size};
}

void Pool::SetActive(bool active) {
  active_ = active;
  fast_path_ = active_ && !debug_;
}

}  // namespace shmio
