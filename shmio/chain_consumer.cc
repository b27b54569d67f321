#include "shmio/chain_consumer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "shmio/chain_range.h"

namespace shmio {

absl::StatusOr<std::unique_ptr<ChainConsumer>> ChainConsumer::Open(
    const std::string& directory, ChainStart start, bool debug_checks) {
  absl::StatusOr<std::shared_ptr<ChainFiles>> files =
      ChainFiles::Open(directory, debug_checks || DebugFromEnvironment());
  if (!files.ok()) return files.status();
  absl::StatusOr<ChainFile> first = (*files)->OpenOldest();
  if (!first.ok()) return first.status();
  std::unique_ptr<ChainConsumer> consumer(new ChainConsumer(*files, *std::move(first)));
  absl::Status positioned = absl::OkStatus();
  if (start.kind == ChainStart::kEnd) {
    positioned = consumer->SeekToEnd();
  } else if (start.kind == ChainStart::kPosition) {
    positioned = consumer->Seek(start.position);
  }
  if (!positioned.ok()) return positioned;
  return consumer;
}

absl::StatusOr<std::unique_ptr<ChainConsumer>> ChainConsumer::OpenNamed(
    const std::string& directory, absl::string_view name, ChainStart start_if_new,
    bool debug_checks) {
  absl::StatusOr<std::shared_ptr<ChainFiles>> files =
      ChainFiles::Open(directory, debug_checks || DebugFromEnvironment());
  if (!files.ok()) return files.status();
  absl::StatusOr<std::shared_ptr<ReaderTable>> table =
      ReaderTable::Open(directory, (*files)->chain_id(), /*create=*/true);
  if (!table.ok()) return table.status();
  // Where a new name starts: resolved before the slot is made, so that the
  // slot's first position is a real one.
  absl::StatusOr<std::unique_ptr<ChainConsumer>> probe = Open(directory, start_if_new, debug_checks);
  if (!probe.ok()) return probe.status();
  absl::StatusOr<std::unique_ptr<ReaderSlot>> slot = (*table)->Claim(name, (*probe)->cursor());
  if (!slot.ok()) return slot.status();
  std::unique_ptr<ChainConsumer> consumer = *std::move(probe);
  consumer->slot_ = *std::move(slot);
  if (!consumer->slot_->dropped() && consumer->slot_->position() != consumer->cursor()) {
    absl::Status resumed = consumer->Seek(consumer->slot_->position());
    if (!resumed.ok()) {
      return absl::Status(resumed.code(), absl::StrFormat(
          "reader \"%s\" cannot resume at its acknowledged position %d: %s", name,
          consumer->slot_->position(), resumed.message()));
    }
  }
  return consumer;
}

absl::Status ChainConsumer::Ack(uint64_t position) {
  if (slot_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: only a named reader acknowledges (ChainConsumer::OpenNamed)", files_->directory()));
  }
  if (position > cursor()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: reader \"%s\" cannot acknowledge position %d, past what it has read (%d)",
        files_->directory(), slot_->name(), position, cursor()));
  }
  slot_->Ack(position);
  return absl::OkStatus();
}

const std::string& ChainConsumer::name() const {
  static const std::string* const kNone = new std::string();
  return slot_ != nullptr ? slot_->name() : *kNone;
}

uint64_t ChainConsumer::acked() const { return slot_ != nullptr ? slot_->position() : 0; }

absl::Status ChainConsumer::DroppedError() const {
  const NamedReaderInfo info = slot_->info();
  return absl::OutOfRangeError(absl::StrFormat(
      "%s: reader \"%s\" was dropped by the writer: it was at position %d and the "
      "frames up to %d were removed (%d bytes lost to it); Seek(%d) (or `shmio readers "
      "%s --reset %s --to=%d` while it is stopped) to go on from there",
      files_->directory(), slot_->name(), info.dropped_at, info.resume_at,
      info.resume_at - std::min(info.resume_at, info.dropped_at), info.resume_at,
      files_->directory(), slot_->name(), info.resume_at));
}

ChainConsumer::ChainConsumer(std::shared_ptr<ChainFiles> files, ChainFile file)
    : files_(std::move(files)),
      file_(std::move(file)),
      consumer_(std::make_unique<Consumer>(file_.shm.get())) {}

absl::Status ChainConsumer::Switch(ChainFile file, uint64_t offset) {
  if (file.shm == file_.shm || (consumer_ != nullptr && file.base_position == file_.base_position &&
                                file.sequence == file_.sequence)) {
    // The file it reads already: keep its Consumer, and what that has
    // validated of `committed`, so a Seek does not walk the file again.
    return consumer_->Seek(offset < file_.data_offset ? file_.data_offset : offset);
  }
  auto consumer = std::make_unique<Consumer>(file.shm.get());
  if (offset != 0 && offset != file.data_offset) {
    absl::Status sought = consumer->Seek(offset);
    if (!sought.ok()) return sought;
  }
  consumer_ = std::move(consumer);
  file_ = std::move(file);
  ++file_changes_;
  return absl::OkStatus();
}

absl::StatusOr<bool> ChainConsumer::MoveOnIfFinished() {
  // Acquire (in LoadSealedEnd): a nonzero value is the file's final
  // committed value, and its successor is linked (format.h, "Sealing").
  const uint64_t sealed = file_.LoadSealedEnd();
  if (sealed == 0 || consumer_->cursor() != sealed) return false;
  const uint64_t next_base = file_.PositionOf(sealed);
  absl::StatusOr<ChainFile> next = files_->OpenFile(next_base, file_.sequence + 1);
  if (!next.ok()) {
    if (absl::IsNotFound(next.status())) return files_->Removed(next_base);
    return next.status();
  }
  absl::Status switched = Switch(*std::move(next), 0);
  if (!switched.ok()) return switched;
  return true;
}

