// shmio quickstart: a writer appends frames to a log in /dev/shm and a
// reader follows it from a libuv loop through a uvwatch subscription.
//
//   ./bazelw run //examples:quickstart
//
// Both sides live in this one process to keep it short; in real use they
// are separate processes (see the other examples). The log file is removed
// at the end.
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace {

// Appends `text` as one frame (not yet visible to readers).
void Write(shmio::Pool& pool, absl::string_view text) {
  absl::Status status = pool.Append(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  if (!status.ok()) std::fprintf(stderr, "append: %s\n", status.ToString().c_str());
}

}  // namespace

int main() {
  const std::string path = absl::StrFormat("/dev/shm/shmio-quickstart-%d", getpid());

  // The writer: one per log, enforced by a file lock.
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;  // 1 MiB
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) {
    std::fprintf(stderr, "quickstart: %s\n", shm.status().ToString().c_str());
    return 1;
  }
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) {
    std::fprintf(stderr, "quickstart: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  std::printf("log: %s (1 MiB)\n", path.c_str());
  Write(**pool, "hello from shmio");
  Write(**pool, "frames become visible to readers all at once, on Commit()");
  (void)(*pool)->Commit();
  std::printf("writer: committed 2 frames\n");

  // The reader: a subscription on a libuv loop. Its first callback delivers
  // what is already committed; later ones deliver each new batch.
  uv_loop_t* loop = uv_default_loop();
  uvwatch::Subscription* reader = nullptr;
  int frames_read = 0;
  auto subscription = uvwatch::Subscription::Open(
      loop, path, uvwatch::Options{},
      [&](const shmio::Batch& batch) {
        for (const shmio::Frame& frame : batch.frames) {
          std::printf("reader: frame at offset %llu: \"%.*s\"\n",
                      static_cast<unsigned long long>(frame.offset),
                      static_cast<int>(frame.payload.size()),
                      reinterpret_cast<const char*>(frame.payload.data()));
          ++frames_read;
        }
        if (frames_read == 3) reader->Close();  // the loop ends when closed
      },
      [](const absl::Status& error) {
        std::fprintf(stderr, "reader error: %s\n", error.ToString().c_str());
      });
  if (!subscription.ok()) {
    std::fprintf(stderr, "quickstart: %s\n",
                 subscription.status().ToString().c_str());
    return 1;
  }
  reader = *subscription;
  std::printf("reader: following in %s mode\n", uvwatch::ModeName(reader->mode()));

  // A while later (10 ms, on a uv timer) the writer commits one more frame;
  // the sleeping reader is woken by the writer's doorbell.
  uv_timer_t later;
  uv_timer_init(loop, &later);
  later.data = pool->get();
  uv_timer_start(&later, [](uv_timer_t* timer) {
    auto* writer = static_cast<shmio::Pool*>(timer->data);
    Write(*writer, "this one woke the reader through the doorbell");
    (void)writer->Commit();
    std::printf("writer: committed 1 more frame\n");
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  }, 10, 0);

  uv_run(loop, UV_RUN_DEFAULT);  // returns once every handle is closed
  std::printf("done: read %d frames; the writer rang the doorbell %llu time(s)\n",
              frames_read,
              static_cast<unsigned long long>((*pool)->doorbell_rings()));
  int closed = uv_loop_close(loop);
  unlink(path.c_str());
  return frames_read == 3 && closed == 0 ? 0 : 1;
}
