#include "bench/transports/shmio_chain.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

namespace bench {

uint64_t ChainLog::FileBytes(uint64_t bytes) {
  const uint64_t page = 4096;
  const uint64_t share = (bytes / kRollsPerRun + page - 1) / page * page;
  return std::max(kMinFileBytes, share);
}

uint64_t ChainLog::RetainFiles(uint64_t file_bytes) {
  return std::max(kRollsPerRun / 2, kMinRetainedBytes / file_bytes);
}

absl::Status ChainLog::Create(const std::string& path, uint64_t bytes) {
  shmio::ChainOptions options;
  options.directory = path;
  options.create = true;
  options.file_capacity = FileBytes(bytes);
  options.retain_files = RetainFiles(options.file_capacity);
  // Opening creates the chain and its first file; closing it (before the
  // fork) leaves the chain for the process that will write.
  absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> chain =
      shmio::ChainWriter::Open(std::move(options));
  return chain.status();
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
  return Writer{*std::move(chain)};
}

absl::StatusOr<ChainLog::Reader> ChainLog::OpenReader(const std::string& path) {
  absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> chain =
      shmio::ChainConsumer::Open(path);
  if (!chain.ok()) return chain.status();
  return Reader{*std::move(chain)};
}

void ChainLog::Remove(const std::string& path) {
  std::error_code ignored;  // best effort, as unlink() for one file
  std::filesystem::remove_all(path, ignored);
}

template class BusyPollTransport<ChainLog>;

}  // namespace bench
