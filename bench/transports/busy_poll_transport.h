// The busy-polling shmio transport, over any log that has shmio's writer
// calls (SliceSize, Commit) and reader calls (SpinUntilNew, Poll): one
// file (shmio_busy.h) or a chain of files (shmio_chain.h). The writer
// appends and commits each message (or every `commit_every`), the reader
// busy-polls the way the README tells users to: SpinUntilNew(), then
// Poll(). Latency uses two logs, ping (parent writes) and pong (child
// writes).
//
// One template, not a base class with virtual calls: the loops below are
// what the benchmark times, and a call through a vtable per message would
// be the benchmark's cost, not shmio's. Both transports run the same loop,
// so their numbers differ only by the log under them.
//
// A Log policy provides:
//   static constexpr const char* kName;          // the transport's name
//   static constexpr bool kRolls;                // it counts rolls
//   struct Writer { Appender& appender(); uint64_t rolls() const; };
//   struct Reader { Cursor& cursor(); };         // Consumer-like
//   static absl::Status Create(const std::string& path, uint64_t bytes);
//   static absl::StatusOr<Writer> OpenWriter(const std::string& path);
//   static absl::StatusOr<Reader> OpenReader(const std::string& path);
//   static void Remove(const std::string& path);
// `bytes` is what the run will write to that log; `path` is a file or a
// directory, as the Log makes it.
#ifndef BENCH_TRANSPORTS_BUSY_POLL_TRANSPORT_H_
#define BENCH_TRANSPORTS_BUSY_POLL_TRANSPORT_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/message.h"
#include "bench/transports/shmio_files.h"
#include "bench/transports/transport.h"
#include "shmio/format.h"
#include "shmio/iterator.h"

namespace bench {

struct BusyPollOptions {
  std::string dir;  // where logs go, normally /dev/shm
  // The largest log a throughput run writes: bounds its message count.
  uint64_t max_log_bytes = 512ull << 20;
  uint64_t commit_every = 1;  // the writer commits every N messages
  // Tests only: the throughput writer leaves that message out, to show the
  // reader reports the loss.
  uint64_t skip_message = ~uint64_t{0};
  // Readers call Poll() in a loop without SpinUntilNew(); shows what
  // SpinUntilNew()'s prefetch saves a wake-up.
  bool poll_only = false;
};

namespace busy_poll {

// Appends message `sequence` (not committed).
template <typename Appender>
absl::Status AppendMessage(Appender& log, const MessageMaker& maker,
                           uint64_t sequence) {
  absl::StatusOr<absl::Span<uint8_t>> slice = log.SliceSize(maker.size());
  if (!slice.ok()) return slice.status();
  maker.Fill(sequence, slice->data());
  return absl::OkStatus();
}

// How long one SpinUntilNew() call spins before the watchdog is consulted.
constexpr absl::Duration kSpinSlice = absl::Milliseconds(10);

// Waits for frames past the cursor: SpinUntilNew() (a spin that also
// prefetches where the next frame lands), or with `poll_only` nothing (the
// caller's Poll() loop is the spin). False when the watchdog expired.
template <typename Cursor>
bool AwaitCommit(Cursor& cursor, SpinGuard& guard, bool poll_only) {
  if (poll_only) return !guard.Expired();
  while (!cursor.SpinUntilNew(absl::Now() + kSpinSlice)) {
    if (guard.ExpiredNow()) return false;
  }
  return true;
}

// Spins on `cursor` (reading `path`) until one frame arrives; checks it is
// message `sequence`.
template <typename Cursor>
absl::Status AwaitMessage(Cursor& cursor, const std::string& path,
                          size_t payload_bytes, uint64_t sequence,
                          SpinGuard& guard, bool poll_only) {
  while (AwaitCommit(cursor, guard, poll_only)) {
    absl::Status verified;
    absl::StatusOr<size_t> frames = cursor.Poll(
        [&](const shmio::Frame& frame) {
          verified = VerifyMessage(frame.payload, payload_bytes, sequence);
        },
        /*max_frames=*/1);
    if (!frames.ok()) return frames.status();
    if (*frames == 1) return verified;
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "no message %d on %s (peer failed or timed out)", sequence, path));
}

}  // namespace busy_poll

template <typename Log>
class BusyPollTransport : public Transport {
 public:
  explicit BusyPollTransport(BusyPollOptions options)
      : options_(std::move(options)) {
    options_.commit_every = std::max<uint64_t>(1, options_.commit_every);
  }

  std::string name() const override { return Log::kName; }

  // As many as fit in max_log_bytes, for every Log: a chain could take
  // more, but then its numbers would not compare with one file's.
  uint64_t ThroughputMessages(size_t payload_bytes,
                              uint64_t budget) const override {
    const uint64_t fits =
        (options_.max_log_bytes - shmio::format::kExtendedDataOffset) /
        (payload_bytes + shmio::format::kFrameOverhead);
    return std::min(budget, fits);
  }

  std::optional<uint64_t> rolls_in_last_run() const override {
    if (!Log::kRolls) return std::nullopt;
    return rolls_;
  }

  absl::Status PrepareThroughput(const ThroughputSpec& spec) override {
    rolls_ = 0;
    data_path_ = UniqueLogPath(options_.dir, "throughput");
    return Log::Create(data_path_,
                       LogCapacityFor(spec.messages, spec.payload_bytes));
  }

