#include "bridge/log_source.h"

#include <memory>
#include <utility>

#include "bridge/chain_source.h"
#include "bridge/followed_source.h"
#include "bridge/single_file_source.h"
#include "shmio/chain_directory.h"

namespace bridge {

absl::StatusOr<LogSource*> OpenLogSource(uv_loop_t* loop, const std::string& path,
                                         std::optional<uint64_t> position,
                                         const SourceOptions& options,
                                         LogSource::BatchCallback on_batch,
                                         LogSource::ErrorCallback on_error) {
  std::unique_ptr<SourceLog> log;
  if (shmio::IsDirectory(path)) {
    absl::StatusOr<std::unique_ptr<ChainSourceLog>> chain = ChainSourceLog::Open(path);
    if (!chain.ok()) return chain.status();
    log = *std::move(chain);
  } else {
    absl::StatusOr<std::unique_ptr<SingleFileSourceLog>> file = SingleFileSourceLog::Open(path);
    if (!file.ok()) return file.status();
    log = *std::move(file);
  }
  absl::StatusOr<FollowedSource*> source = FollowedSource::Open(
      loop, std::move(log), position, options, std::move(on_batch), std::move(on_error));
  if (!source.ok()) return source.status();
  return *source;
}

absl::StatusOr<uint64_t> OldestPosition(const std::string& path) {
  if (!shmio::IsDirectory(path)) return 0;
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(path);
  if (!listing.ok()) return listing.status();
  // Retention removes whole files, oldest first: the first file's base.
  return listing->files.empty() ? 0 : listing->files.front().base_position;
}

}  // namespace bridge
