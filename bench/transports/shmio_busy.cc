#include "bench/transports/shmio_busy.h"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/message.h"
#include "bench/transports/shmio_files.h"
#include "shmio/consumer.h"
#include "shmio/format.h"

namespace bench {
namespace {

// Appends message `sequence` to `pool` (not committed).
absl::Status AppendMessage(shmio::Pool& pool, const MessageMaker& maker,
                           uint64_t sequence) {
  absl::StatusOr<absl::Span<uint8_t>> slice = pool.SliceSize(maker.size());
  if (!slice.ok()) return slice.status();
  maker.Fill(sequence, slice->data());
  return absl::OkStatus();
}

// How long one Consumer::SpinUntilNew() call spins before the watchdog is
// consulted.
constexpr absl::Duration kSpinSlice = absl::Milliseconds(10);

// Waits for frames past the cursor: SpinUntilNew() (a spin that also
// prefetches where the next frame lands), or with `poll_only` nothing (the
// caller's Poll() loop is the spin). False when the watchdog expired.
bool AwaitCommit(shmio::Consumer& consumer, SpinGuard& guard,
                 bool poll_only) {
  if (poll_only) return !guard.Expired();
  while (!consumer.SpinUntilNew(absl::Now() + kSpinSlice)) {
    if (guard.ExpiredNow()) return false;
  }
  return true;
}

// Spins on `consumer` until one frame arrives; checks it is message
// `sequence`.
absl::Status AwaitMessage(shmio::Consumer& consumer, size_t payload_bytes,
                          uint64_t sequence, SpinGuard& guard, bool poll_only) {
  while (AwaitCommit(consumer, guard, poll_only)) {
    absl::Status verified;
    absl::StatusOr<size_t> frames = consumer.Poll(
        [&](const shmio::Frame& frame) {
          verified = VerifyMessage(frame.payload, payload_bytes, sequence);
        },
        /*max_frames=*/1);
    if (!frames.ok()) return frames.status();
    if (*frames == 1) return verified;
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "no message %d on %s (peer failed or timed out)", sequence,
      consumer.shared_memory().path()));
}

}  // namespace

ShmioBusyTransport::ShmioBusyTransport(std::string dir,
                                       uint64_t max_log_bytes,
                                       uint64_t commit_every,
                                       uint64_t skip_message,
                                       bool poll_only)
    : poll_only_(poll_only),
      dir_(std::move(dir)),
      max_log_bytes_(max_log_bytes),
      commit_every_(std::max<uint64_t>(1, commit_every)),
      skip_message_(skip_message) {}

uint64_t ShmioBusyTransport::ThroughputMessages(size_t payload_bytes,
                                                uint64_t budget) const {
  const uint64_t fits =
      (max_log_bytes_ - shmio::format::kExtendedDataOffset) /
      (payload_bytes + shmio::format::kFrameOverhead);
  return std::min(budget, fits);
}

absl::Status ShmioBusyTransport::PrepareThroughput(
    const ThroughputSpec& spec) {
  data_path_ = UniqueLogPath(dir_, "throughput");
  return CreateEmptyLog(data_path_,
                        LogCapacityFor(spec.messages, spec.payload_bytes));
}

absl::Status ShmioBusyTransport::ThroughputWriter(const ThroughputSpec& spec,
                                                  SharedControl* control) {
  absl::StatusOr<LogWriter> writer = OpenLogWriter(data_path_);
  if (!writer.ok()) return writer.status();
  shmio::Pool& pool = *writer->pool;
  const MessageMaker maker(spec.payload_bytes);
  absl::Status ready = WaitForChildReady(control, spec.timeout_seconds);
  if (!ready.ok()) return ready;
  RecordWriterStart(control);
  // A countdown, not i % commit_every_: a division per message would be
  // the benchmark's cost, not shmio's.
  uint64_t until_commit = commit_every_;
  for (uint64_t i = 0; i < spec.messages; ++i) {
    // A test asks for a gap; the message after it keeps its number.
    const uint64_t sequence = i >= skip_message_ ? i + 1 : i;
    absl::Status status = AppendMessage(pool, maker, sequence);
    if (!status.ok()) return status;
    if (--until_commit == 0) {
      until_commit = commit_every_;
      status = pool.Commit();
      if (!status.ok()) return status;
    }
  }
  return pool.Commit();
}

