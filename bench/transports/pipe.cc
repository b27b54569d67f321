#include "bench/transports/pipe.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "bench/message.h"
#include "bench/transports/fd_io.h"

namespace bench {
namespace {

absl::Status MakePipe(int fds[2]) {
  if (pipe(fds) != 0) return absl::ErrnoToStatus(errno, "pipe()");
  return absl::OkStatus();
}

constexpr char kForward[] = "the forward pipe";
constexpr char kBackward[] = "the reply pipe";

}  // namespace

uint64_t PipeTransport::ThroughputMessages(size_t payload_bytes,
                                           uint64_t budget) const {
  // A syscall per message: about a microsecond each; keep runs < 1 s.
  return std::min<uint64_t>(budget, payload_bytes <= 256 ? 300000 : 150000);
}

uint64_t PipeTransport::LatencyRoundTrips(uint64_t budget) const {
  return std::min<uint64_t>(budget, 20000);
}

absl::Status PipeTransport::PrepareThroughput(const ThroughputSpec&) {
  return MakePipe(forward_);
}

absl::Status PipeTransport::ThroughputWriter(const ThroughputSpec& spec,
                                             SharedControl* control) {
  CloseFd(&forward_[0]);
  const MessageMaker maker(spec.payload_bytes);
  std::vector<uint8_t> message(spec.payload_bytes);
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  RecordWriterStart(control);
  for (uint64_t i = 0; i < spec.messages; ++i) {
    maker.Fill(i, message.data());
    status = WriteAll(forward_[1], message.data(), message.size(), kForward);
    if (!status.ok()) return status;
  }
  CloseFd(&forward_[1]);
  return absl::OkStatus();
}

absl::Status PipeTransport::ThroughputReader(const ThroughputSpec& spec,
                                             SharedControl* control) {
  CloseFd(&forward_[1]);
  const size_t n = spec.payload_bytes;
  // Whole messages are verified in place; a partial one is moved to the
  // front and completed by the next read.
  std::vector<uint8_t> buffer(std::max<size_t>(65536, 2 * n));
  size_t filled = 0;
  uint64_t verified = 0;
  SignalChildReady(control);
  while (verified < spec.messages) {
    absl::StatusOr<size_t> got = ReadSome(
        forward_[0], buffer.data() + filled, buffer.size() - filled, kForward);
    if (!got.ok()) return got.status();
    filled += *got;
    size_t consumed = 0;
    while (filled - consumed >= n && verified < spec.messages) {
      absl::Status status = VerifyMessage(
          absl::MakeConstSpan(buffer.data() + consumed, n), n, verified);
      if (!status.ok()) return status;
      consumed += n;
      ++verified;
    }
    std::copy(buffer.begin() + consumed, buffer.begin() + filled,
              buffer.begin());
    filled -= consumed;
  }
  RecordReaderDone(control, verified);
  CloseFd(&forward_[0]);
  return absl::OkStatus();
}

absl::Status PipeTransport::PrepareLatency(const LatencySpec&) {
  absl::Status status = MakePipe(forward_);
  if (!status.ok()) return status;
  return MakePipe(backward_);
}

absl::Status PipeTransport::LatencyInitiator(const LatencySpec& spec,
                                             SharedControl* control,
                                             std::vector<int64_t>* one_way_ns) {
  CloseFd(&forward_[0]);
  CloseFd(&backward_[1]);
  const size_t n = spec.payload_bytes;
  const MessageMaker maker(n);
  std::vector<uint8_t> message(n), reply(n);
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    const int64_t start = NowNs();
    maker.Fill(i, message.data());
    status = WriteAll(forward_[1], message.data(), n, kForward);
    if (status.ok()) status = ReadExactly(backward_[0], reply.data(), n, kBackward);
    if (status.ok()) status = VerifyMessage(reply, n, i);
    if (!status.ok()) return status;
    const int64_t end = NowNs();
    if (i >= spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
  }
  CloseFd(&forward_[1]);
  CloseFd(&backward_[0]);
  return absl::OkStatus();
}

absl::Status PipeTransport::LatencyEchoer(const LatencySpec& spec,
                                          SharedControl* control) {
  CloseFd(&forward_[1]);
  CloseFd(&backward_[0]);
  const size_t n = spec.payload_bytes;
  std::vector<uint8_t> message(n);
  SignalChildReady(control);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    absl::Status status = ReadExactly(forward_[0], message.data(), n, kForward);
    if (status.ok()) status = VerifyMessage(message, n, i);
    // The message is echoed as it came: same sequence, same checksum.
    if (status.ok()) status = WriteAll(backward_[1], message.data(), n, kBackward);
    if (!status.ok()) return status;
  }
  RecordReaderDone(control, total);
  return absl::OkStatus();
}

void PipeTransport::Cleanup() {
  for (int* fd : {&forward_[0], &forward_[1], &backward_[0], &backward_[1]}) {
    CloseFd(fd);
  }
}

}  // namespace bench
