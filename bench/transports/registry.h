// Every transport //bench:ipc knows, in the order they are reported.
#ifndef BENCH_TRANSPORTS_REGISTRY_H_
#define BENCH_TRANSPORTS_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "bench/transports/transport.h"

namespace bench {

struct TransportOptions {
  std::string shm_dir = "/dev/shm";   // shmio logs
  std::string socket_dir = "/tmp";    // ZeroMQ ipc:// socket files
  uint64_t max_log_bytes = 512ull << 20;
  uint64_t commit_every = 1;
  // For tests of the checks only: the shmio and shmio-chain throughput
  // writers leave out this message, so their readers must report a lossy
  // run. ~0 = none.
  uint64_t skip_message_for_test = ~uint64_t{0};
  // shmio readers loop on Consumer::Poll() without SpinUntilNew().
  bool shmio_poll_only = false;
  uint64_t timer_interval_ms = 1;  // uvwatch timer mode
};

// shmio (busy poll), shmio-chain (busy poll over a chain), shmio through
// uvwatch (inotify, timer), pipe, uds, zmq, the cache-line floor, and the
// hand-written reference log.
std::vector<std::unique_ptr<Transport>> MakeAllTransports(
    const TransportOptions& options);

}  // namespace bench

#endif  // BENCH_TRANSPORTS_REGISTRY_H_
