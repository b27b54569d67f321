// Publish throughput: bridge::Publisher against a plain pipelined hiredis
// XADD loop over the same frames, with the same IDs, fields, window and
// batch size, on the same kind of loop with the same socket adapter.
#include <hiredis/async.h>
#include <sys/resource.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bridge/bridge_bench.h"
#include "bridge/hiredis_uv.h"
#include "bridge/publisher.h"
#include "bridge/stream_id.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace bench_bridge {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// This process's user + system CPU time so far, in nanoseconds.
double CpuNs() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& t) { return t.tv_sec * 1e9 + t.tv_usec * 1e3; };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

// The reference: reads frames straight from the mapping and XADDs them.
class ReferenceLoop {
 public:
  ReferenceLoop(const ThroughputConfig& config, const shmio::SharedMemory& shm,
                uint64_t data_offset, uint64_t committed, std::string stream)
      : config_(config),
        shm_(shm),
        data_offset_(data_offset),
        committed_(committed),
        position_(data_offset),
        stream_(std::move(stream)) {}

  absl::Status Run(double* seconds) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    start_ = Clock::now();
    context_ = redisAsyncConnect("127.0.0.1", config_.redis_port);
    if (context_ == nullptr || context_->err != 0) {
      return absl::UnavailableError("reference: cannot connect to redis");
    }
    context_->data = this;
    absl::Status attached = bridge::AttachToLoop(context_, &loop);
    if (!attached.ok()) return attached;
    SendBatches();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!error_.ok()) return error_;
    *seconds = Seconds(start_, end_);
    return absl::OkStatus();
  }

 private:
  // Sends batches of config_.batch frames while the window has room (the
  // publisher's policy: a whole batch, then pause at a full window until
  // half of it is answered).
  void SendBatches() {
    while (in_flight_ < config_.max_in_flight && position_ < committed_) {
      shmio::FrameRange frames(shm_, position_, committed_);
      size_t sent = 0;
      for (const shmio::Frame& frame : frames) {
        if (sent == config_.batch) break;
        Send(frame);
        position_ = frame.end();
        ++sent;
      }
    }
  }

  void Send(const shmio::Frame& frame) {
    uint64_t position = frame.offset - data_offset_;
    char pos[24];
    char id[32];
    size_t pos_len = static_cast<size_t>(std::to_chars(pos, pos + sizeof pos, position).ptr - pos);
    std::memcpy(id, pos, pos_len);
    id[pos_len] = '-';
    id[pos_len + 1] = '1';
    const char* argv[] = {"XADD", stream_.data(), id, "pos", pos, "data",
                          reinterpret_cast<const char*>(frame.payload.data())};
    const size_t lengths[] = {4, stream_.size(), pos_len + 2, 3, pos_len, 4, frame.payload.size()};
    redisAsyncCommandArgv(context_, &ReferenceLoop::OnReply, this, 7, argv, lengths);
    ++in_flight_;
  }

  static void OnReply(redisAsyncContext* context, void* reply, void* privdata) {
    auto* self = static_cast<ReferenceLoop*>(privdata);
    if (reply == nullptr) return;
    auto* r = static_cast<redisReply*>(reply);
    if (r->type == REDIS_REPLY_ERROR && self->error_.ok()) {
      self->error_ = absl::InternalError(absl::StrCat("reference XADD: ", r->str));
    }
    --self->in_flight_;
    if (++self->answered_ == self->config_.frames) {
      self->end_ = Clock::now();
      redisAsyncDisconnect(context);
      return;
    }
    if (self->in_flight_ <= self->config_.max_in_flight / 2) self->SendBatches();
  }

  const ThroughputConfig& config_;
  const shmio::SharedMemory& shm_;
  uint64_t data_offset_;
  uint64_t committed_;
  uint64_t position_;
  std::string stream_;
  redisAsyncContext* context_ = nullptr;
  size_t in_flight_ = 0;
  uint64_t answered_ = 0;
  Clock::time_point start_;
  Clock::time_point end_;
  absl::Status error_;
};

}  // namespace

absl::Status PrefillLog(const std::string& path, uint64_t frames, size_t payload_bytes) {
  shmio::Options options;
  options.path = path;
  options.writable = true;
  options.capacity = 256 + frames * (payload_bytes + 4) + 4096;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return pool.status();
  std::string payload(payload_bytes, 'x');
  for (uint64_t n = 0; n < frames; ++n) {
    std::memcpy(payload.data(), &n, std::min<size_t>(8, payload_bytes));
    absl::Status appended = (*pool)->Append(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
    if (!appended.ok()) return appended;
    if (n % 1000 == 999) (*pool)->Commit().IgnoreError();
  }
  return (*pool)->Commit();
}

absl::StatusOr<Throughput> PublisherThroughput(const ThroughputConfig& config,
                                           const std::string& stream) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  bridge::RedisOptions redis;
  redis.address = {"127.0.0.1", config.redis_port};
  bridge::PublisherOptions options;
  options.log_path = config.log_path;
  options.stream = stream;
  options.max_in_flight = config.max_in_flight;
  options.source.max_frames_per_batch = config.batch;
  options.notify_caught_up = true;
  absl::Status error;
  Clock::time_point end;
  bridge::Publisher* publisher = nullptr;
  bridge::Publisher::Callbacks callbacks;
  callbacks.on_caught_up = [&] {
    end = Clock::now();
    publisher->Close();
  };
  callbacks.on_fatal = [&](const absl::Status& status) {
    error = status;
    publisher->Close();
  };
  Clock::time_point start = Clock::now();
  double cpu_start = CpuNs();
  absl::StatusOr<bridge::Publisher*> started =
      bridge::Publisher::Start(&loop, redis, options, std::move(callbacks));
  if (!started.ok()) return started.status();
  publisher = *started;
  uv_run(&loop, UV_RUN_DEFAULT);
  double cpu = CpuNs() - cpu_start;
  uv_loop_close(&loop);
  if (!error.ok()) return error;
  return Throughput{static_cast<double>(config.frames) / Seconds(start, end), cpu / config.frames};
}

absl::StatusOr<Throughput> ReferenceThroughput(const ThroughputConfig& config,
                                           const std::string& stream) {
  shmio::Options options;
  options.path = config.log_path;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  shmio::HeaderSnapshot header = (*shm)->ReadHeader();
  ReferenceLoop loop(config, **shm, header.data_offset, header.committed, stream);
  double seconds = 0;
  double cpu_start = CpuNs();
  absl::Status ran = loop.Run(&seconds);
  double cpu = CpuNs() - cpu_start;
  if (!ran.ok()) return ran;
  return Throughput{static_cast<double>(config.frames) / seconds, cpu / config.frames};
}

}  // namespace bench_bridge
