#include "bench/transports/zmq.h"

#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/message.h"

namespace bench {
namespace {

absl::Status ZmqError(const std::string& what) {
  const int error = zmq_errno();
  return absl::UnavailableError(
      absl::StrCat(what, ": ", zmq_strerror(error), " (zmq errno ", error, ")"));
}

// A context and one socket, closed in the right order. Linger and timeouts
// are bounded so a dead peer turns into an error, not a hang.
class ZmqEndpoint {
 public:
  ~ZmqEndpoint() {
    if (socket_ != nullptr) zmq_close(socket_);
    if (context_ != nullptr) zmq_ctx_term(context_);
  }

  absl::Status Open(int type, const std::string& endpoint, bool bind,
                    double timeout_seconds) {
    context_ = zmq_ctx_new();
    if (context_ == nullptr) return ZmqError("zmq_ctx_new");
    socket_ = zmq_socket(context_, type);
    if (socket_ == nullptr) return ZmqError("zmq_socket");
    const int timeout_ms = static_cast<int>(timeout_seconds * 1000);
    for (int option : {ZMQ_RCVTIMEO, ZMQ_SNDTIMEO, ZMQ_LINGER}) {
      if (zmq_setsockopt(socket_, option, &timeout_ms, sizeof timeout_ms) != 0) {
        return ZmqError("zmq_setsockopt");
      }
    }
    const int r = bind ? zmq_bind(socket_, endpoint.c_str())
                       : zmq_connect(socket_, endpoint.c_str());
    if (r != 0) return ZmqError(absl::StrCat(bind ? "zmq_bind " : "zmq_connect ",
                                             endpoint));
    return absl::OkStatus();
  }

  absl::Status Send(const std::vector<uint8_t>& message) {
    while (zmq_send(socket_, message.data(), message.size(), 0) < 0) {
      if (zmq_errno() != EINTR) return ZmqError("zmq_send");
    }
    return absl::OkStatus();
  }

  // Receives one message into `buffer`; returns its full size (which may
  // exceed the buffer: zmq truncates and reports the real size).
  absl::StatusOr<size_t> Receive(std::vector<uint8_t>& buffer) {
    while (true) {
      const int r = zmq_recv(socket_, buffer.data(), buffer.size(), 0);
      if (r >= 0) return static_cast<size_t>(r);
      if (zmq_errno() != EINTR) return ZmqError("zmq_recv (peer gone or timed out)");
    }
  }

