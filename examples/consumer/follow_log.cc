// A program outside shmio's tree that uses //shmio and //uvwatch: a writer
// commits numbered frames to a log while a uvwatch subscription follows it
// on a libuv loop, and the reader checks that every frame arrives once, in
// order. Built by every way of consuming shmio that this directory shows
// (Bazel, CMake, pkg-config) and run by their tests:
//
//   follow_log [PATH]   # default /dev/shm/shmio-follow-<pid>
//
// Prints what it checked; exit 0 when the reader got every frame, 1
// otherwise (including a reader that stalls for kDeadlineMs). The log file
// is removed at the end.
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace {

constexpr int kFramesPerCommit = 10;
constexpr int kCommits = 5;
constexpr int kFrames = kFramesPerCommit * kCommits;
constexpr uint64_t kCommitEveryMs = 2;
constexpr uint64_t kDeadlineMs = 10000;

std::string Payload(int i) { return absl::StrCat("frame ", i); }

// Everything the loop's callbacks share.
struct Follow {
  shmio::Pool* writer = nullptr;
  uvwatch::Subscription* reader = nullptr;
  int frames_written = 0;
  int frames_read = 0;
  absl::Status error;
  bool finished = false;
  uv_timer_t commit_timer;
  uv_timer_t deadline_timer;

  // Ends the run (once): closes every handle, so uv_run returns.
  void Finish(absl::Status status) {
    if (finished) return;
    finished = true;
    error = status;
    reader->Close();
    uv_close(reinterpret_cast<uv_handle_t*>(&commit_timer), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline_timer), nullptr);
  }
};

// The writer's side, on a uv timer: commits one batch of frames per tick.
void CommitBatch(uv_timer_t* timer) {
  auto* follow = static_cast<Follow*>(timer->data);
  for (int i = 0; i < kFramesPerCommit; ++i) {
    const std::string text = Payload(follow->frames_written++);
    absl::Status appended = follow->writer->Append(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    if (!appended.ok()) return follow->Finish(appended);
  }
  absl::Status committed = follow->writer->Commit();
  if (!committed.ok()) return follow->Finish(committed);
  if (follow->frames_written == kFrames) uv_timer_stop(timer);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1] : absl::StrCat("/dev/shm/shmio-follow-", getpid());
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) {
    std::fprintf(stderr, "follow_log: %s\n", shm.status().ToString().c_str());
    return 1;
  }
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) {
    std::fprintf(stderr, "follow_log: %s\n", pool.status().ToString().c_str());
    return 1;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  Follow follow;
  follow.writer = pool->get();
  auto subscription = uvwatch::Subscription::Open(
      &loop, path, uvwatch::Options{},
      [&follow, &path](const shmio::Batch& batch) {
        for (const shmio::Frame& frame : batch.frames) {
          const absl::string_view got(reinterpret_cast<const char*>(frame.payload.data()),
                                      frame.payload.size());
          if (got != Payload(follow.frames_read)) {
            return follow.Finish(absl::DataLossError(
                absl::StrCat(path, ": frame ", follow.frames_read, " at offset ",
                             frame.offset, " holds '", got, "'")));
          }
          ++follow.frames_read;
        }
        if (!batch.frames.status().ok()) return follow.Finish(batch.frames.status());
        if (follow.frames_read == kFrames) follow.Finish(absl::OkStatus());
      },
      [&follow](const absl::Status& error) { follow.Finish(error); });
  if (!subscription.ok()) {
    std::fprintf(stderr, "follow_log: %s\n", subscription.status().ToString().c_str());
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    unlink(path.c_str());
    return 1;
  }
  follow.reader = *subscription;

  uv_timer_init(&loop, &follow.commit_timer);
  follow.commit_timer.data = &follow;
  uv_timer_start(&follow.commit_timer, &CommitBatch, kCommitEveryMs, kCommitEveryMs);
  uv_timer_init(&loop, &follow.deadline_timer);
  follow.deadline_timer.data = &follow;
  uv_timer_start(&follow.deadline_timer, [](uv_timer_t* timer) {
    auto* follow = static_cast<Follow*>(timer->data);
    follow->Finish(absl::DeadlineExceededError(absl::StrCat(
        "the reader got ", follow->frames_read, " of ", follow->frames_written,
        " committed frames in ", kDeadlineMs, " ms")));
  }, kDeadlineMs, 0);

  const char* mode = uvwatch::ModeName(follow.reader->mode());
  uv_run(&loop, UV_RUN_DEFAULT);  // returns once Finish() has closed every handle
  const int closed = uv_loop_close(&loop);
  unlink(path.c_str());
  if (!follow.error.ok()) {
    std::fprintf(stderr, "follow_log: %s\n", follow.error.ToString().c_str());
    return 1;
  }
  std::printf("follow_log: a uv loop followed %d of %d frames in %s mode, in order\n",
              follow.frames_read, kFrames, mode);
  return follow.frames_read == kFrames && closed == 0 ? 0 : 1;
}
