// Peer: a Unix domain socket pair of type SOCK_SEQPACKET (message
// boundaries kept, reliable, ordered), one send() and one recv() per
// message, blocking, as a user would write it.
#ifndef BENCH_TRANSPORTS_UDS_H_
#define BENCH_TRANSPORTS_UDS_H_

#include "bench/transports/transport.h"

namespace bench {

class UdsTransport : public Transport {
 public:
  std::string name() const override { return "uds"; }
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
  int fds_[2] = {-1, -1};  // parent uses [0], child uses [1]
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_UDS_H_