 private:
  void* context_ = nullptr;
  void* socket_ = nullptr;
};

}  // namespace

ZmqTransport::ZmqTransport(std::string socket_dir)
    : socket_dir_(std::move(socket_dir)) {}

uint64_t ZmqTransport::ThroughputMessages(size_t payload_bytes,
                                          uint64_t budget) const {
  return std::min<uint64_t>(budget, payload_bytes <= 256 ? 600000 : 200000);
}

uint64_t ZmqTransport::LatencyRoundTrips(uint64_t budget) const {
  return std::min<uint64_t>(budget, 10000);
}

absl::Status ZmqTransport::PrepareThroughput(const ThroughputSpec&) {
  static std::atomic<int> counter{0};
  // Relaxed: only uniqueness within this process matters.
  socket_path_ = absl::StrFormat(
      "%s/shmio-bench-zmq-%d-%d.ipc", socket_dir_, getpid(),
      counter.fetch_add(1, std::memory_order_relaxed));
  unlink(socket_path_.c_str());
  return absl::OkStatus();
}

absl::Status ZmqTransport::ThroughputWriter(const ThroughputSpec& spec,
                                            SharedControl* control) {
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  ZmqEndpoint push;
  status = push.Open(ZMQ_PUSH, "ipc://" + socket_path_, /*bind=*/false,
                     spec.timeout_seconds);
  if (!status.ok()) return status;
  const MessageMaker maker(spec.payload_bytes);
  std::vector<uint8_t> message(spec.payload_bytes);
  RecordWriterStart(control);
  for (uint64_t i = 0; i < spec.messages; ++i) {
    maker.Fill(i, message.data());
    status = push.Send(message);
    if (!status.ok()) return status;
  }
  // Closing the PUSH socket now can drop the last ~1,000 messages still
  // queued for the reader, linger or not (seen here with Debian's libzmq
  // 4.3: 1 run in 15 lost them). Keep it open until the reader has them all.
  WaitForReaderDone(control, spec.timeout_seconds);
  return absl::OkStatus();
}

absl::Status ZmqTransport::ThroughputReader(const ThroughputSpec& spec,
                                            SharedControl* control) {
  ZmqEndpoint pull;
  absl::Status status = pull.Open(ZMQ_PULL, "ipc://" + socket_path_,
                                  /*bind=*/true, spec.timeout_seconds);
  if (!status.ok()) return status;
  std::vector<uint8_t> buffer(spec.payload_bytes + 1);
  SignalChildReady(control);
  uint64_t verified = 0;
  while (verified < spec.messages) {
    absl::StatusOr<size_t> got = pull.Receive(buffer);
    if (!got.ok()) return got.status();
    status = VerifyMessage(
        absl::MakeConstSpan(buffer.data(), std::min(*got, buffer.size())),
        spec.payload_bytes, verified);
    if (!status.ok()) return status;
    ++verified;
    if ((verified & 1023) == 0) RecordReaderProgress(control, verified);
  }
  RecordReaderDone(control, verified);
  return absl::OkStatus();
}

absl::Status ZmqTransport::PrepareLatency(const LatencySpec&) {
  return PrepareThroughput(ThroughputSpec{});
}

absl::Status ZmqTransport::LatencyInitiator(const LatencySpec& spec,
                                            SharedControl* control,
                                            std::vector<int64_t>* one_way_ns) {
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  ZmqEndpoint pair;
  status = pair.Open(ZMQ_PAIR, "ipc://" + socket_path_, /*bind=*/false,
                     spec.timeout_seconds);
  if (!status.ok()) return status;
  const size_t n = spec.payload_bytes;
  const MessageMaker maker(n);
  std::vector<uint8_t> message(n), reply(n + 1);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    const int64_t start = NowNs();
    maker.Fill(i, message.data());
    status = pair.Send(message);
    if (!status.ok()) return status;
    absl::StatusOr<size_t> got = pair.Receive(reply);
    if (!got.ok()) return got.status();
    status = VerifyMessage(
        absl::MakeConstSpan(reply.data(), std::min(*got, reply.size())), n, i);
    if (!status.ok()) return status;
    const int64_t end = NowNs();
    if (i >= spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
  }
  return absl::OkStatus();
}

absl::Status ZmqTransport::LatencyEchoer(const LatencySpec& spec,
                                         SharedControl* control) {
  ZmqEndpoint pair;
  absl::Status status = pair.Open(ZMQ_PAIR, "ipc://" + socket_path_,
                                  /*bind=*/true, spec.timeout_seconds);
  if (!status.ok()) return status;
  const size_t n = spec.payload_bytes;
  std::vector<uint8_t> message(n + 1);
  SignalChildReady(control);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    absl::StatusOr<size_t> got = pair.Receive(message);
    if (!got.ok()) return got.status();
    status = VerifyMessage(
        absl::MakeConstSpan(message.data(), std::min(*got, message.size())), n,
        i);
    if (!status.ok()) return status;
    message.resize(n);
    status = pair.Send(message);
    message.resize(n + 1);
    if (!status.ok()) return status;
  }
  RecordReaderDone(control, total);
  return absl::OkStatus();
}

void ZmqTransport::Cleanup() {
  if (!socket_path_.empty()) unlink(socket_path_.c_str());
  socket_path_.clear();
}

}  // namespace bench
