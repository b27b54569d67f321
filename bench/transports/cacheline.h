// The hardware floor: two processes ping-pong a counter through two atomics
// on separate cache lines of one shared mapping. No log, no frames, no
// checks beyond the counter: the least any shared-memory transport between
// two cores can cost. Latency only.
#ifndef BENCH_TRANSPORTS_CACHELINE_H_
#define BENCH_TRANSPORTS_CACHELINE_H_

#include <atomic>
#include <cstdint>

#include "bench/transports/transport.h"

namespace bench {

class CachelineTransport : public Transport {
 public:
  ~CachelineTransport() override;

  std::string name() const override { return "floor"; }
  bool has_throughput() const override { return false; }

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
  // The two words, each on its own cache line so that each side writes only
  // its own line.
  struct alignas(64) Line {
    std::atomic<uint64_t> value{0};
  };
  struct Lines {
    Line ping;  // written by the initiator
    Line pong;  // written by the echoer
  };
  Lines* lines_ = nullptr;  // MAP_SHARED anonymous mapping; owned
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_CACHELINE_H_
