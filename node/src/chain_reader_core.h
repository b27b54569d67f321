// ChainReaderCore: a shmio::ChainConsumer (named or not) opened on a
// ChainCore's chain for a JS chain iterator, and the file of the last
// window Buffer given to JS for it.
//
// Lifetime: owned by its JS ChainReader object; holds its ChainCore, which
// closes it when the chain closes. Close() destroys the consumer, so a
// named reader's name is free for the next process at once (its
// acknowledged position stays in DIR/readers.shm).
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_CHAIN_READER_CORE_H_
#define NODE_SRC_CHAIN_READER_CORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "shmio/chain_consumer.h"

namespace shmio_node {

class ChainCore;

class ChainReaderCore {
 public:
  // ChainConsumer::Open, or OpenNamed when `name` is not empty (`start` is
  // then where a new name starts).
  static absl::StatusOr<std::shared_ptr<ChainReaderCore>> Open(std::shared_ptr<ChainCore> chain,
                                                               const std::string& name,
                                                               shmio::ChainStart start);
  ~ChainReaderCore();
  ChainReaderCore(const ChainReaderCore&) = delete;
  ChainReaderCore& operator=(const ChainReaderCore&) = delete;

  // Null once closed.
  shmio::ChainConsumer* consumer() const { return consumer_.get(); }
  const ChainCore& chain() const { return *chain_; }
  void Close() { consumer_.reset(); }

  // The file whose window JS has (the JS layer keeps the last window it
  // was given, so that file stays mapped and its address is not reused):
  // compared, never dereferenced.
  const void* window_file = nullptr;

 private:
  ChainReaderCore(std::shared_ptr<ChainCore> chain,
                  std::unique_ptr<shmio::ChainConsumer> consumer);

  std::shared_ptr<ChainCore> chain_;
  std::unique_ptr<shmio::ChainConsumer> consumer_;
};

}  // namespace shmio_node

#endif  // NODE_SRC_CHAIN_READER_CORE_H_