absl::StatusOr<Batch> ChainConsumer::Next(BatchLimits limits) {
  if (ABSL_PREDICT_FALSE(slot_ != nullptr) && slot_->dropped()) return DroppedError();
  for (int hop = 0;; ++hop) {
    absl::StatusOr<Batch> batch = consumer_->Next(limits);
    if (!batch.ok()) return batch.status();
    if (!batch->empty() || hop == 1) {
      batch->cursor_bias = file_.base_position - file_.data_offset;
      batch->next_cursor = cursor();
      batch->file = file_.shm;
      return batch;
    }
    absl::StatusOr<bool> moved = MoveOnIfFinished();
    if (!moved.ok()) return moved.status();
    if (!*moved) {
      batch->cursor_bias = file_.base_position - file_.data_offset;
      batch->next_cursor = cursor();
      batch->file = file_.shm;
      return batch;
    }
  }
}

bool ChainConsumer::SpinUntilNew(absl::Time deadline) {
  const uint64_t from = consumer_->cursor();
  for (uint32_t polls = 1;; ++polls) {
    if (file_.shm->LoadCommitted() != from) return true;
    if (ABSL_PREDICT_FALSE(file_.LoadSealedEnd() == from)) return true;  // read: move on
    if (ABSL_PREDICT_FALSE(polls % Consumer::kPollsPerClockRead == 0) &&
        absl::Now() >= deadline) {
      return false;
    }
  }
}

absl::StatusOr<uint64_t> ChainConsumer::Committed() {
  absl::StatusOr<uint64_t> committed = consumer_->Committed();
  if (!committed.ok()) return committed.status();
  if (*committed == 0) return file_.base_position;
  return file_.PositionOf(*committed);
}

absl::StatusOr<ChainFrameRange> ChainConsumer::GetData(std::optional<uint64_t> from) {
  // The committed end of the chain: the last file's.
  absl::StatusOr<ChainListing> listing = files_->List();
  if (!listing.ok()) return listing.status();
  uint64_t to = 0;
  if (listing->files.back().base_position == file_.base_position) {
    absl::StatusOr<uint64_t> committed = Committed();
    if (!committed.ok()) return committed.status();
    to = *committed;
  } else {
    absl::StatusOr<ChainFile> last = files_->OpenFile(listing->files.back().base_position);
    if (!last.ok()) return last.status();
    Consumer reader(last->shm.get());
    absl::StatusOr<uint64_t> committed = reader.Committed();
    if (!committed.ok()) return committed.status();
    to = last->PositionOf(*committed);
  }
  const uint64_t start = from.value_or(cursor());
  if (start > to) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: position %d is past the committed end %d of the chain", files_->directory(),
        start, to));
  }
  if (from.has_value()) {
    // A boundary check through a throwaway consumer at `start`.
    absl::StatusOr<std::unique_ptr<ChainConsumer>> probe =
        Open(files_->directory(), ChainStart{ChainStart::kPosition, start},
             files_->debug_checks());
    if (!probe.ok()) return probe.status();
  }
  return ChainFrameRange(files_, start, to,
                         start >= file_.base_position ? std::optional<ChainFile>(file_)
                                                      : std::nullopt);
}

absl::Status ChainConsumer::Seek(uint64_t position) {
  absl::StatusOr<ChainFile> file = files_->FileAt(position);
  if (!file.ok()) return file.status();
  // A position at a sealed file's end is its successor's first frame.
  const uint64_t sealed = file->LoadSealedEnd();
  if (sealed != 0 && position == file->PositionOf(sealed)) {
    absl::StatusOr<ChainFile> next = files_->OpenFile(position, file->sequence + 1);
    if (!next.ok()) return next.status();
    file = std::move(next);
  }
  absl::Status status = Switch(*file, file->OffsetOf(position));
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrFormat("%s: position %d: %s", files_->directory(), position,
                                        status.message()));
  }
  return ResumeIfDropped();
}

absl::Status ChainConsumer::SeekToEnd() {
  absl::StatusOr<ChainListing> listing = files_->List();
  if (!listing.ok()) return listing.status();
  absl::StatusOr<ChainFile> last = files_->OpenFile(listing->files.back().base_position);
  if (!last.ok()) return last.status();
  auto consumer = std::make_unique<Consumer>(last->shm.get());
  absl::Status end = consumer->SeekToEnd();
  if (!end.ok()) return end;
  consumer_ = std::move(consumer);
  file_ = *std::move(last);
  ++file_changes_;
  return ResumeIfDropped();
}

absl::Status ChainConsumer::ResumeIfDropped() {
  // A dropped named reader that seeks has chosen where to go on.
  if (slot_ != nullptr && slot_->dropped()) return slot_->Resume(cursor());
  return absl::OkStatus();
}

absl::Status ChainConsumer::SeekToBeginning() {
  absl::StatusOr<ChainFile> first = files_->OpenOldest();
  if (!first.ok()) return first.status();
  absl::Status switched = Switch(*std::move(first), 0);
  if (!switched.ok()) return switched;
  return ResumeIfDropped();
}

}  // namespace shmio
