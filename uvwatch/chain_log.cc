#include "uvwatch/chain_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "shmio/chain_files.h"

namespace uvwatch::internal {

absl::StatusOr<std::unique_ptr<ChainLog>> ChainLog::Open(const std::string& directory,
                                                         shmio::ChainStart start,
                                                         std::string reader_name) {
  // Not a chain (or not there) is an error now, not a wait.
  absl::StatusOr<std::shared_ptr<shmio::ChainFiles>> files =
      shmio::ChainFiles::Open(directory, /*debug_checks=*/false);
  if (!files.ok()) return files.status();
  std::unique_ptr<ChainLog> log(new ChainLog(directory, start, std::move(reader_name)));
  absl::Status opened = log->TryOpen();
  if (!opened.ok()) return opened;
  // Every frame of a chain that has none yet comes after Open().
  if (log->consumer_ == nullptr && start.kind == shmio::ChainStart::kEnd) {
    log->start_ = shmio::ChainStart{};
  }
  return log;
}

absl::Status ChainLog::TryOpen() {
  const bool debug = shmio::DebugFromEnvironment();
  absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> consumer =
      reader_name_.empty()
          ? shmio::ChainConsumer::Open(directory_, start_, debug)
          : shmio::ChainConsumer::OpenNamed(directory_, reader_name_, start_, debug);
  // Unavailable: the chain has no file yet (its writer is making it).
  if (absl::IsUnavailable(consumer.status())) return absl::OkStatus();
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<shmio::Batch>> ChainLog::Next(
    const shmio::BatchLimits& limits) {
  if (consumer_ == nullptr) {
    absl::Status opened = TryOpen();
    if (!opened.ok()) return opened;
    if (consumer_ == nullptr) return std::nullopt;
  }
  return consumer_->Next(limits);
}

absl::Status ChainLog::Ack(uint64_t position) {
  if (reader_name_.empty()) return FollowedLog::Ack(position);
  if (consumer_ == nullptr) {
    // Nothing was delivered yet: there is nothing to acknowledge.
    return absl::FailedPreconditionError(absl::StrCat(
        "uvwatch: ", directory_, ": reader \"", reader_name_,
        "\" has read nothing yet (the chain has no file): nothing to acknowledge"));
  }
  return consumer_->Ack(position);
}

uint64_t ChainLog::cursor() const {
  if (consumer_ != nullptr) return consumer_->cursor();
  return start_.kind == shmio::ChainStart::kPosition ? start_.position : 0;
}

bool ChainLog::finished_file() const {
  if (consumer_ == nullptr) return false;
  // Acquire (in LoadSealedEnd): pairs with the writer's release store when
  // it sealed the file (format.h, "Sealing").
  const uint64_t sealed = consumer_->current().LoadSealedEnd();
  return sealed != 0 && file_cursor() == sealed;
}

}  // namespace uvwatch::internal
