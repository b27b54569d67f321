#include "bench/transports/registry.h"

#include "bench/transports/cacheline.h"
#include "bench/transports/pipe.h"
#include "bench/transports/reference.h"
#include "bench/transports/shmio_busy.h"
#include "bench/transports/shmio_chain.h"
#include "bench/transports/shmio_uvwatch.h"
#include "bench/transports/uds.h"
#include "bench/transports/zmq.h"

namespace bench {

std::vector<std::unique_ptr<Transport>> MakeAllTransports(
    const TransportOptions& options) {
  std::vector<std::unique_ptr<Transport>> transports;
  BusyPollOptions busy;
  busy.dir = options.shm_dir;
  busy.max_log_bytes = options.max_log_bytes;
  busy.commit_every = options.commit_every;
  busy.skip_message = options.skip_message_for_test;
  busy.poll_only = options.shmio_poll_only;
  transports.push_back(std::make_unique<ShmioBusyTransport>(busy));
  transports.push_back(std::make_unique<ShmioChainTransport>(busy));
  transports.push_back(std::make_unique<ShmioUvwatchTransport>(
      options.shm_dir, uvwatch::Mode::kInotify, options.timer_interval_ms));
  transports.push_back(std::make_unique<ShmioUvwatchTransport>(
      options.shm_dir, uvwatch::Mode::kTimer, options.timer_interval_ms));
  transports.push_back(std::make_unique<PipeTransport>());
  transports.push_back(std::make_unique<UdsTransport>());
  transports.push_back(std::make_unique<ZmqTransport>(options.socket_dir));
  transports.push_back(std::make_unique<CachelineTransport>());
  transports.push_back(std::make_unique<ReferenceTransport>(
      options.shm_dir, options.max_log_bytes));
  return transports;
}

}  // namespace bench
