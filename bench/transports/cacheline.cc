#include "bench/transports/cacheline.h"

#include <sys/mman.h>

#include <cerrno>
#include <new>

#include "absl/strings/str_format.h"

namespace bench {

static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "the floor needs address-free atomics across processes");

CachelineTransport::~CachelineTransport() { Cleanup(); }

absl::Status CachelineTransport::PrepareThroughput(const ThroughputSpec&) {
  return absl::UnimplementedError("the cache-line floor measures latency only");
}
absl::Status CachelineTransport::ThroughputWriter(const ThroughputSpec&,
                                                  SharedControl*) {
  return absl::UnimplementedError("the cache-line floor measures latency only");
}
absl::Status CachelineTransport::ThroughputReader(const ThroughputSpec&,
                                                  SharedControl*) {
  return absl::UnimplementedError("the cache-line floor measures latency only");
}

absl::Status CachelineTransport::PrepareLatency(const LatencySpec&) {
  Cleanup();
  void* p = mmap(nullptr, sizeof(Lines), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ErrnoToStatus(errno, "mmap of the floor's two cache lines");
  }
  lines_ = new (p) Lines();
  return absl::OkStatus();
}

absl::Status CachelineTransport::LatencyInitiator(
    const LatencySpec& spec, SharedControl* control,
    std::vector<int64_t>* one_way_ns) {
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  SpinGuard guard(control, spec.timeout_seconds);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 1; i <= total; ++i) {
    const int64_t start = NowNs();
    // Release/acquire, the same pairing a log's commit uses: what was
    // written before the store is visible after the peer's load.
    lines_->ping.value.store(i, std::memory_order_release);
    while (lines_->pong.value.load(std::memory_order_acquire) != i) {
      if (guard.Expired()) {
        return absl::DeadlineExceededError(
            absl::StrFormat("floor: no reply to ping %d", i));
      }
    }
    const int64_t end = NowNs();
    if (i > spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
  }
  return absl::OkStatus();
}

absl::Status CachelineTransport::LatencyEchoer(const LatencySpec& spec,
                                               SharedControl* control) {
  SpinGuard guard(control, spec.timeout_seconds);
  SignalChildReady(control);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 1; i <= total; ++i) {
    // Acquire: pairs with the initiator's release store of ping.
    while (lines_->ping.value.load(std::memory_order_acquire) != i) {
      if (guard.Expired()) {
        return absl::DeadlineExceededError(
            absl::StrFormat("floor: ping %d never came", i));
      }
    }
    // Release: pairs with the initiator's acquire load of pong.
    lines_->pong.value.store(i, std::memory_order_release);
  }
  RecordReaderDone(control, total);
  return absl::OkStatus();
}

void CachelineTransport::Cleanup() {
  if (lines_ != nullptr) munmap(lines_, sizeof(Lines));
  lines_ = nullptr;
}

}  // namespace bench
