// The interface every transport in //bench:ipc implements: a one-way
// throughput run and a ping-pong latency run, each split into the part that
// runs in the parent (writer / initiator) and the part that runs in the
// forked child (reader / echoer).
//
// Lifecycle of one run, driven by ipc_runner.cc:
//   Prepare*()        in the parent, before fork: files, socket pairs, ...
//   fork
//   parent: Throughput Writer / Latency Initiator   (pinned to one CPU)
//   child:  Throughput Reader / Latency Echoer      (pinned to another)
//   Cleanup()         in the parent, after the child ended
//
// Rules every transport follows:
//   - The reader checks every message (bench/message.h) and fails on the
//     first bad one; it stores control->verified and control->end_ns after
//     the last message. The writer waits for control->child_ready before it
//     stores control->start_ns and sends the first message.
//   - No side waits forever: spin loops use SpinGuard, blocking calls see
//     EOF or a timeout when the peer died.
//   - Each side closes the other side's descriptors first thing after fork,
//     so that a dead peer shows as EOF.
#ifndef BENCH_TRANSPORTS_TRANSPORT_H_
#define BENCH_TRANSPORTS_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/two_process.h"

namespace bench {

struct ThroughputSpec {
  size_t payload_bytes = 32;
  uint64_t messages = 0;
  double timeout_seconds = 60;
};

struct LatencySpec {
  size_t payload_bytes = 32;
  uint64_t warmup_round_trips = 0;  // not recorded
  uint64_t round_trips = 0;         // recorded
  double timeout_seconds = 60;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Short stable name used in the output: "shmio", "pipe", "uds", ...
  virtual std::string name() const = 0;

  virtual bool has_throughput() const { return true; }
  virtual bool has_latency() const { return true; }

  // How many messages a throughput run should send so that it lasts long
  // enough to measure (and, for shmio, fits the log). `budget` is the
  // caller's default count for this payload size.
  virtual uint64_t ThroughputMessages(size_t payload_bytes,
                                      uint64_t budget) const {
    return budget;
  }

  // Round trips for a latency run (fewer for slow transports).
  virtual uint64_t LatencyRoundTrips(uint64_t budget) const { return budget; }

  // Transports over a chain: how many times the last run's writer rolled
  // to a new file (read in the parent after the run). Others: none.
  virtual std::optional<uint64_t> rolls_in_last_run() const {
    return std::nullopt;
  }

  virtual absl::Status PrepareThroughput(const ThroughputSpec& spec) = 0;
  virtual absl::Status ThroughputWriter(const ThroughputSpec& spec,
                                        SharedControl* control) = 0;
  virtual absl::Status ThroughputReader(const ThroughputSpec& spec,
                                        SharedControl* control) = 0;

  virtual absl::Status PrepareLatency(const LatencySpec& spec) = 0;
  // Appends one sample per recorded round trip: half its duration, in ns.
  virtual absl::Status LatencyInitiator(const LatencySpec& spec,
                                        SharedControl* control,
                                        std::vector<int64_t>* one_way_ns) = 0;
  virtual absl::Status LatencyEchoer(const LatencySpec& spec,
                                     SharedControl* control) = 0;

  // Releases what Prepare*() made (files, descriptors). Called in the
  // parent after the child ended, whether the run succeeded or not.
  virtual void Cleanup() = 0;
};

// Waits until the child said it is ready; error when it gave up or the
// timeout passed. Both sides' spin loops use this shape.
absl::Status WaitForChildReady(SharedControl* control, double seconds);

// Marks the child ready (release: its setup happens-before the writer's
// first message).
void SignalChildReady(SharedControl* control);

// Stores what the reader verified and when it finished.
void RecordReaderDone(SharedControl* control, uint64_t verified);

// Stores how many messages the reader has verified so far, so that a run
// that stalls reports how far it got.
void RecordReaderProgress(SharedControl* control, uint64_t verified);

// Waits (sleeping, the writer has nothing left to time) until the reader
// recorded it is done, gave up, or `seconds` passed. For writers whose
// transport may drop what is still queued when the sending end closes.
void WaitForReaderDone(const SharedControl* control, double seconds);

// Stores when the writer started.
void RecordWriterStart(SharedControl* control);

}  // namespace bench

#endif  // BENCH_TRANSPORTS_TRANSPORT_H_
