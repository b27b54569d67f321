#include "bench/micro/fresh_chain.h"

#include "bench/micro/fresh_log.h"
#include "shmio/chain_directory.h"

namespace bench {

absl::StatusOr<std::unique_ptr<FreshChain>> FreshChain::Create(uint64_t file_capacity,
                                                               bool prefault,
                                                               uint64_t retain_files) {
  std::unique_ptr<FreshChain> chain(new FreshChain());
  chain->directory_ = MicroLogPath("chain");
  shmio::ChainOptions options;
  options.directory = chain->directory_;
  options.create = true;
  options.file_capacity = file_capacity;
  options.retain_files = retain_files;
  options.prefault = prefault;
  absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> writer = shmio::ChainWriter::Open(options);
  if (!writer.ok()) return writer.status();
  chain->writer_ = *std::move(writer);
  return chain;
}

FreshChain::~FreshChain() {
  writer_.reset();
  (void)shmio::RemoveChain(directory_);
}

}  // namespace bench
