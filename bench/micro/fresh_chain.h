// A fresh chain of files for //bench:micro under /dev/shm, removed (files,
// chain.conf, writer.lock, directory) when the object dies.
#ifndef BENCH_MICRO_FRESH_CHAIN_H_
#define BENCH_MICRO_FRESH_CHAIN_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "shmio/chain_writer.h"

namespace bench {

class FreshChain {
 public:
  // A new chain of `file_capacity`-byte files (prefaulted as they are
  // prepared when `prefault`), keeping at most `retain_files` (0: all).
  static absl::StatusOr<std::unique_ptr<FreshChain>> Create(uint64_t file_capacity,
                                                            bool prefault,
                                                            uint64_t retain_files);
  ~FreshChain();

  shmio::ChainWriter& writer() { return *writer_; }
  const std::string& directory() const { return directory_; }

 private:
  FreshChain() = default;
  std::string directory_;
  std::unique_ptr<shmio::ChainWriter> writer_;
};

}  // namespace bench

#endif  // BENCH_MICRO_FRESH_CHAIN_H_
