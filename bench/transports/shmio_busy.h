// shmio with a busy-polling reader: the writer appends and commits each
// message (or every `commit_every`), the reader busy-polls the way the
// README tells users to: Consumer::SpinUntilNew(), then Consumer::Poll().
// Latency uses two logs, ping (parent writes) and pong (child writes).
#ifndef BENCH_TRANSPORTS_SHMIO_BUSY_H_
#define BENCH_TRANSPORTS_SHMIO_BUSY_H_

#include <string>

#include "bench/transports/transport.h"

namespace bench {

class ShmioBusyTransport : public Transport {
 public:
  // Logs go in `dir` (normally /dev/shm); a throughput log holds at most
  // `max_log_bytes`; the writer commits every `commit_every` messages.
  // `poll_only`: readers call Consumer::Poll() in a loop without
  // SpinUntilNew(); shows what SpinUntilNew()'s prefetch saves a wake-up.
  // `skip_message` (tests only): the throughput writer leaves that message
  // out, to show the reader reports the loss.
  ShmioBusyTransport(std::string dir, uint64_t max_log_bytes,
                     uint64_t commit_every,
                     uint64_t skip_message = ~uint64_t{0},
                     bool poll_only = false);

  std::string name() const override { return "shmio"; }
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
  bool poll_only_;
  std::string dir_;
  uint64_t max_log_bytes_;
  uint64_t commit_every_;
  uint64_t skip_message_;
  std::string data_path_;  // throughput log, or latency ping log
  std::string pong_path_;  // latency pong log
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_SHMIO_BUSY_H_
