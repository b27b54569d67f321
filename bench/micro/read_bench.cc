// Reading a committed log in one process: forward iteration (FrameRange)
// and reverse iteration (ReverseFrameRange) against the reference loops over
// the same bytes, and batch reads through Consumer::Next with frame limits.
// Per frame, every reader does the same work: add the payload's size and
// first byte to a sum (touching the frame, not copying it). Items/s =
// frames/s; bytes/s counts payload bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "bench/micro/fresh_log.h"
#include "bench/micro/reference_log.h"
#include "shmio/consumer.h"
#include "shmio/iterator.h"

namespace bench {
namespace {

// Frames of one payload size filling about this many bytes: past L2, within
// L3 on the machine the numbers come from.
constexpr uint64_t kReadLogBytes = uint64_t{24} << 20;

struct FilledLog {
  std::unique_ptr<FreshShmioLog> log;
  uint64_t from = 0;  // data offset
  uint64_t to = 0;    // committed
  int64_t frames = 0;
};

// A prefaulted log full of `n`-byte frames, made once per size and kept for
// the process's life. The map is destroyed at exit (not leaked on purpose),
// so ~FreshShmioLog removes the files from /dev/shm.
const FilledLog* GetFilledLog(size_t n, std::string* error) {
  static std::map<size_t, FilledLog> filled_logs;
  std::map<size_t, FilledLog>* logs = &filled_logs;
  auto it = logs->find(n);
  if (it != logs->end()) return &it->second;
  absl::StatusOr<std::unique_ptr<FreshShmioLog>> log =
      FreshShmioLog::Create(kReadLogBytes + (1 << 20), /*prefault=*/true);
  if (!log.ok()) {
    *error = log.status().ToString();
    return nullptr;
  }
  FilledLog filled;
  filled.log = *std::move(log);
  shmio::Pool& pool = filled.log->pool();
  std::vector<uint8_t> payload(n);
  for (uint64_t written = 0; written + n + 4 <= kReadLogBytes; written += n + 4) {
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<uint8_t>(written + i);
    absl::Status status = pool.Append(payload);
    if (!status.ok()) {
      *error = status.ToString();
      return nullptr;
    }
    ++filled.frames;
  }
  absl::Status status = pool.Commit();
  if (!status.ok()) {
    *error = status.ToString();
    return nullptr;
  }
  const shmio::HeaderSnapshot header = filled.log->shm().ReadHeader();
  filled.from = header.data_offset;
  filled.to = header.committed;
  return &logs->emplace(n, std::move(filled)).first->second;
}

void SetRates(benchmark::State& state, int64_t frames, size_t n) {
  state.SetItemsProcessed(state.iterations() * frames);
  state.SetBytesProcessed(state.iterations() * frames * static_cast<int64_t>(n));
}

// A walk over the whole filled log through a shmio range type
// (FrameRange forwards, ReverseFrameRange backwards).
template <typename Range>
void WalkShmio(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::string error;
  const FilledLog* log = GetFilledLog(n, &error);
  if (log == nullptr) return state.SkipWithError(error.c_str());
  for (auto _ : state) {
    uint64_t sum = 0;
    Range frames(log->log->shm(), log->from, log->to);
    for (const shmio::Frame& frame : frames) {
      sum += frame.payload.size() + frame.payload[0];
    }
    benchmark::DoNotOptimize(sum);
    if (!frames.status().ok()) return state.SkipWithError("damaged frame");
  }
  SetRates(state, log->frames, n);
}

void BM_ForwardShmio(benchmark::State& state) {
  WalkShmio<shmio::FrameRange>(state);
}

void BM_ForwardRef(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::string error;
  const FilledLog* log = GetFilledLog(n, &error);
  if (log == nullptr) return state.SkipWithError(error.c_str());
  const uint8_t* base = log->log->shm().data();
  for (auto _ : state) {
    uint64_t sum = 0;
    const uint64_t end = RefForEachForward(
        base, log->from, log->to,
        [&](const uint8_t* payload, size_t size) { sum += size + payload[0]; });
    benchmark::DoNotOptimize(sum);
    if (end != log->to) return state.SkipWithError("damaged frame");
  }
  SetRates(state, log->frames, n);
}

void BM_ReverseShmio(benchmark::State& state) {
  WalkShmio<shmio::ReverseFrameRange>(state);
}

void BM_ReverseRef(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::string error;
  const FilledLog* log = GetFilledLog(n, &error);
  if (log == nullptr) return state.SkipWithError(error.c_str());
  const uint8_t* base = log->log->shm().data();
  for (auto _ : state) {
    uint64_t sum = 0;
    const uint64_t end = RefForEachReverse(
        base, log->from, log->to,
        [&](const uint8_t* payload, size_t size) { sum += size + payload[0]; });
    benchmark::DoNotOptimize(sum);
    if (end != log->from) return state.SkipWithError("damaged frame");
  }
  SetRates(state, log->frames, n);
}

// Consumer::Next with a frame limit, then a walk of the batch: what a
// polling reader does. At the end of the log the consumer seeks back to the
// beginning (rare: once per pass over the log).
void BM_BatchShmio(benchmark::State& state) {
  const size_t max_frames = static_cast<size_t>(state.range(0));
  const size_t n = static_cast<size_t>(state.range(1));
  std::string error;
  const FilledLog* log = GetFilledLog(n, &error);
  if (log == nullptr) return state.SkipWithError(error.c_str());
  shmio::Consumer consumer(&log->log->shm());
  shmio::BatchLimits limits;
  limits.max_frames = max_frames;
  int64_t frames_read = 0;
  for (auto _ : state) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next(limits);
    if (!batch.ok()) return state.SkipWithError(batch.status().ToString().c_str());
    if (batch->empty()) {
      (void)consumer.Seek(shmio::Consumer::kBeginning);
      continue;
    }
    uint64_t sum = 0;
    for (const shmio::Frame& frame : batch->frames) {
      sum += frame.payload.size() + frame.payload[0];
    }
    benchmark::DoNotOptimize(sum);
    frames_read += static_cast<int64_t>(batch->frame_count);
  }
  state.SetItemsProcessed(frames_read);
  state.SetBytesProcessed(frames_read * static_cast<int64_t>(n));
}

BENCHMARK(BM_ForwardShmio)->ArgName("payload")->Arg(32)->Arg(256)->Arg(1024);
BENCHMARK(BM_ForwardRef)->ArgName("payload")->Arg(32)->Arg(256)->Arg(1024);
BENCHMARK(BM_ReverseShmio)->ArgName("payload")->Arg(32)->Arg(256)->Arg(1024);
BENCHMARK(BM_ReverseRef)->ArgName("payload")->Arg(32)->Arg(256)->Arg(1024);
BENCHMARK(BM_BatchShmio)
    ->ArgNames({"max_frames", "payload"})
    ->Args({1, 32})
    ->Args({64, 32})
    ->Args({1024, 32})
    ->Args({1024, 1024});

}  // namespace
}  // namespace bench

