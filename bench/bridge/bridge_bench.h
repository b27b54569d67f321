// //bench:bridge: what the Redis bridge costs, each measure next to a
// plain-hiredis reference in the same run (see README "More than one host").
//
//   throughput: bridge::Publisher publishing a prefilled log (32- and
//     1024-byte frames) until the stream holds all of it, against a plain
//     pipelined hiredis XADD loop (same IDs, fields, window and batch size,
//     same loop adapter) over the same frames.
//   latency: Pool::Commit() of one frame to the uvwatch callback on the
//     mirror's log, through `shmio publish` and `shmio mirror` processes and
//     Redis, against a bare XADD + XREAD BLOCK round trip between two
//     connections.
#ifndef BENCH_BRIDGE_BRIDGE_BENCH_H_
#define BENCH_BRIDGE_BRIDGE_BENCH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace bench_bridge {

struct ThroughputConfig {
  int redis_port = 0;
  std::string log_path;      // prefilled with `frames` frames
  uint64_t frames = 0;
  size_t max_in_flight = 4096;  // both sides
  size_t batch = 1024;          // frames read per batch, both sides
};

// One side's result on a fresh stream named `stream`.
struct Throughput {
  double frames_per_second = 0;
  double cpu_ns_per_frame = 0;  // this process's user + system CPU (Redis runs apart)
};
absl::StatusOr<Throughput> PublisherThroughput(const ThroughputConfig& config,
                                               const std::string& stream);
absl::StatusOr<Throughput> ReferenceThroughput(const ThroughputConfig& config,
                                               const std::string& stream);

// Writes `frames` frames of `payload_bytes` into a new log at `path`.
absl::Status PrefillLog(const std::string& path, uint64_t frames, size_t payload_bytes);

// One-way latencies in nanoseconds, `samples` of them.
absl::StatusOr<std::vector<int64_t>> BridgeLatency(int redis_port, const std::string& shmio_binary,
                                                   const std::string& dir, int samples);
absl::StatusOr<std::vector<int64_t>> ReferenceLatency(int redis_port, int samples);

}  // namespace bench_bridge

#endif  // BENCH_BRIDGE_BRIDGE_BENCH_H_
