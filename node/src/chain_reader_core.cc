#include "node/src/chain_reader_core.h"

#include <utility>

#include "node/src/chain_core.h"

namespace shmio_node {

absl::StatusOr<std::shared_ptr<ChainReaderCore>> ChainReaderCore::Open(
    std::shared_ptr<ChainCore> chain, const std::string& name, shmio::ChainStart start) {
  absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> consumer =
      name.empty()
          ? shmio::ChainConsumer::Open(chain->directory(), start, chain->debug_checks())
          : shmio::ChainConsumer::OpenNamed(chain->directory(), name, start,
                                            chain->debug_checks());
  if (!consumer.ok()) return consumer.status();
  return std::shared_ptr<ChainReaderCore>(
      new ChainReaderCore(std::move(chain), *std::move(consumer)));
}

ChainReaderCore::ChainReaderCore(std::shared_ptr<ChainCore> chain,
                                 std::unique_ptr<shmio::ChainConsumer> consumer)
    : chain_(std::move(chain)), consumer_(std::move(consumer)) {
  chain_->AddReader(this);
}

ChainReaderCore::~ChainReaderCore() { chain_->ReaderGone(this); }

}  // namespace shmio_node