namespace bench {
namespace {

// One poll that finds nothing new: what a busy-polling reader repeats, and
// so half of it, on average, is added to every wake-up. shmio: one
// Consumer::Poll() at the end of the log; reference: one acquire load of
// `committed` compared with the cursor.
void BM_PollNothingNewShmio(benchmark::State& state) {
  std::string error;
  const FilledLog* log = GetFilledLog(32, &error);
  if (log == nullptr) return state.SkipWithError(error.c_str());
  shmio::Consumer consumer(&log->log->shm());
  absl::Status status = consumer.SeekToEnd();
  if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
  uint64_t sum = 0;
  for (auto _ : state) {
    absl::StatusOr<size_t> frames =
        consumer.Poll([&](const shmio::Frame& frame) { sum += frame.payload[0]; });
    if (!frames.ok() || *frames != 0) return state.SkipWithError("unexpected frames");
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

void BM_PollNothingNewRef(benchmark::State& state) {
  std::string error;
  const FilledLog* log = GetFilledLog(32, &error);
  if (log == nullptr) return state.SkipWithError(error.c_str());
  const uint8_t* base = log->log->shm().data();
  const uint64_t cursor = log->to;
  for (auto _ : state) {
    // Acquire: as a reader would, to see the frames below a new value.
    const uint64_t committed = __atomic_load_n(
        reinterpret_cast<const uint64_t*>(base + kRefCommittedOffset), __ATOMIC_ACQUIRE);
    benchmark::DoNotOptimize(committed);
    if (committed != cursor) return state.SkipWithError("unexpected frames");
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_PollNothingNewShmio);
BENCHMARK(BM_PollNothingNewRef);

}  // namespace
}  // namespace bench

namespace bench {
namespace {

// The software on a busy-poll wake-up's critical path, with no second core
// (so no cache misses): append one 32-byte frame, commit it, read it back
// as a reader would, and check its first byte. shmio: Pool::SliceSize +
// Commit, then Consumer::Poll; reference: the same on the hand-written log.
void BM_OneFrameRoundShmio(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<FreshShmioLog>> log =
      FreshShmioLog::Create(uint64_t{256} << 20, /*prefault=*/true);
  if (!log.ok()) return state.SkipWithError(log.status().ToString().c_str());
  shmio::Pool& pool = (*log)->pool();
  shmio::Consumer consumer(&(*log)->shm());
  uint8_t payload[32] = {7};
  uint64_t sum = 0;
  for (auto _ : state) {
    absl::StatusOr<absl::Span<uint8_t>> slice = pool.SliceSize(sizeof payload);
    if (!slice.ok()) return state.SkipWithError("log full");
    std::memcpy(slice->data(), payload, sizeof payload);
    (void)pool.Commit();
    absl::StatusOr<size_t> frames =
        consumer.Poll([&](const shmio::Frame& frame) { sum += frame.payload[0]; }, 1);
    if (!frames.ok() || *frames != 1) return state.SkipWithError("no frame");
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

void BM_OneFrameRoundRef(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<FreshReferenceLog>> log =
      FreshReferenceLog::Create(uint64_t{256} << 20, /*prefault=*/true);
  if (!log.ok()) return state.SkipWithError(log.status().ToString().c_str());
  RefWriter& writer = (*log)->writer();
  const uint8_t* base = (*log)->data();
  uint64_t cursor = kRefDataOffset;
  uint8_t payload[32] = {7};
  uint64_t sum = 0;
  for (auto _ : state) {
    if (!writer.Append(payload, sizeof payload)) return state.SkipWithError("log full");
    writer.Commit();
    // Acquire: as a reader in another process would load it.
    const uint64_t committed = __atomic_load_n(
        reinterpret_cast<const uint64_t*>(base + kRefCommittedOffset), __ATOMIC_ACQUIRE);
    cursor = RefForEachForward(base, cursor, committed,
                               [&](const uint8_t* p, size_t) { sum += p[0]; });
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_OneFrameRoundShmio)->Iterations(5000000);
BENCHMARK(BM_OneFrameRoundRef)->Iterations(5000000);

}  // namespace
}  // namespace bench
