#include "bench/transports/uds.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/message.h"
#include "bench/transports/fd_io.h"

namespace bench {
namespace {

absl::Status SendMessage(int fd, const std::vector<uint8_t>& message) {
  while (true) {
    ssize_t r = send(fd, message.data(), message.size(), 0);
    if (r == static_cast<ssize_t>(message.size())) return absl::OkStatus();
    if (r < 0 && errno == EINTR) continue;
    return absl::ErrnoToStatus(
        r < 0 ? errno : EMSGSIZE,
        absl::StrFormat("send of %d bytes on the SOCK_SEQPACKET pair",
                        message.size()));
  }
}

// Receives one message into `buffer` (one byte larger than a message, so a
// too-long message shows); returns its size.
absl::StatusOr<size_t> ReceiveMessage(int fd, std::vector<uint8_t>& buffer) {
  while (true) {
    ssize_t r = recv(fd, buffer.data(), buffer.size(), 0);
    if (r > 0) return static_cast<size_t>(r);
    if (r == 0) {
      return absl::UnavailableError(
          "SOCK_SEQPACKET pair: end of file (the peer process ended early)");
    }
    if (errno == EINTR) continue;
    return absl::ErrnoToStatus(errno, "recv on the SOCK_SEQPACKET pair");
  }
}

}  // namespace

uint64_t UdsTransport::ThroughputMessages(size_t payload_bytes,
                                          uint64_t budget) const {
  return std::min<uint64_t>(budget, payload_bytes <= 256 ? 300000 : 150000);
}

uint64_t UdsTransport::LatencyRoundTrips(uint64_t budget) const {
  return std::min<uint64_t>(budget, 20000);
}

absl::Status UdsTransport::PrepareThroughput(const ThroughputSpec&) {
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds_) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair(AF_UNIX, SOCK_SEQPACKET)");
  }
  return absl::OkStatus();
}

absl::Status UdsTransport::ThroughputWriter(const ThroughputSpec& spec,
                                            SharedControl* control) {
  CloseFd(&fds_[1]);
  const MessageMaker maker(spec.payload_bytes);
  std::vector<uint8_t> message(spec.payload_bytes);
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  RecordWriterStart(control);
  for (uint64_t i = 0; i < spec.messages; ++i) {
    maker.Fill(i, message.data());
    status = SendMessage(fds_[0], message);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status UdsTransport::ThroughputReader(const ThroughputSpec& spec,
                                            SharedControl* control) {
  CloseFd(&fds_[0]);
  std::vector<uint8_t> buffer(spec.payload_bytes + 1);
  SignalChildReady(control);
  uint64_t verified = 0;
  while (verified < spec.messages) {
    absl::StatusOr<size_t> got = ReceiveMessage(fds_[1], buffer);
    if (!got.ok()) return got.status();
    absl::Status status = VerifyMessage(
        absl::MakeConstSpan(buffer.data(), *got), spec.payload_bytes, verified);
    if (!status.ok()) return status;
    ++verified;
  }
  RecordReaderDone(control, verified);
  return absl::OkStatus();
}

absl::Status UdsTransport::PrepareLatency(const LatencySpec& spec) {
  return PrepareThroughput(ThroughputSpec{});
}

absl::Status UdsTransport::LatencyInitiator(const LatencySpec& spec,
                                            SharedControl* control,
                                            std::vector<int64_t>* one_way_ns) {
  CloseFd(&fds_[1]);
  const size_t n = spec.payload_bytes;
  const MessageMaker maker(n);
  std::vector<uint8_t> message(n), reply(n + 1);
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    const int64_t start = NowNs();
    maker.Fill(i, message.data());
    status = SendMessage(fds_[0], message);
    if (!status.ok()) return status;
    absl::StatusOr<size_t> got = ReceiveMessage(fds_[0], reply);
    if (!got.ok()) return got.status();
    status = VerifyMessage(absl::MakeConstSpan(reply.data(), *got), n, i);
    if (!status.ok()) return status;
    const int64_t end = NowNs();
    if (i >= spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
  }
  return absl::OkStatus();
}

absl::Status UdsTransport::LatencyEchoer(const LatencySpec& spec,
                                         SharedControl* control) {
  CloseFd(&fds_[0]);
  const size_t n = spec.payload_bytes;
  std::vector<uint8_t> message(n + 1);
  SignalChildReady(control);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    absl::StatusOr<size_t> got = ReceiveMessage(fds_[1], message);
    if (!got.ok()) return got.status();
    absl::Status status =
        VerifyMessage(absl::MakeConstSpan(message.data(), *got), n, i);
    if (!status.ok()) return status;
    message.resize(n);
    status = SendMessage(fds_[1], message);
    message.resize(n + 1);
    if (!status.ok()) return status;
  }
  RecordReaderDone(control, total);
  return absl::OkStatus();
}

void UdsTransport::Cleanup() {
  CloseFd(&fds_[0]);
  CloseFd(&fds_[1]);
}

}  // namespace bench
