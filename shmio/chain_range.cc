#include "shmio/chain_range.h"

#include <algorithm>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/strings/str_format.h"
#include "shmio/iterator.h"

namespace shmio {
namespace {

// Where `file`'s frames end, in file offsets: its sealed end, or its
// committed value for the last file (the walk stops at `to` before it).
uint64_t FileEnd(const ChainFile& file) {
  const uint64_t sealed = file.LoadSealedEnd();
  return sealed != 0 ? sealed : file.shm->LoadCommitted();
}

}  // namespace

ChainFrameRange::ChainFrameRange(std::shared_ptr<const ChainFiles> files, uint64_t from,
                                 uint64_t to, std::optional<ChainFile> first)
    : files_(std::move(files)), from_(from), to_(std::max(from, to)), first_(std::move(first)) {
  if (to < from) {
    status_ = absl::OutOfRangeError(absl::StrFormat(
        "%s: range [%d, %d) of positions is backwards", files_->directory(), from, to));
  }
}

void ChainFrameRange::Iterator::Fail(const absl::Status& status) {
  range_->status_ = status;
  position_ = range_->to_;
}

ChainFrameRange::Iterator ChainFrameRange::Iterator::LoadSlow(Iterator it) {
  if (it.base_ == nullptr || it.position_ - it.bias_ == it.limit_) {
    if (!it.OpenFileAtPosition()) return it;
    // A file may end before the range does (a `to` past what was
    // committed): the offset is checked against limit_ before the fast
    // path relies on offset <= limit_.
    const uint64_t offset = it.position_ - it.bias_;
    if (offset < it.limit_ && TryReadFrameAt(it.base_, offset, it.limit_, it.debug_, &it.frame_)) {
      it.frame_.position = it.position_;
      return it;
    }
  }
  it.Fail(FrameDamageAt(it.base_, it.position_ - it.bias_, it.limit_, it.debug_,
                        it.file_.shm->path()));
  return it;
}

bool ChainFrameRange::Iterator::OpenFileAtPosition() {
  if (file_.shm == nullptr) {
    // The hint is used when it holds position_ (a sealed file holds the
    // positions up to its end; the last file, all from its base on).
    const std::optional<ChainFile>& hint = range_->first_;
    if (hint.has_value() && hint->base_position <= position_ &&
        (hint->LoadSealedEnd() == 0 || position_ <= hint->PositionOf(hint->LoadSealedEnd()))) {
      file_ = *hint;
    } else {
      absl::StatusOr<ChainFile> file = range_->files_->FileAt(position_);
      if (!file.ok()) {
        Fail(file.status());
        return false;
      }
      file_ = *std::move(file);
    }
  }
  uint64_t end = FileEnd(file_);
  if (file_.PositionOf(end) <= position_) {
    // This file is read to its end: the next one starts here.
    if (file_.LoadSealedEnd() == 0) {
      Fail(absl::DataLossError(absl::StrFormat(
          "%s: %s ends at position %d, before the end of the range %d, and is not "
          "sealed",
          range_->files_->directory(), file_.shm->path(), file_.PositionOf(end), range_->to_)));
      return false;
    }
    absl::StatusOr<ChainFile> next = range_->files_->OpenFile(position_, file_.sequence + 1);
    if (!next.ok()) {
      Fail(absl::IsNotFound(next.status()) ? range_->files_->Removed(position_) : next.status());
      return false;
    }
    file_ = *std::move(next);
    end = FileEnd(file_);
  }
  limit_ = std::min(end, file_.OffsetOf(range_->to_));
  base_ = file_.shm->data();
  bias_ = file_.base_position - file_.data_offset;  // modulo 2^64, as positions
  debug_ = range_->files_->debug_checks();
  return true;
}

ReverseChainFrameRange::ReverseChainFrameRange(std::shared_ptr<const ChainFiles> files,
                                               uint64_t from, uint64_t to)
    : files_(std::move(files)), from_(from), to_(std::max(from, to)) {
  if (to < from) {
    status_ = absl::OutOfRangeError(absl::StrFormat(
        "%s: range [%d, %d) of positions is backwards", files_->directory(), from, to));
  }
}

void ReverseChainFrameRange::Iterator::Fail(const absl::Status& status) {
  range_->status_ = status;
  position_ = range_->from_;
}

void ReverseChainFrameRange::Iterator::Load() {
  if (position_ == range_->from_) return;
  if (file_.shm == nullptr || position_ <= file_.base_position) {
    // The frame ending at position_ lies in the file holding position_ - 1.
    absl::StatusOr<ChainFile> file = range_->files_->FileAt(position_ - 1);
    if (!file.ok()) return Fail(file.status());
    file_ = *std::move(file);
  }
  const uint64_t end = file_.OffsetOf(position_);
  const uint64_t floor = file_.OffsetOf(std::max(range_->from_, file_.base_position));
  if (end > FileEnd(file_)) {
    return Fail(absl::OutOfRangeError(absl::StrFormat(
        "%s: position %d is past the end of %s", range_->files_->directory(), position_,
        file_.shm->path())));
  }
  Frame frame;
  if (!TryReadFrameBefore(file_.shm->data(), end, floor, &frame)) {
    return Fail(FrameDamageBefore(file_.shm->data(), end, floor, file_.shm->path()));
  }
  frame_.offset = frame.offset;
  frame_.payload = frame.payload;
  frame_.position = file_.PositionOf(frame.offset);
}

}  // namespace shmio
