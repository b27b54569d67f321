// Commit() with the doorbell armed and not armed. Armed: a Doorbell (the
// reader side, here in the same process) arms before each commit, as a
// reader that falls asleep after every frame would, so every Commit() rings
// (one pwrite). Not armed: nobody sleeps, so Commit() is a release store, a
// fence and one load, and makes no syscall; the counter rings_per_commit
// shows it (Pool::doorbell_rings()). Each iteration appends one 32-byte
// frame and commits it.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "bench/micro/fresh_log.h"
#include "shmio/doorbell.h"

namespace bench {
namespace {

constexpr uint64_t kDoorbellLogBytes = uint64_t{64} << 20;
constexpr size_t kPayload = 32;

struct DoorbellLog {
  std::unique_ptr<FreshShmioLog> log;
  std::unique_ptr<shmio::Doorbell> doorbell;

  absl::Status Reset() {
    doorbell.reset();
    log.reset();
    absl::StatusOr<std::unique_ptr<FreshShmioLog>> fresh =
        FreshShmioLog::Create(kDoorbellLogBytes, /*prefault=*/true);
    if (!fresh.ok()) return fresh.status();
    log = *std::move(fresh);
    absl::StatusOr<std::unique_ptr<shmio::Doorbell>> bell =
        shmio::Doorbell::Open(log->path());
    if (!bell.ok()) return bell.status();
    doorbell = *std::move(bell);
    return absl::OkStatus();
  }
};

void BM_CommitDoorbell(benchmark::State& state) {
  const bool armed = state.range(0) != 0;
  uint8_t payload[kPayload] = {0};
  DoorbellLog log;
  absl::Status status = log.Reset();
  if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
  uint64_t rings = 0;
  uint64_t committed_seen = 0;
  for (auto _ : state) {
    if (armed) committed_seen += log.doorbell->ArmAndLoadCommitted();
    absl::StatusOr<absl::Span<uint8_t>> slice = log.log->pool().SliceSize(kPayload);
    if (!slice.ok()) {
      state.PauseTiming();
      rings += log.log->pool().doorbell_rings();
      status = log.Reset();
      state.ResumeTiming();
      if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
      slice = log.log->pool().SliceSize(kPayload);
      if (!slice.ok()) return state.SkipWithError(slice.status().ToString().c_str());
    }
    std::memcpy(slice->data(), payload, kPayload);
    status = log.log->pool().Commit();
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
  }
  benchmark::DoNotOptimize(committed_seen);
  rings += log.log->pool().doorbell_rings();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPayload));
  state.counters["rings_per_commit"] =
      static_cast<double>(rings) / static_cast<double>(state.iterations());
}

BENCHMARK(BM_CommitDoorbell)->ArgName("armed")->Arg(0)->Arg(1);

}  // namespace
}  // namespace bench
