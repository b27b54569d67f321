// The in-run reference for //bench:ipc: the same log format and the same
// release/acquire publication as shmio, hand-written as a C-style loop over
// a raw mapping (bench/micro/reference_log.h), with no library around it:
// the writer stores a frame and release-stores `committed`; the reader spins
// on an acquire load of `committed` and walks the new frames with the same
// one-compare bounds check. It shows what the format itself costs between
// two processes, so shmio's distance from the floor splits into "format"
// and "library". Messages are verified like every other transport's.
#ifndef BENCH_TRANSPORTS_REFERENCE_H_
#define BENCH_TRANSPORTS_REFERENCE_H_

#include <string>

#include "bench/transports/transport.h"

namespace bench {

class ReferenceTransport : public Transport {
 public:
  ReferenceTransport(std::string dir, uint64_t max_log_bytes);

  std::string name() const override { return "reference"; }
  uint64_t ThroughputMessages(size_t payload_bytes,
                              uint64_t budget) const override;

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
  std::string dir_;
  uint64_t max_log_bytes_;
  std::string data_path_;  // throughput log, or latency ping log
  std::string pong_path_;  // latency pong log
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_REFERENCE_H_
