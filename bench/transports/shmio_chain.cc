#include "bench/transports/shmio_chain.h"

#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "shmio/chain_directory.h"
#include "shmio/reader_table.h"

namespace bench {

uint64_t ChainLog::FileBytes(uint64_t bytes) {
  const uint64_t page = 4096;
  const uint64_t share = (bytes / kRollsPerRun + page - 1) / page * page;
  return std::max(kMinFileBytes, share);
}

absl::StatusOr<absl::Span<uint8_t>> WaitingChainAppender::SliceSizeAfterWaiting(
    size_t n, absl::StatusOr<absl::Span<uint8_t>> slice) {
  // The named reader is a retention window behind (or, in a broken run,
  // the batch is too big: then the deadline ends the wait).
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::IsResourceExhausted(slice.status()) && absl::Now() < deadline &&
         ReaderAlive()) {
    sched_yield();
    slice = chain_->SliceSize(n);
  }
  return slice;
}

bool WaitingChainAppender::ReaderAlive() const {
  absl::StatusOr<std::shared_ptr<shmio::ReaderTable>> table = shmio::ReaderTable::Open(
      chain_->directory(), chain_->settings().chain_id, /*create=*/false);
  if (!table.ok()) return false;
  absl::StatusOr<std::vector<shmio::NamedReaderInfo>> readers = (*table)->List();
  if (!readers.ok()) return false;
  for (const shmio::NamedReaderInfo& reader : *readers) {
    if (reader.name == reader_name_) return reader.alive;
  }
  return false;
}

absl::Status ChainLog::Create(const std::string& path, uint64_t bytes) {
  shmio::ChainOptions options;
  options.directory = path;
  options.create = true;
  options.file_capacity = FileBytes(bytes);
  options.retain_files = kRetainFiles;
  // Opening creates the chain and its first file; closing it (before the
  // fork) leaves the chain for the process that will write.
  absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> chain =
      shmio::ChainWriter::Open(std::move(options));
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> reader =
      shmio::ChainConsumer::OpenNamed(path, kReaderName);
  return reader.status();
}

absl::StatusOr<ChainLog::Writer> ChainLog::OpenWriter(const std::string& path) {
  shmio::ChainOptions options;
  options.directory = path;
  // Each new file is prefaulted on the preparer thread, as the single
  // file is before the run: the writer's appends take no page faults.
  options.prefault = true;
  absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> chain =
      shmio::ChainWriter::Open(std::move(options));
  if (!chain.ok()) return chain.status();
  Writer writer{*std::move(chain)};
  writer.appender_calls = WaitingChainAppender(writer.chain.get(), kReaderName);
  return writer;
}

absl::StatusOr<ChainLog::Reader> ChainLog::OpenReader(const std::string& path) {
  absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> chain =
      shmio::ChainConsumer::OpenNamed(path, kReaderName);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<shmio::ChainSettings> settings = shmio::ReadChainSettings(path);
  if (!settings.ok()) return settings.status();
  return Reader{std::make_unique<AckingChainCursor>(*std::move(chain),
                                                    settings->file_capacity / 4)};
}

void ChainLog::Remove(const std::string& path) {
  std::error_code ignored;  // best effort, as unlink() for one file
  std::filesystem::remove_all(path, ignored);
}

template class BusyPollTransport<ChainLog>;

}  // namespace bench
