#include "bridge/chain_sink.h"

#include <utility>

#include "shmio/shared_memory.h"

namespace bridge {

absl::StatusOr<std::unique_ptr<ChainSink>> ChainSink::Open(const SinkOptions& options) {
  shmio::ChainOptions chain;
  chain.directory = options.path;
  // Creating needs the user's word (a capacity); an existing chain is
  // continued, and ChainWriter refuses a capacity other than its own.
  chain.create = options.chain_file_capacity > 0;
  chain.file_capacity = options.chain_file_capacity;
  chain.first_position = options.first_position;
  chain.debug_checks = shmio::DebugFromEnvironment();
  absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> writer = shmio::ChainWriter::Open(chain);
  if (!writer.ok()) return writer.status();
  return std::unique_ptr<ChainSink>(new ChainSink(*std::move(writer)));
}

PositionedSink::WriterEnds ChainSink::Ends() const {
  const shmio::ChainWriter::Size size = writer_->GetSize();
  return {size.committed, size.uncommitted};
}

absl::Status ChainSink::AppendFrame(absl::Span<const uint8_t> payload) {
  absl::Status appended = writer_->Append(payload);
  const shmio::ChainWriter::Size size = writer_->GetSize();
  if (!absl::IsResourceExhausted(appended) || size.uncommitted == size.committed) {
    return appended;
  }
  // The batch in progress and this frame do not fit in one file: commit
  // the batch, so the frame can roll into the next file on its own.
  absl::Status committed = writer_->Commit();
  if (!committed.ok()) return committed;
  return writer_->Append(payload);
}

}  // namespace bridge
