// Chains against single files, in one run: forward iteration over a chain
// (ChainFrameRange and ChainConsumer::Next) against the same walks of one
// file (FrameRange, Consumer::Next), both over about 24 MiB of frames held
// in one file, so the ratio shows what the chain adds within a file; and
// the latency of appends around a roll, against appends that do not roll.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "bench/micro/fresh_chain.h"
#include "bench/micro/fresh_log.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_files.h"
#include "shmio/chain_range.h"
#include "shmio/consumer.h"

namespace bench {
namespace {

constexpr uint64_t kReadBytes = uint64_t{24} << 20;

// A one-file log and a one-file chain holding the same `n`-byte frames,
// made once per size and kept for the process's life.
struct FilledPair {
  std::unique_ptr<FreshShmioLog> log;
  std::unique_ptr<FreshChain> chain;
  int64_t frames = 0;
};

template <typename Writer>
absl::Status Fill(Writer& writer, size_t n) {
  std::vector<uint8_t> payload(n);
  for (uint64_t written = 0; written + n + 4 <= kReadBytes; written += n + 4) {
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<uint8_t>(written + i);
    absl::Status status = writer.Append(payload);
    if (!status.ok()) return status;
  }
  return writer.Commit();
}

const FilledPair* GetFilledPair(size_t n, std::string* error) {
  static std::map<size_t, FilledPair> pairs;
  auto it = pairs.find(n);
  if (it != pairs.end()) return &it->second;
  FilledPair pair;
  auto log = FreshShmioLog::Create(kReadBytes + (1 << 20), /*prefault=*/true);
  auto chain = FreshChain::Create(kReadBytes + (1 << 20), /*prefault=*/true, 0);
  if (!log.ok() || !chain.ok()) {
    *error = (log.ok() ? chain.status() : log.status()).ToString();
    return nullptr;
  }
  pair.log = *std::move(log);
  pair.chain = *std::move(chain);
  absl::Status filled = Fill(pair.log->pool(), n);
  if (filled.ok()) filled = Fill(pair.chain->writer(), n);
  if (!filled.ok()) {
    *error = filled.ToString();
    return nullptr;
  }
  pair.frames = static_cast<int64_t>(kReadBytes / (n + 4));
  return &pairs.emplace(n, std::move(pair)).first->second;
}

void SetRates(benchmark::State& state, int64_t frames) {
  state.SetItemsProcessed(state.iterations() * frames);
}

void BM_ChainForwardChain(benchmark::State& state) {
  std::string error;
  const FilledPair* pair = GetFilledPair(static_cast<size_t>(state.range(0)), &error);
  if (pair == nullptr) return state.SkipWithError(error.c_str());
  auto files = shmio::ChainFiles::Open(pair->chain->directory(), false);
  if (!files.ok()) return state.SkipWithError(files.status().ToString().c_str());
  auto first = (*files)->OpenFile(0);
  if (!first.ok()) return state.SkipWithError(first.status().ToString().c_str());
  const uint64_t end = pair->chain->writer().GetSize().committed;
  for (auto _ : state) {
    uint64_t sum = 0;
    shmio::ChainFrameRange frames(*files, 0, end, *first);
    for (const shmio::ChainFrame& frame : frames) sum += frame.payload.size() + frame.payload[0];
    benchmark::DoNotOptimize(sum);
    if (!frames.status().ok()) return state.SkipWithError("damaged frame");
  }
  SetRates(state, pair->frames);
}

void BM_ChainForwardSingle(benchmark::State& state) {
  std::string error;
  const FilledPair* pair = GetFilledPair(static_cast<size_t>(state.range(0)), &error);
  if (pair == nullptr) return state.SkipWithError(error.c_str());
  const shmio::HeaderSnapshot header = pair->log->shm().ReadHeader();
  for (auto _ : state) {
    uint64_t sum = 0;
    shmio::FrameRange frames(pair->log->shm(), header.data_offset, header.committed);
    for (const shmio::Frame& frame : frames) sum += frame.payload.size() + frame.payload[0];
    benchmark::DoNotOptimize(sum);
    if (!frames.status().ok()) return state.SkipWithError("damaged frame");
  }
  SetRates(state, pair->frames);
}

// Next() in batches of 1024 frames from the first frame to the end.
void BM_ChainNextChain(benchmark::State& state) {
  std::string error;
  const FilledPair* pair = GetFilledPair(static_cast<size_t>(state.range(0)), &error);
  if (pair == nullptr) return state.SkipWithError(error.c_str());
  auto consumer = shmio::ChainConsumer::Open(pair->chain->directory());
  if (!consumer.ok()) return state.SkipWithError(consumer.status().ToString().c_str());
  for (auto _ : state) {
    // Back to the first frame, untimed (it lists the directory and opens
    // the file again; the single-file twin has no such step).
    state.PauseTiming();
    absl::Status rewound = (*consumer)->Seek(0);
    state.ResumeTiming();
    if (!rewound.ok()) return state.SkipWithError(rewound.ToString().c_str());
    uint64_t sum = 0;
    for (;;) {
      absl::StatusOr<shmio::Batch> batch = (*consumer)->Next({1024, SIZE_MAX});
      if (!batch.ok()) return state.SkipWithError(batch.status().ToString().c_str());
      if (batch->empty()) break;
      for (const shmio::Frame& frame : batch->frames) sum += frame.payload.size() + frame.payload[0];
    }
    benchmark::DoNotOptimize(sum);
  }
  SetRates(state, pair->frames);
}

void BM_ChainNextSingle(benchmark::State& state) {
  std::string error;
  const FilledPair* pair = GetFilledPair(static_cast<size_t>(state.range(0)), &error);
  if (pair == nullptr) return state.SkipWithError(error.c_str());
  shmio::Consumer consumer(&pair->log->shm());
  const uint64_t first = pair->log->shm().ReadHeader().data_offset;
  for (auto _ : state) {
    state.PauseTiming();
    absl::Status rewound = consumer.Seek(first);
    state.ResumeTiming();
    if (!rewound.ok()) return state.SkipWithError(rewound.ToString().c_str());
    uint64_t sum = 0;
    for (;;) {
      absl::StatusOr<shmio::Batch> batch = consumer.Next({1024, SIZE_MAX});
      if (!batch.ok()) return state.SkipWithError(batch.status().ToString().c_str());
      if (batch->empty()) break;
      for (const shmio::Frame& frame : batch->frames) sum += frame.payload.size() + frame.payload[0];
    }
    benchmark::DoNotOptimize(sum);
  }
  SetRates(state, pair->frames);
}

BENCHMARK(BM_ChainForwardChain)->ArgName("payload")->Arg(32)->Arg(1024);
BENCHMARK(BM_ChainForwardSingle)->ArgName("payload")->Arg(32)->Arg(1024);
BENCHMARK(BM_ChainNextChain)->ArgName("payload")->Arg(32)->Arg(1024);
BENCHMARK(BM_ChainNextSingle)->ArgName("payload")->Arg(32)->Arg(1024);

// Append + commit of 32-byte frames into a chain of 1 MiB files (a roll
// every ~29,000 frames), timing each append+commit: the worst and median
// of those that rolled, and the median and 99.99th percentile of the rest.
// Counters are nanoseconds; a roll's cost is moving to a file prepared (and
// prefaulted, with prefault:1) ahead of need.
void BM_ChainAppendAroundRoll(benchmark::State& state) {
  const bool prefault = state.range(0) != 0;
  auto chain = FreshChain::Create(1 << 20, prefault, /*retain_files=*/4);
  if (!chain.ok()) return state.SkipWithError(chain.status().ToString().c_str());
  shmio::ChainWriter& writer = (*chain)->writer();
  std::vector<uint8_t> payload(32, 0xab);
  std::vector<double> rolled;
  std::vector<double> other;
  other.reserve(1 << 22);
  for (auto _ : state) {
    const uint64_t rolls = writer.rolls();
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = writer.Append(payload);
    if (status.ok()) status = writer.Commit();
    const auto took = std::chrono::steady_clock::now() - start;
    if (!status.ok()) return state.SkipWithError(status.ToString().c_str());
    const double ns = std::chrono::duration<double, std::nano>(took).count();
    (writer.rolls() != rolls ? rolled : other).push_back(ns);
  }
  state.SetItemsProcessed(state.iterations());
  auto quantile = [](std::vector<double>& v, double q) {
    if (v.empty()) return 0.0;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  };
  state.counters["rolls"] = static_cast<double>(rolled.size());
  state.counters["roll_worst_ns"] = rolled.empty() ? 0 : *std::max_element(rolled.begin(), rolled.end());
  state.counters["roll_p50_ns"] = quantile(rolled, 0.5);
  state.counters["other_p50_ns"] = quantile(other, 0.5);
  state.counters["other_p9999_ns"] = quantile(other, 0.9999);
  state.counters["other_worst_ns"] = other.empty() ? 0 : *std::max_element(other.begin(), other.end());
}

BENCHMARK(BM_ChainAppendAroundRoll)->ArgName("prefault")->Arg(1)->Arg(0)->Iterations(3000000);

}  // namespace
}  // namespace bench
