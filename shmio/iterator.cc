#include "shmio/iterator.h"

#include "absl/strings/str_format.h"

namespace shmio {

absl::Status FrameDamageAt(const uint8_t* base, uint64_t offset, uint64_t limit,
                           bool debug, const std::string& path) {
  if (limit - offset < format::kFrameOverhead) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged at offset %d: only %d bytes remain before the end %d, "
        "too few for a frame",
        path, offset, limit - offset, limit));
  }
  uint64_t total = format::DecodeU16(base + offset);
  if (total < format::kFrameOverhead) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged at offset %d: frame size %d is below the minimum of %d",
        path, offset, total, format::kFrameOverhead));
  }
  if (total > limit - offset) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged at offset %d: frame size %d runs to %d, past the end "
        "%d of the committed data",
        path, offset, total, offset + total, limit));
  }
  uint64_t trailing = format::DecodeU16(base + offset + total - format::kFrameSizeBytes);
  if (debug && trailing != total) {
    return absl::DataLossError(absl::StrFormat(
        "[DEBUG] %s is damaged at offset %d: leading size %d but trailing size "
        "%d at offset %d",
        path, offset, total, trailing, offset + total - format::kFrameSizeBytes));
  }
  return absl::InternalError(absl::StrFormat(
      "%s: frame at offset %d reported damaged but checks out", path, offset));
}

absl::Status FrameDamageBefore(const uint8_t* base, uint64_t end, uint64_t floor,
                               const std::string& path) {
  if (end - floor < format::kFrameOverhead) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged before offset %d: only %d bytes remain after %d, too "
        "few for a frame",
        path, end, end - floor, floor));
  }
  uint64_t total = format::DecodeU16(base + end - format::kFrameSizeBytes);
  if (total < format::kFrameOverhead || total > end - floor) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged: the trailing frame size %d at offset %d does not fit "
        "between %d and %d",
        path, total, end - format::kFrameSizeBytes, floor, end));
  }
  uint64_t leading = format::DecodeU16(base + end - total);
  if (leading != total) {
    return absl::DataLossError(absl::StrFormat(
        "%s is damaged at offset %d: walking backwards, the trailing size %d "
        "at offset %d points to a frame at %d whose leading size is %d",
        path, end - total, total, end - format::kFrameSizeBytes, end - total,
        leading));
  }
  return absl::InternalError(absl::StrFormat(
      "%s: frame ending at offset %d reported damaged but checks out", path, end));
}

namespace {

bool RangeFits(const SharedMemory& shm, uint64_t from, uint64_t to) {
  return from <= to && to <= shm.capacity();
}

// Why a range outside the file is empty.
absl::Status RangeError(const SharedMemory& shm, uint64_t from, uint64_t to) {
  return absl::OutOfRangeError(absl::StrFormat(
      "%s: range [%d, %d) is not within the file's %d bytes", shm.path(), from,
      to, shm.capacity()));
}

}  // namespace

FrameRange::FrameRange(const SharedMemory& shm, uint64_t from, uint64_t to)
    : FrameRange(shm, from, to, shm.debug_checks()) {}

FrameRange::FrameRange(const SharedMemory& shm, uint64_t from, uint64_t to,
                       bool debug)
    : shm_(&shm), base_(shm.data()), from_(from), to_(to), debug_(debug) {
  if (ABSL_PREDICT_FALSE(!RangeFits(shm, from, to))) {
    status_ = RangeError(shm, from, to);
    from_ = to_ = 0;
  }
}

void FrameRange::Fail(uint64_t offset) const {
  status_ = FrameDamageAt(base_, offset, to_, debug_, shm_->path());
}

ReverseFrameRange::ReverseFrameRange(const SharedMemory& shm, uint64_t from,
                                     uint64_t to)
    : ReverseFrameRange(shm, from, to, shm.debug_checks()) {}

ReverseFrameRange::ReverseFrameRange(const SharedMemory& shm, uint64_t from,
                                     uint64_t to, bool /*debug*/)
    : shm_(&shm), base_(shm.data()), from_(from), to_(to) {
  if (ABSL_PREDICT_FALSE(!RangeFits(shm, from, to))) {
    status_ = RangeError(shm, from, to);
    from_ = to_ = 0;
  }
}

void ReverseFrameRange::Fail(uint64_t end) const {
  status_ = FrameDamageBefore(base_, end, from_, shm_->path());
}

}  // namespace shmio
