// Append + commit, shmio's Pool against the reference writer: commit every
// 1, 100 and 1000 frames; payloads of 32, 256 and 1024 bytes; the mapping
// prefaulted at open or faulted in by the appends. One benchmark iteration
// is one frame (items/s = frames/s).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "bench/micro/fresh_chain.h"
#include "bench/micro/fresh_log.h"
#include "shmio/chain_consumer.h"

namespace bench {
namespace {

// Every adapter appends as a user's loop does: through the one pointer a
// user holds (a Pool*, a ChainWriter*, the reference writer), cached here,
// and with Append() inlined into the benchmark loop. Each pointer between
// the loop and the writer's state is one more dependent load after every
// memcpy (an opaque call): the chain's adapter once reached its writer
// through the bench's FreshChain as well, and that one hop was 0.75 -> 0.86
// of the chain/single ratio (12-03).

// Each log holds this much; when full it is replaced with timing paused.
constexpr uint64_t kAppendLogBytes = uint64_t{128} << 20;

class ShmioWriter {
 public:
  absl::Status Rewind() {
    absl::Status rewound = log_->Rewind();
    pool_ = &log_->pool();  // Rewind() opens a new Pool
    return rewound;
  }
  absl::Status Reset(bool prefault) {
    pool_ = nullptr;
    log_.reset();
    absl::StatusOr<std::unique_ptr<FreshShmioLog>> log =
        FreshShmioLog::Create(kAppendLogBytes, prefault);
    if (!log.ok()) return log.status();
    log_ = *std::move(log);
    pool_ = &log_->pool();
    return absl::OkStatus();
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool Append(const uint8_t* payload, size_t n) {
    absl::StatusOr<absl::Span<uint8_t>> slice = pool_->SliceSize(n);
    if (!slice.ok()) return false;  // "Shared memory exhausted": replace it
    std::memcpy(slice->data(), payload, n);
    return true;
  }
  absl::Status Commit() { return pool_->Commit(); }

 private:
  std::unique_ptr<FreshShmioLog> log_;
  shmio::Pool* pool_ = nullptr;  // log_'s
};

class RefWriterAdapter {
 public:
  absl::Status Rewind() {
    log_->Rewind();
    return absl::OkStatus();
  }
  absl::Status Reset(bool prefault) {
    writer_ = nullptr;
    log_.reset();
    absl::StatusOr<std::unique_ptr<FreshReferenceLog>> log =
        FreshReferenceLog::Create(kAppendLogBytes, prefault);
    if (!log.ok()) return log.status();
    log_ = *std::move(log);
    writer_ = &log_->writer();
    return absl::OkStatus();
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool Append(const uint8_t* payload, size_t n) {
    return writer_->Append(payload, n);
  }
  absl::Status Commit() {
    writer_->Commit();
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<FreshReferenceLog> log_;
  RefWriter* writer_ = nullptr;  // log_'s
};

// A chain whose files are as large as ShmioWriter's log: the ratio
// compares appends within a file. Its rolls (one per 128 MiB) are timed;
// the preparing of the next file on the chain's own thread is not: after a
// roll the adapter reports "full" and the benchmark, timing paused, waits
// for it (Rewind), as ShmioWriter makes its next file with timing paused.
// Without that wait a writer that fills 128 MiB in ~20 ms outruns the
// kernel's zeroing of the next file's pages on the other core (see
// BM_ChainAppendAroundRoll for a roll's own cost).
class ChainWriterAdapter {
 public:
  absl::Status Rewind() {
    while (!chain_->writer().next_file_ready()) usleep(100);
    return absl::OkStatus();
  }
  absl::Status Reset(bool prefault) {
    writer_ = nullptr;
    chain_.reset();
    absl::StatusOr<std::unique_ptr<FreshChain>> chain =
        FreshChain::Create(kAppendLogBytes, prefault, /*retain_files=*/2);
    if (!chain.ok()) return chain.status();
    chain_ = *std::move(chain);
    writer_ = &chain_->writer();
    return Rewind();
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool Append(const uint8_t* payload, size_t n) {
    const uint64_t rolls = writer_->rolls();
    absl::StatusOr<absl::Span<uint8_t>> slice = writer_->SliceSize(n);
    if (!slice.ok()) return false;
    std::memcpy(slice->data(), payload, n);
    return writer_->rolls() == rolls;  // after a roll: wait, untimed
  }
  absl::Status Commit() { return writer_->Commit(); }
  const std::string& directory() const { return chain_->directory(); }

 private:
  std::unique_ptr<FreshChain> chain_;
  shmio::ChainWriter* writer_ = nullptr;  // chain_'s
};

// The chain above with a named reader (shmio/reader_table.h) that keeps
// up: after each roll, timing paused, it reads to the end and acknowledges,
// so retention may remove what it has read. Named readers cost the writer
// only at a roll (ChainWriter::ProtectNamedReaders), never per append: the
// ratio against ChainWriterAdapter shows it.
class ChainWithNamedReaderAdapter {
 public:
  absl::Status Rewind() {
    absl::Status caught_up = CatchUp();
    if (!caught_up.ok()) return caught_up;
    return chain_.Rewind();
  }
  absl::Status Reset(bool prefault) {
    reader_.reset();
    absl::Status reset = chain_.Reset(prefault);
    if (!reset.ok()) return reset;
    absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> reader =
        shmio::ChainConsumer::OpenNamed(chain_.directory(), "bench");
    if (!reader.ok()) return reader.status();
    reader_ = *std::move(reader);
    return absl::OkStatus();
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE bool Append(const uint8_t* payload, size_t n) {
    return chain_.Append(payload, n);
  }
  absl::Status Commit() { return chain_.Commit(); }

 private:
  absl::Status CatchUp() {
    for (;;) {
      absl::StatusOr<shmio::Batch> batch = reader_->Next();
      if (!batch.ok()) return batch.status();
      if (batch->empty()) return reader_->Ack();
    }
  }
  ChainWriterAdapter chain_;
  std::unique_ptr<shmio::ChainConsumer> reader_;
};

template <class Writer>
void BM_AppendCommit(benchmark::State& state) {
  const int64_t commit_every = state.range(0);
  const size_t n = static_cast<size_t>(state.range(1));
  const bool prefault = state.range(2) != 0;
  std::vector<uint8_t> payload(n, 0xab);
  Writer writer;
  absl::Status status = writer.Reset(prefault);
  if (!status.ok()) {
    state.SkipWithError(status.ToString().c_str());
    return;
  }
  int64_t since_commit = 0;
  for (auto _ : state) {
    if (!writer.Append(payload.data(), n)) {
      // Full. Prefaulted: start over on the same resident pages (a writer
      // whose log is all in memory). Not prefaulted: a new file, so the
      // appends keep paying first-touch page faults, as a fresh log does.
      state.PauseTiming();
      status = prefault ? writer.Rewind() : writer.Reset(prefault);
      state.ResumeTiming();
      if (!status.ok() || !writer.Append(payload.data(), n)) {
        state.SkipWithError("could not replace a full log");
        break;
      }
      since_commit = 0;
    }
    if (++since_commit == commit_every) {
      since_commit = 0;
      status = writer.Commit();
      if (!status.ok()) {
        state.SkipWithError(status.ToString().c_str());
        break;
      }
    }
  }
  (void)writer.Commit();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(n));
}

void AppendArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"commit_every", "payload", "prefault"});
  for (int64_t prefault : {1, 0}) {
    for (int64_t commit_every : {1, 100, 1000}) {
      for (int64_t payload : {32, 256, 1024}) {
        b->Args({commit_every, payload, prefault});
      }
    }
  }
}

BENCHMARK_TEMPLATE(BM_AppendCommit, ShmioWriter)->Apply(AppendArgs);
BENCHMARK_TEMPLATE(BM_AppendCommit, RefWriterAdapter)->Apply(AppendArgs);
BENCHMARK_TEMPLATE(BM_AppendCommit, ChainWriterAdapter)->Apply(AppendArgs);
BENCHMARK_TEMPLATE(BM_AppendCommit, ChainWithNamedReaderAdapter)->Apply(AppendArgs);

}  // namespace
}  // namespace bench
