// shmio-chain: the busy-polling shmio transport (busy_poll_transport.h)
// over a chain of small files (shmio/chain_writer.h), so that every run
// rolls to a new file hundreds of times: what a roll costs the writer's
// throughput and the reader's latency, next to one file in the same run.
#ifndef BENCH_TRANSPORTS_SHMIO_CHAIN_H_
#define BENCH_TRANSPORTS_SHMIO_CHAIN_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/transports/busy_poll_transport.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_writer.h"

namespace bench {

// Each log is a chain directory whose files hold 1/kRollsPerRun of what
// the run writes (2 MiB for a default 512 MiB throughput run), at least
// kMinFileBytes.
struct ChainLog {
  static constexpr const char* kName = "shmio-chain";
  static constexpr bool kRolls = true;
  static constexpr uint64_t kRollsPerRun = 256;
  static constexpr uint64_t kMinFileBytes = 4 << 10;
  // Retention keeps half a run's files, and at least kMinRetainedBytes of
  // them: /dev/shm holds at most half of what the single-file log takes,
  // and the reader may fall that far behind (a descheduled reader on a
  // busy machine; the writer never waits for it) before it loses a file,
  // which it reports as an error (OutOfRange) like any loss. The floor
  // keeps short (--quick) runs, whose files are tiny, from losing files
  // to a reader that was descheduled for a few milliseconds.
  static constexpr uint64_t kMinRetainedBytes = 64 << 20;
  static uint64_t RetainFiles(uint64_t file_bytes);

  struct Writer {
    std::unique_ptr<shmio::ChainWriter> chain;
    shmio::ChainWriter& appender() { return *chain; }
    uint64_t rolls() const { return chain->rolls(); }
  };
  struct Reader {
    std::unique_ptr<shmio::ChainConsumer> chain;
    shmio::ChainConsumer& cursor() { return *chain; }
  };

  // The file capacity for a log the run writes `bytes` to.
  static uint64_t FileBytes(uint64_t bytes);

  static absl::Status Create(const std::string& path, uint64_t bytes);
  static absl::StatusOr<Writer> OpenWriter(const std::string& path);
  static absl::StatusOr<Reader> OpenReader(const std::string& path);
  static void Remove(const std::string& path);
};

extern template class BusyPollTransport<ChainLog>;
using ShmioChainTransport = BusyPollTransport<ChainLog>;

}  // namespace bench

#endif  // BENCH_TRANSPORTS_SHMIO_CHAIN_H_
