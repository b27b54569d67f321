#include "bridge/log_sink.h"

#include <utility>

#include "bridge/chain_sink.h"
#include "bridge/single_file_sink.h"
#include "shmio/chain_directory.h"

namespace bridge {

absl::StatusOr<std::unique_ptr<LogSink>> OpenLogSink(const SinkOptions& options) {
  if (shmio::IsDirectory(options.path) || options.chain_file_capacity > 0) {
    absl::StatusOr<std::unique_ptr<ChainSink>> chain = ChainSink::Open(options);
    if (!chain.ok()) return chain.status();
    return std::unique_ptr<LogSink>(*std::move(chain));
  }
  absl::StatusOr<std::unique_ptr<SingleFileSink>> file = SingleFileSink::Open(options);
  if (!file.ok()) return file.status();
  return std::unique_ptr<LogSink>(*std::move(file));
}

}  // namespace bridge
