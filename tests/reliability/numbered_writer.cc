// numbered_writer: appends numbered, self-checking frames (numbered_payload.h)
// to a shmio log in random commit batches, reporting each Commit() to its
// parent through a pipe (writer_report.h). The crash and concurrency suites
// run it as a real separate process and SIGKILL it at random moments.
//
// A writer that opens an existing log derives its next sequence number from
// the last committed frame, exactly as an application that recovers from a
// crash would, so consecutive writers continue one gap-free sequence.
//
// With --chain_file_capacity, --path is a chain directory (created when
// missing) and the frames go through a ChainWriter, which rolls to a new
// file whenever one is full: such a log is never full. --chain_retain_files
// keeps only that many files (retention reuses the ones it removes).
//
// Exit codes: 0 done (--frames written, or the log is full and
// --on_full=exit), 2 the log could not be opened, 3 the log holds a frame
// that is not a numbered payload, 4 an append or commit failed.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "shmio/chain_files.h"
#include "shmio/chain_range.h"
#include "shmio/chain_writer.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/numbered_payload.h"
#include "tests/reliability/writer_report.h"

ABSL_FLAG(std::string, path, "", "the log file");
ABSL_FLAG(uint64_t, capacity, 0, "file size when creating (capacity form)");
ABSL_FLAG(uint64_t, size, 0, "segment size when creating (geometry form)");
ABSL_FLAG(uint64_t, num, 0, "segment count when creating (geometry form)");
ABSL_FLAG(uint64_t, overlap, 0, "segment overlap (geometry form)");
ABSL_FLAG(uint64_t, seed, 1, "seed for payload lengths and batch sizes");
ABSL_FLAG(int, report_fd, -1, "pipe to report to (writer_report.h); -1: none");
ABSL_FLAG(uint64_t, frames, 0, "frames to write, then exit 0; 0: no limit");
ABSL_FLAG(int, max_batch, 16, "largest commit batch, in frames");
ABSL_FLAG(uint64_t, max_payload, 65531, "largest payload, in bytes");
ABSL_FLAG(std::string, on_full, "wait",
          "when the log is full: 'wait' (report, then sleep until killed) "
          "or 'exit' (report, exit 0)");
ABSL_FLAG(bool, debug, false, "debug checks on (writer checks prev frame)");
ABSL_FLAG(uint64_t, chain_file_capacity, 0,
          "nonzero: --path is a chain directory whose files have this capacity");
ABSL_FLAG(uint64_t, chain_retain_files, 0,
          "with --chain_file_capacity: keep at most this many files; 0: all");

