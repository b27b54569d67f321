// A program outside shmio's tree that uses the installed (or external)
// //shmio library only: it writes numbered frames to a log and reads them
// back with a Consumer. Built by every way of consuming shmio that this
// directory shows (Bazel, CMake, pkg-config) and run by their tests:
//
//   log_roundtrip [PATH]   # default /dev/shm/shmio-roundtrip-<pid>
//
// Prints what it checked; exit 0 when every frame came back intact, 1
// otherwise. The log file is removed at the end.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "shmio/consumer.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace {

constexpr int kFrames = 1000;
constexpr int kFramesPerCommit = 100;

std::string Payload(int i) { return absl::StrCat("frame ", i); }

absl::Status Write(const std::string& path) {
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return pool.status();
  for (int i = 0; i < kFrames; ++i) {
    const std::string text = Payload(i);
    absl::Status appended = (*pool)->Append(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    if (!appended.ok()) return appended;
    if ((i + 1) % kFramesPerCommit == 0) {
      absl::Status committed = (*pool)->Commit();
      if (!committed.ok()) return committed;
    }
  }
  return absl::OkStatus();
}

// Reads the log from the beginning in a separate, read-only mapping and
// checks that frame i holds Payload(i).
absl::Status ReadBack(const std::string& path, int* frames_read) {
  shmio::Options options;
  options.path = path;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  shmio::Consumer consumer(shm->get());
  for (;;) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next({.max_frames = 128});
    if (!batch.ok()) return batch.status();
    if (batch->empty()) return absl::OkStatus();
    for (const shmio::Frame& frame : batch->frames) {
      const absl::string_view got(reinterpret_cast<const char*>(frame.payload.data()),
                                  frame.payload.size());
      if (got != Payload(*frames_read)) {
        return absl::DataLossError(absl::StrCat(path, ": frame ", *frames_read, " at offset ",
                                                frame.offset, " holds '", got, "'"));
      }
      ++*frames_read;
    }
    if (!batch->frames.status().ok()) return batch->frames.status();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1] : absl::StrCat("/dev/shm/shmio-roundtrip-", getpid());
  int frames_read = 0;
  absl::Status status = Write(path);
  if (status.ok()) status = ReadBack(path, &frames_read);
  unlink(path.c_str());
  if (!status.ok()) {
    std::fprintf(stderr, "log_roundtrip: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("log_roundtrip: wrote %d frames, read back %d, all intact\n", kFrames,
              frames_read);
  return frames_read == kFrames ? 0 : 1;
}