  absl::Status ThroughputWriter(const ThroughputSpec& spec,
                                SharedControl* control) override {
    absl::StatusOr<typename Log::Writer> writer = Log::OpenWriter(data_path_);
    if (!writer.ok()) return writer.status();
    auto& log = writer->appender();
    const MessageMaker maker(spec.payload_bytes);
    absl::Status ready = WaitForChildReady(control, spec.timeout_seconds);
    if (!ready.ok()) return ready;
    RecordWriterStart(control);
    // A countdown, not i % commit_every: a division per message would be
    // the benchmark's cost, not shmio's.
    uint64_t until_commit = options_.commit_every;
    for (uint64_t i = 0; i < spec.messages; ++i) {
      // A test asks for a gap; the message after it keeps its number.
      const uint64_t sequence = i >= options_.skip_message ? i + 1 : i;
      absl::Status status = busy_poll::AppendMessage(log, maker, sequence);
      if (!status.ok()) return status;
      if (--until_commit == 0) {
        until_commit = options_.commit_every;
        status = log.Commit();
        if (!status.ok()) return status;
      }
    }
    absl::Status status = log.Commit();
    rolls_ = writer->rolls();
    return status;
  }

  absl::Status ThroughputReader(const ThroughputSpec& spec,
                                SharedControl* control) override {
    absl::StatusOr<typename Log::Reader> reader = Log::OpenReader(data_path_);
    if (!reader.ok()) return reader.status();
    auto& cursor = reader->cursor();
    SpinGuard guard(control, spec.timeout_seconds);
    SignalChildReady(control);
    uint64_t verified = 0;
    absl::Status status;
    while (verified < spec.messages) {
      if (!busy_poll::AwaitCommit(cursor, guard, options_.poll_only)) {
        return absl::DeadlineExceededError(absl::StrFormat(
            "%s: verified %d of %d messages, then none came", data_path_,
            verified, spec.messages));
      }
      absl::StatusOr<size_t> frames =
          cursor.Poll([&](const shmio::Frame& frame) {
            if (!status.ok()) return;  // report the first bad message
            status =
                VerifyMessage(frame.payload, spec.payload_bytes, verified);
            ++verified;
          });
      if (!frames.ok()) return frames.status();
      if (!status.ok()) return status;
    }
    RecordReaderDone(control, verified);
    return absl::OkStatus();
  }

  absl::Status PrepareLatency(const LatencySpec& spec) override {
    rolls_ = 0;
    const uint64_t bytes = LogCapacityFor(
        spec.warmup_round_trips + spec.round_trips, spec.payload_bytes);
    data_path_ = UniqueLogPath(options_.dir, "ping");
    pong_path_ = UniqueLogPath(options_.dir, "pong");
    absl::Status status = Log::Create(data_path_, bytes);
    if (!status.ok()) return status;
    return Log::Create(pong_path_, bytes);
  }

  absl::Status LatencyInitiator(const LatencySpec& spec,
                                SharedControl* control,
                                std::vector<int64_t>* one_way_ns) override {
    absl::StatusOr<typename Log::Writer> ping = Log::OpenWriter(data_path_);
    if (!ping.ok()) return ping.status();
    absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
    if (!status.ok()) return status;
    // The child has created its writer of the pong log by now.
    absl::StatusOr<typename Log::Reader> pong = Log::OpenReader(pong_path_);
    if (!pong.ok()) return pong.status();
    auto& replies = pong->cursor();
    auto& requests = ping->appender();
    const MessageMaker maker(spec.payload_bytes);
    SpinGuard guard(control, spec.timeout_seconds);
    const uint64_t total = spec.warmup_round_trips + spec.round_trips;
    for (uint64_t i = 0; i < total; ++i) {
      const int64_t start = NowNs();
      status = busy_poll::AppendMessage(requests, maker, i);
      if (status.ok()) status = requests.Commit();
      if (status.ok()) {
        status = busy_poll::AwaitMessage(replies, pong_path_,
                                         spec.payload_bytes, i, guard,
                                         options_.poll_only);
      }
      if (!status.ok()) return status;
      const int64_t end = NowNs();
      if (i >= spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
    }
    // The pong log holds the same frames, so it rolled as often.
    rolls_ = ping->rolls();
    return absl::OkStatus();
  }

  absl::Status LatencyEchoer(const LatencySpec& spec,
                             SharedControl* control) override {
    absl::StatusOr<typename Log::Writer> pong = Log::OpenWriter(pong_path_);
    if (!pong.ok()) return pong.status();
    absl::StatusOr<typename Log::Reader> ping = Log::OpenReader(data_path_);
    if (!ping.ok()) return ping.status();
    auto& requests = ping->cursor();
    auto& replies = pong->appender();
    const MessageMaker maker(spec.payload_bytes);
    SpinGuard guard(control, spec.timeout_seconds);
    SignalChildReady(control);
    const uint64_t total = spec.warmup_round_trips + spec.round_trips;
    for (uint64_t i = 0; i < total; ++i) {
      absl::Status status =
          busy_poll::AwaitMessage(requests, data_path_, spec.payload_bytes, i,
                                  guard, options_.poll_only);
      if (status.ok()) status = busy_poll::AppendMessage(replies, maker, i);
      if (status.ok()) status = replies.Commit();
      if (!status.ok()) return status;
    }
    RecordReaderDone(control, total);
    return absl::OkStatus();
  }

  void Cleanup() override {
    if (!data_path_.empty()) Log::Remove(data_path_);
    if (!pong_path_.empty()) Log::Remove(pong_path_);
    data_path_.clear();
    pong_path_.clear();
  }

 private:
  BusyPollOptions options_;
  std::string data_path_;  // throughput log, or latency ping log
  std::string pong_path_;  // latency pong log
  // Rolls of the last run's writer (throughput) or ping writer (latency),
  // both in the parent, where the report is made.
  uint64_t rolls_ = 0;
};

}  // namespace bench

#endif  // BENCH_TRANSPORTS_BUSY_POLL_TRANSPORT_H_
