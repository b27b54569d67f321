// shmio with a busy-polling reader over one log file (the README's
// "Reading" loop: Consumer::SpinUntilNew(), then Consumer::Poll()); the
// loop itself is busy_poll_transport.h's, shared with shmio-chain.
#ifndef BENCH_TRANSPORTS_SHMIO_BUSY_H_
#define BENCH_TRANSPORTS_SHMIO_BUSY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/transports/busy_poll_transport.h"
#include "bench/transports/shmio_files.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"

namespace bench {

// One log file per log: created with the capacity the run needs,
// prefaulted by both sides, unlinked afterwards.
struct SingleFileLog {
  static constexpr const char* kName = "shmio";
  static constexpr bool kRolls = false;

  struct Writer {
    LogWriter log;
    shmio::Pool& appender() { return *log.pool; }
    uint64_t rolls() const { return 0; }
  };
  struct Reader {
    std::unique_ptr<shmio::SharedMemory> shm;
    std::unique_ptr<shmio::Consumer> consumer;  // reads *shm
    shmio::Consumer& cursor() { return *consumer; }
  };

  static absl::Status Create(const std::string& path, uint64_t bytes);
  static absl::StatusOr<Writer> OpenWriter(const std::string& path);
  static absl::StatusOr<Reader> OpenReader(const std::string& path);
  static void Remove(const std::string& path);
};

extern template class BusyPollTransport<SingleFileLog>;
using ShmioBusyTransport = BusyPollTransport<SingleFileLog>;

}  // namespace bench

#endif  // BENCH_TRANSPORTS_SHMIO_BUSY_H_