absl::Status ShmioBusyTransport::ThroughputReader(const ThroughputSpec& spec,
                                                  SharedControl* control) {
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      OpenLogReader(data_path_);
  if (!shm.ok()) return shm.status();
  shmio::Consumer consumer(shm->get());
  SpinGuard guard(control, spec.timeout_seconds);
  SignalChildReady(control);
  uint64_t verified = 0;
  absl::Status status;
  while (verified < spec.messages) {
    if (!AwaitCommit(consumer, guard, poll_only_)) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s: verified %d of %d messages, then none came", data_path_,
          verified, spec.messages));
    }
    absl::StatusOr<size_t> frames =
        consumer.Poll([&](const shmio::Frame& frame) {
          if (!status.ok()) return;  // report the first bad message
          status = VerifyMessage(frame.payload, spec.payload_bytes, verified);
          ++verified;
        });
    if (!frames.ok()) return frames.status();
    if (!status.ok()) return status;
  }
  RecordReaderDone(control, verified);
  return absl::OkStatus();
}

absl::Status ShmioBusyTransport::PrepareLatency(const LatencySpec& spec) {
  const uint64_t capacity = LogCapacityFor(
      spec.warmup_round_trips + spec.round_trips, spec.payload_bytes);
  data_path_ = UniqueLogPath(dir_, "ping");
  pong_path_ = UniqueLogPath(dir_, "pong");
  absl::Status status = CreateEmptyLog(data_path_, capacity);
  if (!status.ok()) return status;
  return CreateEmptyLog(pong_path_, capacity);
}

absl::Status ShmioBusyTransport::LatencyInitiator(
    const LatencySpec& spec, SharedControl* control,
    std::vector<int64_t>* one_way_ns) {
  absl::StatusOr<LogWriter> ping = OpenLogWriter(data_path_);
  if (!ping.ok()) return ping.status();
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  // The child has created its writer of the pong log by now.
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> pong =
      OpenLogReader(pong_path_);
  if (!pong.ok()) return pong.status();
  shmio::Consumer replies(pong->get());
  const MessageMaker maker(spec.payload_bytes);
  SpinGuard guard(control, spec.timeout_seconds);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    const int64_t start = NowNs();
    status = AppendMessage(*ping->pool, maker, i);
    if (status.ok()) status = ping->pool->Commit();
    if (status.ok()) status = AwaitMessage(replies, spec.payload_bytes, i, guard,
                                              poll_only_);
    if (!status.ok()) return status;
    const int64_t end = NowNs();
    if (i >= spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
  }
  return absl::OkStatus();
}

absl::Status ShmioBusyTransport::LatencyEchoer(const LatencySpec& spec,
                                               SharedControl* control) {
  absl::StatusOr<LogWriter> pong = OpenLogWriter(pong_path_);
  if (!pong.ok()) return pong.status();
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> ping =
      OpenLogReader(data_path_);
  if (!ping.ok()) return ping.status();
  shmio::Consumer requests(ping->get());
  const MessageMaker maker(spec.payload_bytes);
  SpinGuard guard(control, spec.timeout_seconds);
  SignalChildReady(control);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    absl::Status status = AwaitMessage(requests, spec.payload_bytes, i, guard,
                                       poll_only_);
    if (status.ok()) status = AppendMessage(*pong->pool, maker, i);
    if (status.ok()) status = pong->pool->Commit();
    if (!status.ok()) return status;
  }
  RecordReaderDone(control, total);
  return absl::OkStatus();
}

void ShmioBusyTransport::Cleanup() {
  if (!data_path_.empty()) unlink(data_path_.c_str());
  if (!pong_path_.empty()) unlink(pong_path_.c_str());
  data_path_.clear();
  pong_path_.clear();
}

}  // namespace bench
