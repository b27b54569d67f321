#include "bench/transports/shmio_busy.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
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

// Spins until `committed` moves past the consumer's cursor, loading only
// the header word (SharedMemory::LoadCommitted), so each empty poll costs a
// load instead of a Consumer::Next() call.
absl::Status SpinOnCommitted(const shmio::Consumer& consumer, SpinGuard& guard) {
  const shmio::SharedMemory& shm = consumer.shared_memory();
  while (shm.LoadCommitted() == consumer.cursor()) {
    if (guard.Expired()) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s: committed stayed at %d (peer failed or timed out)", shm.path(),
          consumer.cursor()));
    }
  }
  return absl::OkStatus();
}

// Spins on `consumer` until one frame arrives; checks it is message
// `sequence`. With `spin_on_committed`, waits with SpinOnCommitted() first.
absl::Status AwaitMessage(shmio::Consumer& consumer, size_t payload_bytes,
                          uint64_t sequence, SpinGuard& guard,
                          bool spin_on_committed) {
  shmio::BatchLimits one_frame;
  one_frame.max_frames = 1;
  while (true) {
    if (spin_on_committed) {
      absl::Status moved = SpinOnCommitted(consumer, guard);
      if (!moved.ok()) return moved;
    }
    absl::StatusOr<shmio::Batch> batch = consumer.Next(one_frame);
    if (!batch.ok()) return batch.status();
    if (!batch->empty()) {
      for (const shmio::Frame& frame : batch->frames) {
        return VerifyMessage(frame.payload, payload_bytes, sequence);
      }
      return batch->frames.status();
    }
    if (guard.Expired()) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "no message %d on %s (peer failed or timed out)", sequence,
          consumer.shared_memory().path()));
    }
  }
}

}  // namespace

ShmioBusyTransport::ShmioBusyTransport(std::string dir,
                                       uint64_t max_log_bytes,
                                       uint64_t commit_every,
                                       uint64_t skip_message,
                                       bool spin_on_committed)
    : spin_on_committed_(spin_on_committed),
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
  while (verified < spec.messages) {
    if (spin_on_committed_) {
      absl::Status moved = SpinOnCommitted(consumer, guard);
      if (!moved.ok()) return moved;
    }
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    if (!batch.ok()) return batch.status();
    if (batch->empty()) {
      if (guard.Expired()) {
        return absl::DeadlineExceededError(absl::StrFormat(
            "%s: verified %d of %d messages, then none came", data_path_,
            verified, spec.messages));
      }
      continue;
    }
    for (const shmio::Frame& frame : batch->frames) {
      absl::Status status =
          VerifyMessage(frame.payload, spec.payload_bytes, verified);
      if (!status.ok()) return status;
      ++verified;
    }
    if (!batch->frames.status().ok()) return batch->frames.status();
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
                                              spin_on_committed_);
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
                                       spin_on_committed_);
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
