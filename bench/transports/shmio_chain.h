// shmio-chain: the busy-polling shmio transport (busy_poll_transport.h)
// over a chain of small files (shmio/chain_writer.h), so that every run
// rolls to a new file hundreds of times: what a roll costs the writer's
// throughput and the reader's latency, next to one file in the same run.
#ifndef BENCH_TRANSPORTS_SHMIO_CHAIN_H_
#define BENCH_TRANSPORTS_SHMIO_CHAIN_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "bench/transports/busy_poll_transport.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_writer.h"

namespace bench {

// The writer's calls on a chain whose named reader protects its files:
// when a roll would remove what the reader has not acknowledged, the
// chain's append fails with ResourceExhausted (the default policy,
// chain_writer.h), and this one tries again until the reader catches up.
// A single file's writer never waits, but it never loses a frame either:
// this is how a chain with a small retention window keeps that promise.
// It stops waiting when the reader's process is gone (it failed: the run
// reports its error), or after 30 s.
class WaitingChainAppender {
 public:
  WaitingChainAppender(shmio::ChainWriter* chain, std::string reader_name)
      : chain_(chain), reader_name_(std::move(reader_name)) {}
  // Inline, as ChainWriter::SliceSize() is: the wait is out of line, so an
  // append that does not wait costs what the chain's own append costs (an
  // out-of-line call here was a call and a StatusOr copy per message, the
  // benchmark's cost, not the chain's). One named result, returned on every
  // path, so that it is built in the caller's slot: with a second return
  // of another object, `return slice` moved it there, a 16-byte load of the
  // span just stored as two 8-byte halves, a store-forwarding stall that
  // perf annotate put at 70% of the writer's append (ipc 32 B, 12-06).
  absl::StatusOr<absl::Span<uint8_t>> SliceSize(size_t n) {
    absl::StatusOr<absl::Span<uint8_t>> slice = chain_->SliceSize(n);
    if (ABSL_PREDICT_FALSE(!slice.ok()) && absl::IsResourceExhausted(slice.status())) {
      slice = SliceSizeAfterWaiting(n, std::move(slice));
    }
    return slice;
  }
  absl::Status Commit() { return chain_->Commit(); }

 private:
  // SliceSize() again until the reader has caught up (or the wait ends),
  // after `slice`, the ResourceExhausted it returned.
  absl::StatusOr<absl::Span<uint8_t>> SliceSizeAfterWaiting(
      size_t n, absl::StatusOr<absl::Span<uint8_t>> slice);
  // False once the named reader's process no longer holds its name.
  bool ReaderAlive() const;

  shmio::ChainWriter* chain_;
  std::string reader_name_;
};

// The reader's calls on the chain, as the named reader the writer waits
// for: it acknowledges what it has read once per quarter of a file, so the
// writer's retention (and recycling) follows it closely at a cost of one
// store per quarter file.
class AckingChainCursor {
 public:
  AckingChainCursor(std::unique_ptr<shmio::ChainConsumer> chain, uint64_t ack_every_bytes)
      : chain_(std::move(chain)), ack_every_bytes_(ack_every_bytes) {}
  bool SpinUntilNew(absl::Time deadline) { return chain_->SpinUntilNew(deadline); }
  template <typename Visit>
  absl::StatusOr<size_t> Poll(Visit&& visit,
                              size_t max_frames = std::numeric_limits<size_t>::max()) {
    absl::StatusOr<size_t> count = chain_->Poll(std::forward<Visit>(visit), max_frames);
    if (count.ok() && chain_->cursor() - chain_->acked() >= ack_every_bytes_) {
      absl::Status acked = chain_->Ack();
      if (!acked.ok()) return acked;
    }
    return count;
  }

 private:
  std::unique_ptr<shmio::ChainConsumer> chain_;
  uint64_t ack_every_bytes_;
};

// Each log is a chain directory whose files hold 1/kRollsPerRun of what
// the run writes (2 MiB for a default 512 MiB throughput run), at least
// kMinFileBytes.
struct ChainLog {
  static constexpr const char* kName = "shmio-chain";
  static constexpr bool kRolls = true;
  static constexpr uint64_t kRollsPerRun = 256;
  static constexpr uint64_t kMinFileBytes = 4 << 10;
  // Retention keeps kRetainFiles files, as a chain that runs for months
  // keeps a window: from the tenth file on, each new file is a removed one
  // reused (ChainOptions::recycle_files), so a run measures that steady
  // state. The reader is named (kReaderName), so the writer waits for it
  // rather than remove what it has not read.
  static constexpr uint64_t kRetainFiles = 8;
  static constexpr const char* kReaderName = "bench";

  struct Writer {
    std::unique_ptr<shmio::ChainWriter> chain;
    WaitingChainAppender appender_calls{nullptr, ""};
    WaitingChainAppender& appender() { return appender_calls; }
    uint64_t rolls() const { return chain->rolls(); }
  };
  struct Reader {
    std::unique_ptr<AckingChainCursor> chain;
    AckingChainCursor& cursor() { return *chain; }
  };

  // The file capacity for a log the run writes `bytes` to.
  static uint64_t FileBytes(uint64_t bytes);

  // Creates the chain and registers the reader's name at position 0, so
  // the writer waits for it from the first frame on, before the reader
  // process has started.
  static absl::Status Create(const std::string& path, uint64_t bytes);
  static absl::StatusOr<Writer> OpenWriter(const std::string& path);
  static absl::StatusOr<Reader> OpenReader(const std::string& path);
  static void Remove(const std::string& path);
};

extern template class BusyPollTransport<ChainLog>;
using ShmioChainTransport = BusyPollTransport<ChainLog>;

}  // namespace bench

#endif  // BENCH_TRANSPORTS_SHMIO_CHAIN_H_
