// Peer: ZeroMQ over ipc:// (a Unix socket underneath, with ZeroMQ's own I/O
// thread and batching). Throughput uses PUSH/PULL, latency a PAIR each side.
// Each process makes its own context after fork (contexts do not survive a
// fork). The socket file lives in the given directory and is removed after.
#ifndef BENCH_TRANSPORTS_ZMQ_H_
#define BENCH_TRANSPORTS_ZMQ_H_

#include <string>

#include "bench/transports/transport.h"

namespace bench {

class ZmqTransport : public Transport {
 public:
  explicit ZmqTransport(std::string socket_dir);

  std::string name() const override { return "zmq"; }
  uint64_t ThroughputMessages(size_t payload_bytes,
                              uint64_t budget) const override;
  uint64_t LatencyRoundTrips(uint64_t budget) const override;

  absl::Status PrepareThroughput(const ThroughputSpec& spec) override;
  absl::Status ThroughputWriter(const ThroughputSpec& spec,
                                SharedControl* control) override;
  absl::Status ThroughputReader(const ThroughputSpec& spec,
                                SharedControl* control) override;

  absl::Status PrepareLatency(const LatencySpec& spec) override;
  absl::Status LatencyInitiator(const LatencySpec& spec,
                                SharedControl* control,
                                std::vector<int64_t>* one_way_ns) override;
  absl::Status LatencyEchoer(const LatencySpec& spec,
                             SharedControl* control) override;

  void Cleanup() override;

 private:
  std::string socket_dir_;
  std::string socket_path_;  // the ipc:// endpoint's file
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_ZMQ_H_
