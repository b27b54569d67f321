#include "shmio/pool.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_format.h"

namespace shmio {
namespace {

// Writes a fresh file's header and extension, then publishes it by storing
// `committed` last (release), so a reader that sees a nonzero committed
// value sees a complete header.
void InitialiseHeader(uint8_t* base, uint64_t capacity,
                      const std::optional<Geometry>& geometry,
                      const std::optional<ChainFileInfo>& chain = std::nullopt) {
  using namespace format;
  std::memset(base + kMagicOffset, 0, kExtendedDataOffset - kMagicOffset);
  EncodeU64(base + kHeaderSizeOffset, kHeaderSize);
  EncodeU64(base + kDataOffsetOffset, kExtendedDataOffset);
  EncodeU64(base + kMagicOffset, kMagic);
  EncodeU32(base + kVersionOffset, kFormatVersion);
  EncodeU32(base + kFlagsOffset, chain ? kFlagChainFile : 0);
  if (chain) {
    EncodeU64(base + kFileSequenceOffset, chain->sequence);
    EncodeU64(base + kBasePositionOffset, chain->base_position);
    EncodeU64(base + kChainIdOffset, chain->chain_id);
  }
  if (geometry) {
    EncodeU64(base + kSegmentSizeOffset, geometry->size);
    EncodeU64(base + kSegmentCountOffset, geometry->num);
    EncodeU64(base + kOverlapOffset, geometry->overlap);
  }
  EncodeU64(base + kCapacityOffset, capacity);
  std::memcpy(base + kDebugSentinelOffset, kDebugSentinel, sizeof kDebugSentinel);
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
  if (shm->forked_from() != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: this process (pid %d) is a fork() child of the process that "
        "opened it for writing (pid %d), and may not write through it; open "
        "the log again in this process",
        shm->path(), getpid(), shm->forked_from()));
  }
  if (shm->pool_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s already has a Pool writing through this SharedMemory; use that "
        "one (one writer per log)",
        shm->path()));
  }
  if (shm->ReadHeader().format == FileFormat::kEmpty) {
    InitialiseHeader(shm->mutable_data(), shm->capacity(), shm->geometry());
  }
  return Adopt(shm, /*chain_writer=*/false);
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::CreateChainFile(
    SharedMemory* shm, const ChainFileInfo& chain) {
  if (!shm->writable() || shm->ReadHeader().format != FileFormat::kEmpty ||
      shm->pool_ != nullptr || shm->forked_from() != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a chain file is made from a fresh, writable file with no writer "
        "yet",
        shm->path()));
  }
  InitialiseHeader(shm->mutable_data(), shm->capacity(), shm->geometry(), chain);
  return Adopt(shm, /*chain_writer=*/true);
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::ContinueChainFile(SharedMemory* shm) {
  if (!shm->writable() || shm->pool_ != nullptr || shm->forked_from() != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a chain file is continued through a writable SharedMemory with no "
        "writer yet",
        shm->path()));
  }
  return Adopt(shm, /*chain_writer=*/true);
}

absl::StatusOr<std::unique_ptr<Pool>> Pool::Adopt(SharedMemory* shm, bool chain_writer) {
  uint8_t* base = shm->mutable_data();
  HeaderSnapshot header = shm->ReadHeader();
  if (header.chain.has_value() && !chain_writer) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is file %d of a chain: a chain's files are written through the "
        "chain (`shmio append DIR`, shmio::ChainWriter), never one by one",
        shm->path(), header.chain->sequence));
  }
  if (header.chain.has_value() && shm->LoadSealedEnd() != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is sealed: this file of its chain takes no more frames", shm->path()));
  }
  // SharedMemory::Open validated committed and dataOffset for this file, and
  // only a writer (we hold the lock) moves committed.
  bool has_doorbell = header.format == FileFormat::kShmioV1;
  if (has_doorbell) {
    // Relaxed: informational, read by `shmio stat` and error messages only.
    format::AtomicWord(base, format::kWriterPidOffset)
        .store(static_cast<uint64_t>(getpid()), std::memory_order_relaxed);
    // Logs made before the sentinel existed get it too (see format.h).
    std::memcpy(base + format::kDebugSentinelOffset, format::kDebugSentinel,
                sizeof format::kDebugSentinel);
  }
  auto pool = std::unique_ptr<Pool>(
      new Pool(shm, header.committed, has_doorbell));
  shm->pool_ = pool.get();
  return pool;
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
  fast_commit_ = !debug_;
  // Start with an empty fast-path window; the first slice computes it.
  segment_end_ = 0;
  frame_limit_ = 0;
  fast_end_ = 0;
}

Pool::~Pool() { shm_->pool_ = nullptr; }

