// shmio read through uvwatch: the reader sleeps in a libuv loop and a
// uvwatch::Subscription calls back with new frames, woken either by the
// writer's doorbell (inotify mode) or by polling every interval (timer
// mode). Latency only: a ping-pong in which both processes run a loop, each
// writing its own log and subscribed to the other's.
#ifndef BENCH_TRANSPORTS_SHMIO_UVWATCH_H_
#define BENCH_TRANSPORTS_SHMIO_UVWATCH_H_

#include <string>

#include "bench/transports/transport.h"
#include "uvwatch/subscription.h"

namespace bench {

class ShmioUvwatchTransport : public Transport {
 public:
  // `mode` is kInotify or kTimer (with `poll_interval_ms`); logs go in `dir`.
  ShmioUvwatchTransport(std::string dir, uvwatch::Mode mode,
                        uint64_t poll_interval_ms);

  // "shmio-inotify" or "shmio-timer".
  std::string name() const override;
  bool has_throughput() const override { return false; }
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
  uvwatch::Options SubscriptionOptions() const;

  std::string dir_;
  uvwatch::Mode mode_;
  uint64_t poll_interval_ms_;
  std::string ping_path_;
  std::string pong_path_;
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_SHMIO_UVWATCH_H_
