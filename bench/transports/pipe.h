// Peer: an anonymous pipe, as a user would use it. The writer makes one
// write() per message; the throughput reader reads whatever is there into a
// 64 KiB buffer and splits it into messages; latency uses a pipe each way
// with blocking reads, so it measures a kernel wake-up of a sleeping reader.
#ifndef BENCH_TRANSPORTS_PIPE_H_
#define BENCH_TRANSPORTS_PIPE_H_

#include "bench/transports/transport.h"

namespace bench {

class PipeTransport : public Transport {
 public:
  std::string name() const override { return "pipe"; }
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
  int forward_[2] = {-1, -1};   // parent writes [1], child reads [0]
  int backward_[2] = {-1, -1};  // child writes [1], parent reads [0]
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_PIPE_H_