void Pool::DetachAfterFork(pid_t parent) {
  forked_from_ = parent;
  fast_path_ = false;
  fast_end_ = 0;
  fast_commit_ = false;
}

absl::Status Pool::Seal() {
  if (sealed_) return absl::OkStatus();
  absl::Status may_write = CheckMayWrite();
  if (!may_write.ok()) return may_write;
  sealed_ = true;
  fast_path_ = false;
  fast_end_ = 0;
  position_ = committed_;  // uncommitted frames are dropped
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  // Relaxed: read only after the acquire load of sealed_end below pairs
  // with our release store.
  format::AtomicWord(base_, format::kSealedAtOffset)
      .store(static_cast<uint64_t>(
                 std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()),
             std::memory_order_relaxed);
  // Release: `committed` (stored last by Publish) and sealed_at are visible
  // to a reader whose acquire load finds sealed_end set.
  format::AtomicWord(base_, format::kSealedEndOffset)
      .store(committed_, std::memory_order_release);
  // A reader asleep on this file must wake to move on. Sealing is rare, so
  // a full fence stands between the store and the load of `armed` here
  // (the doorbell handshake; doorbell.h), whatever the writer registered.
  if (has_doorbell_ &&
      RingDoorbellIfArmed(base_, shm_->fd(), doorbell_rings_ + 1, /*registered=*/false)) {
    ++doorbell_rings_;
  }
  return absl::OkStatus();
}

absl::Status Pool::CheckMayWrite() const {
  if (forked_from_ != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: this process (pid %d) is a fork() child of the writer (pid %d) "
        "and may not write through the writer it inherited; nothing was "
        "written. Open the log again in this process (read-only, or as its "
        "writer once the parent has closed it)",
        shm_->path(), getpid(), forked_from_));
  }
  if (!CommittedIsOurs()) return ForeignWriterError();
  return absl::OkStatus();
}

absl::Status Pool::ForeignWriterError() const {
  if (forked_from_ != 0) return CheckMayWrite();
  // Relaxed: for the message only.
  uint64_t now = format::AtomicWord(base_, format::kCommittedOffset)
                     .load(std::memory_order_relaxed);
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s: committed is %d but this writer last stored %d: another process "
      "wrote to the log without taking the writer lock (the Node.js library "
      "takes none); nothing was written or stored, so its frames are kept. "
      "Stop the other writer, then reopen the log to continue after its "
      "frames",
      shm_->path(), now, committed_));
}

absl::Status Pool::CheckRoom(uint64_t total) {
  const std::optional<Geometry>& g = shm_->geometry();
  uint64_t start = position_;
  // Where the log ends, and where a frame starting at `start` must end.
  uint64_t log_end = capacity_;
  if (g) {
    uint64_t k = start / g->size;
    segment_end_ = std::min((k + 1) * g->size, capacity_);
    log_end = format::SegmentedLogEnd(g->size, g->num, g->overlap);
    frame_limit_ = format::SegmentFrameLimit(start, g->size, g->num, g->overlap);
  } else {
    segment_end_ = capacity_;
    frame_limit_ = capacity_;
  }
  frame_limit_ = std::min(frame_limit_, capacity_);
  fast_end_ = fast_path_ ? std::min(segment_end_, frame_limit_) : 0;
  if (start > log_end || total > log_end - start) {
    // The original's words, which users grep for.
    uint64_t segment = g ? std::min(start / g->size, g->num - 1) : 0;
    uint64_t in_segment = g ? start - segment * g->size : start;
    uint64_t free_bytes = log_end - std::min(start, log_end);
    return absl::ResourceExhaustedError(absl::StrFormat(
        "Shared memory exhausted: cannot allocate %d bytes (frame of %d) at "
        "offset %d of %s: capacity %d, %d bytes free (buffer %d/%d, index "
        "%d/%d); create a larger log",
        total - format::kFrameOverhead, total, start, shm_->path(), capacity_,
        free_bytes, segment, g ? g->num : 1, in_segment,
        g ? g->size : capacity_));
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
  if (sealed_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is sealed: this file of its chain takes no more frames (the chain "
        "writer continues in the next file)",
        shm_->path()));
  }
  if (forked_from_ != 0 || position_ == committed_) {
    absl::Status may_write = CheckMayWrite();
    if (!may_write.ok()) return may_write;
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
  if (forked_from_ != 0) return CheckMayWrite();
  absl::Status previous = CheckPreviousFrame();
  if (!previous.ok()) return previous;
  if (!Publish()) return ForeignWriterError();
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
  fast_path_ = active_ && !debug_ && forked_from_ == 0 && !sealed_;
  fast_end_ = 0;  // the next slice recomputes it (CheckRoom)
}

}  // namespace shmio
