// Batched IPC: a producer process sends requests (orders) to a consumer
// process, committing them in batches of 64 so readers see each batch at
// once and the producer pays one release store per batch. The consumer, on
// a libuv loop, receives them in callbacks of at most 100 frames.
//
//   ./bazelw run //examples:batched_ipc
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "examples/events.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace {

constexpr int kBatches = 20;
constexpr int kBatchSize = 64;

// The producer process.
int RunProducer(const std::string& path, int ready_fd) {
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return 1;
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return 1;
  if (write(ready_fd, "r", 1) != 1) return 1;  // the consumer may open it now
  uint64_t id = 0;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int i = 0; i < kBatchSize; ++i, ++id) {
      auto order = (*pool)->Wrap<examples::Order>();
      if (!order.ok()) return 1;
      (*order)->header.msg_type = examples::MsgType::kOrder;
      (*order)->order_id = id;
      (*order)->instrument = static_cast<uint32_t>(id % 8);
      (*order)->quantity = static_cast<int32_t>(id % 10) + 1;
      (*order)->price_ticks = 10000 + static_cast<int64_t>(id);
    }
    if (!(*pool)->Commit().ok()) return 1;  // 64 orders become visible at once
  }
  auto end = (*pool)->Wrap<examples::EndOfStream>();
  if (!end.ok()) return 1;
  (*end)->header.msg_type = examples::MsgType::kEndOfStream;
  (*end)->frames_sent = id;
  return (*pool)->Commit().ok() ? 0 : 1;
}

}  // namespace

int main() {
  const std::string path = absl::StrFormat("/dev/shm/shmio-ipc-%d", getpid());
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t producer = fork();
  if (producer == 0) {
    close(ready[0]);
    _exit(RunProducer(path, ready[1]));
  }
  close(ready[1]);
  char byte;
  if (read(ready[0], &byte, 1) != 1) return 1;

  uv_loop_t* loop = uv_default_loop();
  uint64_t orders = 0, next_id = 0, sent = 0, callbacks = 0, largest = 0;
  bool in_order = true;
  uvwatch::Subscription* consumer = nullptr;
  uvwatch::Options options;
  options.max_frames_per_batch = 100;  // back-pressure: at most 100 per call
  auto subscription = uvwatch::Subscription::Open(
      loop, path, options,
      [&](const shmio::Batch& batch) {
        ++callbacks;
        largest = std::max<uint64_t>(largest, batch.frame_count);
        for (const shmio::Frame& frame : batch.frames) {
          const uint8_t* p = frame.payload.data();
          if (examples::TypeOf(p) == examples::MsgType::kEndOfStream) {
            sent = reinterpret_cast<const examples::EndOfStream*>(p)->frames_sent;
            consumer->Close();
            return;
          }
          auto* order = reinterpret_cast<const examples::Order*>(p);
          in_order &= order->order_id == next_id++;
          ++orders;
        }
      },
      [](const absl::Status& error) {
        std::fprintf(stderr, "consumer: %s\n", error.ToString().c_str());
      });
  if (!subscription.ok()) return 1;
  consumer = *subscription;
  uv_run(loop, UV_RUN_DEFAULT);

  int status = 0;
  waitpid(producer, &status, 0);
  bool ok = orders == sent && sent == kBatches * kBatchSize && in_order &&
            largest <= 100 && uv_loop_close(loop) == 0 && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0;
  std::printf("producer committed %d batches of %d orders\n", kBatches, kBatchSize);
  std::printf("consumer received %llu orders in order, in %llu callbacks of "
              "at most %llu frames\n%s\n",
              static_cast<unsigned long long>(orders),
              static_cast<unsigned long long>(callbacks),
              static_cast<unsigned long long>(largest), ok ? "ok" : "FAILED");
  unlink(path.c_str());
  return ok ? 0 : 1;
}