namespace shmio_reliability {
namespace {

int report_fd = -1;

void SendReport(ReportKind kind, uint64_t committed, uint64_t next_seq) {
  if (report_fd < 0) return;
  Report report{kind, committed, next_seq};
  // One write of 24 bytes (< PIPE_BUF) is atomic; retry only on EINTR.
  while (write(report_fd, &report, sizeof report) < 0 && errno == EINTR) {
  }
}

int Fail(int code, const absl::Status& status, const char* what) {
  std::fprintf(stderr, "numbered_writer: %s: %s\n", what,
               status.ToString().c_str());
  return code;
}

// One past the sequence number of the last frame of a reverse walk (a
// ReverseFrameRange or ReverseChainFrameRange ending at committed), which
// must close a batch; `where` gives a frame's offset or position.
template <typename Range, typename Where>
absl::StatusOr<uint64_t> SeqAfterLast(const Range& frames, Where where) {
  auto last = frames.begin();
  if (last == frames.end()) {
    return frames.status().ok() ? absl::DataLossError("no last frame below committed")
                                : frames.status();
  }
  PayloadInfo info;
  absl::Status status = CheckPayload(last->payload, where(*last), &info);
  if (!status.ok()) return status;
  if (!info.ends_batch()) {
    return absl::DataLossError(absl::StrFormat(
        "the last committed frame (at %d, seq %d) is index %d of a %d-frame "
        "batch: committed ends inside a batch",
        where(*last), info.seq, info.index, info.batch_length));
  }
  return info.seq + 1;
}

// The next sequence number of a file: one past the last committed frame's.
absl::StatusOr<uint64_t> NextSeq(const shmio::SharedMemory& shm,
                                 uint64_t data_offset, uint64_t committed) {
  if (committed == data_offset) return 0;
  shmio::ReverseFrameRange frames(shm, data_offset, committed, true);
  return SeqAfterLast(frames, [](const shmio::Frame& f) { return f.offset; });
}

// The same for a chain, whose frames lie in [oldest, committed) positions.
absl::StatusOr<uint64_t> NextChainSeq(const std::string& directory, uint64_t committed) {
  auto files = shmio::ChainFiles::Open(directory, true);
  if (!files.ok()) return files.status();
  auto listing = (*files)->List();
  if (!listing.ok()) return listing.status();
  const uint64_t oldest = listing->files.front().base_position;
  if (committed == oldest) return 0;
  shmio::ReverseChainFrameRange frames(*files, oldest, committed);
  return SeqAfterLast(frames, [](const shmio::ChainFrame& f) { return f.position; });
}

// Appends numbered batches to `log` (a Pool or a ChainWriter) until
// --frames are written or the log is full; `committed` and `seq` are where
// it continues.
template <typename Log>
int WriteBatches(Log& log, uint64_t committed, uint64_t seq) {
  SendReport(ReportKind::kStarted, committed, seq);
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  const uint64_t frame_limit = absl::GetFlag(FLAGS_frames);
  const int max_batch = absl::GetFlag(FLAGS_max_batch);
  const size_t max_payload = absl::GetFlag(FLAGS_max_payload);
  uint64_t written = 0;
  while (frame_limit == 0 || written < frame_limit) {
    uint64_t batch = 1 + rng() % max_batch;
    if (frame_limit != 0 && batch > frame_limit - written) {
      batch = frame_limit - written;
    }
    bool full = false;
    uint64_t appended = 0;
    for (; appended < batch; ++appended) {
      size_t length = RandomPayloadLength(rng, max_payload);
      absl::StatusOr<absl::Span<uint8_t>> slice = log.SliceSize(length);
      if (absl::IsResourceExhausted(slice.status())) {
        full = true;
        break;
      }
      if (!slice.ok()) return Fail(4, slice.status(), "SliceSize");
      FillPayload(*slice, seq + appended, static_cast<uint16_t>(appended),
                  static_cast<uint16_t>(batch));
    }
    if (full) {
      // A batch must be whole; what was appended of this one is dropped
      // by never committing it (the next writer overwrites it).
      SendReport(ReportKind::kFull, committed, seq);
      if (absl::GetFlag(FLAGS_on_full) == "exit") return 0;
      for (;;) pause();  // until SIGKILL
    }
    absl::Status status = log.Commit();
    if (!status.ok()) return Fail(4, status, "Commit");
    seq += batch;
    written += batch;
    committed = log.GetSize().committed;
    SendReport(ReportKind::kCommitted, committed, seq);
  }
  return 0;
}

int RunChain() {
  shmio::ChainOptions options;
  options.directory = absl::GetFlag(FLAGS_path);
  options.create = true;
  options.file_capacity = absl::GetFlag(FLAGS_chain_file_capacity);
  options.retain_files = absl::GetFlag(FLAGS_chain_retain_files);
  options.debug_checks = absl::GetFlag(FLAGS_debug);
  auto chain = shmio::ChainWriter::Open(options);
  if (!chain.ok()) return Fail(2, chain.status(), "ChainWriter::Open");
  const uint64_t committed = (*chain)->GetSize().committed;
  absl::StatusOr<uint64_t> next_seq = NextChainSeq(options.directory, committed);
  if (!next_seq.ok()) return Fail(3, next_seq.status(), "reopen");
  return WriteBatches(**chain, committed, *next_seq);
}

int Run() {
  report_fd = absl::GetFlag(FLAGS_report_fd);
  if (absl::GetFlag(FLAGS_chain_file_capacity) != 0) return RunChain();
  shmio::Options options;
  options.path = absl::GetFlag(FLAGS_path);
  options.capacity = absl::GetFlag(FLAGS_capacity);
  options.size = absl::GetFlag(FLAGS_size);
  options.num = absl::GetFlag(FLAGS_num);
  options.overlap = absl::GetFlag(FLAGS_overlap);
  options.writable = true;
  options.debug_checks = absl::GetFlag(FLAGS_debug);
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return Fail(2, shm.status(), "open");
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return Fail(2, pool.status(), "Pool::Create");

  uint64_t committed = (*pool)->GetSize().committed;
  uint64_t data_offset = (*shm)->ReadHeader().data_offset;
  absl::StatusOr<uint64_t> next_seq = NextSeq(**shm, data_offset, committed);
  if (!next_seq.ok()) return Fail(3, next_seq.status(), "reopen");
  return WriteBatches(**pool, committed, *next_seq);
}

}  // namespace
}  // namespace shmio_reliability

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shmio_reliability::Run();
}
