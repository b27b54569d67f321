// End-to-end latency: Pool::Commit() of one frame on this side to the
// uvwatch callback for it on the mirror's log, through a `shmio publish`
// process, Redis and a `shmio mirror` process; against a bare XADD + XREAD
// BLOCK round trip between two connections of one loop. Ping-pong: the next
// frame is committed when the last one has arrived.
#include <fcntl.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bridge/bridge_bench.h"
#include "bridge/hiredis_uv.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace bench_bridge {
namespace {

constexpr int kWarmUp = 100;
constexpr size_t kPayloadBytes = 32;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A child `shmio ...` with stderr on a pipe, killed and reaped on scope exit.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], 2);
      int null = open("/dev/null", O_WRONLY);  // the exit summary is not ours to print
      dup2(null, 1);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(err[1]);
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) close(err_);
  }
  // Reads stderr until `text` appears (10 s bound).
  bool WaitFor(const std::string& text) {
    while (log_.find(text) == std::string::npos) {
      pollfd ready = {err_, POLLIN, 0};
      if (poll(&ready, 1, 10000) != 1) return false;
      char buffer[1024];
      ssize_t n = read(err_, buffer, sizeof buffer);
      if (n <= 0) return false;
      log_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }
  const std::string& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  std::string log_;
};

// The reference round trip.
class XreadRoundTrip {
 public:
  XreadRoundTrip(int port, int samples) : port_(port), samples_(samples) {}

  absl::StatusOr<std::vector<int64_t>> Run() {
    uv_loop_t loop;
    uv_loop_init(&loop);
    stream_ = absl::StrCat("bench-xread-", getpid());
    for (redisAsyncContext** context : {&reader_, &writer_}) {
      *context = redisAsyncConnect("127.0.0.1", port_);
      if (*context == nullptr || (*context)->err != 0) {
        return absl::UnavailableError("reference: cannot connect to redis");
      }
      absl::Status attached = bridge::AttachToLoop(*context, &loop);
      if (!attached.ok()) return attached;
    }
    Read("0-0");
    Write();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!error_.ok()) return error_;
    return samples_ns_;
  }

 private:
  void Read(const std::string& after) {
    last_id_ = after;
    const char* argv[] = {"XREAD", "BLOCK", "0", "STREAMS", stream_.c_str(), last_id_.c_str()};
    const size_t lengths[] = {5, 5, 1, 7, stream_.size(), last_id_.size()};
    redisAsyncCommandArgv(reader_, &XreadRoundTrip::OnRead, this, 6, argv, lengths);
  }

  void Write() {
    std::string payload(kPayloadBytes, 'x');
    const char* argv[] = {"XADD", stream_.c_str(), "*", "data", payload.data()};
    const size_t lengths[] = {4, stream_.size(), 1, 4, payload.size()};
    sent_ns_ = NowNs();
    redisAsyncCommandArgv(writer_, nullptr, nullptr, 5, argv, lengths);
  }

  static void OnRead(redisAsyncContext* context, void* reply, void* privdata) {
    auto* self = static_cast<XreadRoundTrip*>(privdata);
    int64_t arrived = NowNs();
    auto* r = static_cast<redisReply*>(reply);
    if (r == nullptr) return;
    if (r->type != REDIS_REPLY_ARRAY) {
      self->error_ = absl::InternalError("reference XREAD: unexpected reply");
      self->Finish();
      return;
    }
    if (++self->seen_ > kWarmUp) self->samples_ns_.push_back(arrived - self->sent_ns_);
    // [[key, [[id, fields]]]]: read on after this entry's ID.
    const redisReply* entry = r->element[0]->element[1]->element[0];
    std::string id(entry->element[0]->str, entry->element[0]->len);
    if (static_cast<int>(self->samples_ns_.size()) >= self->samples_) {
      self->Finish();
      return;
    }
    self->Read(id);
    self->Write();
  }

  void Finish() {
    redisAsyncFree(reader_);
    redisAsyncDisconnect(writer_);
  }

  int port_;
  int samples_;
  std::string stream_;
  std::string last_id_;
  redisAsyncContext* reader_ = nullptr;
  redisAsyncContext* writer_ = nullptr;
  int64_t sent_ns_ = 0;
  int seen_ = 0;
  std::vector<int64_t> samples_ns_;
  absl::Status error_;
};

}  // namespace

absl::StatusOr<std::vector<int64_t>> ReferenceLatency(int redis_port, int samples) {
  return XreadRoundTrip(redis_port, samples).Run();
}

absl::StatusOr<std::vector<int64_t>> BridgeLatency(int redis_port, const std::string& shmio_binary,
                                                   const std::string& dir, int samples) {
  std::string log = absl::StrCat(dir, "-log");
  std::string dest = absl::StrCat(dir, "-dest");
  unlink(log.c_str());
  unlink(dest.c_str());
  uint64_t capacity = 256 + uint64_t(samples + kWarmUp + 16) * (kPayloadBytes + 4);
  shmio::Options options;
  options.path = log;
  options.writable = true;
  options.capacity = capacity;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return pool.status();

  std::string redis = absl::StrCat("--redis=127.0.0.1:", redis_port);
  std::string stream = absl::StrCat("--stream=bench-bridge-", getpid());
  Child publisher({shmio_binary, "publish", log, redis, stream});
  Child mirror({shmio_binary, "mirror", redis, stream, dest, absl::StrCat("--capacity=", capacity)});
  if (!publisher.WaitFor("publishing") || !mirror.WaitFor("mirroring")) {
    return absl::UnavailableError(
        absl::StrCat("the bridge did not start: ", publisher.log(), mirror.log()));
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<int64_t> samples_ns;
  int seen = 0;
  int64_t sent_ns = 0;
  absl::Status error;
  uvwatch::Subscription* subscription = nullptr;
  auto commit_next = [&] {
    std::string payload(kPayloadBytes, 'x');
    error = (*pool)->Append(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
    sent_ns = NowNs();
    if (error.ok()) error = (*pool)->Commit();
    if (!error.ok()) subscription->Close();
  };
  absl::StatusOr<uvwatch::Subscription*> opened = uvwatch::Subscription::Open(
      &loop, dest, uvwatch::Options(),
      [&](const shmio::Batch& batch) {
        int64_t arrived = NowNs();
        seen += static_cast<int>(batch.frame_count);
        if (seen > kWarmUp) samples_ns.push_back(arrived - sent_ns);
        if (static_cast<int>(samples_ns.size()) >= samples) {
          subscription->Close();
          return;
        }
        commit_next();
      },
      [&](const absl::Status& status) {
        error = status;
        subscription->Close();
      });
  if (!opened.ok()) return opened.status();
  subscription = *opened;
  uv_timer_t bound;
  uv_timer_init(&loop, &bound);
  bound.data = subscription;
  uv_timer_start(&bound, [](uv_timer_t* timer) {
    static_cast<uvwatch::Subscription*>(timer->data)->Close();
  }, 60000, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&bound));
  commit_next();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&bound), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  unlink(log.c_str());
  unlink(dest.c_str());
  if (!error.ok()) return error;
  if (static_cast<int>(samples_ns.size()) < samples) {
    return absl::DeadlineExceededError(absl::StrCat("only ", samples_ns.size(), " of ", samples,
                                                    " frames came back within 60 s"));
  }
  return samples_ns;
}

}  // namespace bench_bridge
