// //bench:commit_syscalls: appends and commits N frames between two marker
// writes, so that a syscall trace (strace -f) shows what Commit() costs the
// kernel: nothing while no reader is armed; with --armed, a reader-side
// Doorbell arms before every commit and each Commit() rings (one pwrite).
//
//   strace -f -o /tmp/trace bazel-bin/bench/commit_syscalls --commits=1000000
//   sed -n '/commit-loop-begin/,/commit-loop-end/p' /tmp/trace
//
// tests/bench/commit_syscalls_test.cc runs exactly that. Prints
// "commits=N doorbell_rings=R armed=0|1" on stdout.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "shmio/doorbell.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

ABSL_FLAG(uint64_t, commits, 1000000, "frames to append, each committed");
ABSL_FLAG(bool, armed, false, "arm the doorbell before every commit");
ABSL_FLAG(std::string, path, "", "log file (default /dev/shm/...-<pid>)");

namespace {

// One write(2) whose text marks a point in the trace.
void Marker(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

int Main() {
  const uint64_t commits = absl::GetFlag(FLAGS_commits);
  const bool armed = absl::GetFlag(FLAGS_armed);
  std::string path = absl::GetFlag(FLAGS_path);
  if (path.empty()) {
    path = absl::StrFormat("/dev/shm/shmio-commit-syscalls-%d.shm", getpid());
  }
  shmio::Options options;
  options.path = path;
  options.capacity = 256 + commits * (32 + 4) + 4096;
  options.writable = true;
  options.prefault = true;  // page faults are not syscalls, but keep it quiet
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(options);
  if (!shm.ok()) {
    std::fprintf(stderr, "%s\n", shm.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm->get());
  std::unique_ptr<shmio::Doorbell> doorbell;
  if (pool.ok() && armed) {
    absl::StatusOr<std::unique_ptr<shmio::Doorbell>> bell = shmio::Doorbell::Open(path);
    if (!bell.ok()) pool = bell.status();
    else doorbell = *std::move(bell);
  }
  if (!pool.ok()) {
    std::fprintf(stderr, "%s\n", pool.status().ToString().c_str());
    unlink(path.c_str());
    return 1;
  }
  uint8_t payload[32] = {1};
  uint64_t seen = 0;
  absl::Status status;
  Marker("shmio-commit-loop-begin\n");
  for (uint64_t i = 0; i < commits && status.ok(); ++i) {
    if (doorbell) seen += doorbell->ArmAndLoadCommitted();
    status = (*pool)->Append(payload);
    if (status.ok()) status = (*pool)->Commit();
  }
  Marker("shmio-commit-loop-end\n");
  unlink(path.c_str());
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("commits=%llu doorbell_rings=%llu armed=%d seen=%llu\n",
              static_cast<unsigned long long>(commits),
              static_cast<unsigned long long>((*pool)->doorbell_rings()),
              armed ? 1 : 0, static_cast<unsigned long long>(seen != 0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Main();
}
