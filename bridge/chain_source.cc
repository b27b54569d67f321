#include "bridge/chain_source.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "shmio/shared_memory.h"

namespace bridge {

absl::StatusOr<std::unique_ptr<ChainSourceLog>> ChainSourceLog::Open(
    const std::string& directory) {
  absl::StatusOr<std::shared_ptr<shmio::ChainFiles>> files =
      shmio::ChainFiles::Open(directory, shmio::DebugFromEnvironment());
  if (!files.ok()) return files.status();
  return std::unique_ptr<ChainSourceLog>(new ChainSourceLog(*std::move(files)));
}

absl::StatusOr<uvwatch::Subscription*> ChainSourceLog::Subscribe(
    uv_loop_t* loop, std::optional<uint64_t> position, uvwatch::Options options,
    uvwatch::Subscription::BatchCallback on_batch,
    uvwatch::Subscription::ErrorCallback on_error) {
  if (position.has_value()) {
    options.start = uvwatch::Start::kCursor;
    options.cursor = *position;
  } else {
    options.start = uvwatch::Start::kBeginning;
  }
  absl::StatusOr<uvwatch::Subscription*> subscription = uvwatch::Subscription::OpenChain(
      loop, name(), options, std::move(on_batch), std::move(on_error));
  if (!subscription.ok() && position.has_value()) {
    absl::Status status = subscription.status();
    return absl::Status(status.code(), absl::StrFormat("the chain %s holds no frame at position %d: %s",
                                                       name(), *position, status.message()));
  }
  return subscription;
}

absl::StatusOr<uint64_t> ChainSourceLog::CommittedEnd() {
  // A sealed last file means the writer rolled (the next file is linked
  // before the full one is sealed): look for the new last file.
  if (last_.shm == nullptr || last_.LoadSealedEnd() != 0) {
    absl::StatusOr<shmio::ChainListing> listing = files_->List();
    if (!listing.ok()) return listing.status();
    if (listing->files.empty()) return 0;  // the writer is creating the chain
    const uint64_t base = listing->files.back().base_position;
    if (last_.shm == nullptr || last_.base_position != base) {
      absl::StatusOr<shmio::ChainFile> file = files_->OpenFile(base);
      if (!file.ok()) return file.status();
      last_ = *std::move(file);
      last_reader_ = std::make_unique<shmio::Consumer>(last_.shm.get());
    }
  }
  absl::StatusOr<uint64_t> committed = last_reader_->Committed();
  if (!committed.ok()) return committed.status();
  if (*committed < last_.data_offset) return last_.base_position;
  return last_.PositionOf(*committed);
}

}  // namespace bridge
