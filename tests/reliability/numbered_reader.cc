// numbered_reader: follows a numbered log (numbered_payload.h) read-only
// while a writer appends, checking every frame, until it has seen --frames
// frames. Exit codes: 0 all frames checked, 1 a check failed (stderr says
// which frame and why), 2 the log could not be opened.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/log_follower.h"

ABSL_FLAG(std::string, path, "", "the log file (must exist)");
ABSL_FLAG(uint64_t, frames, 0, "frames to read before exiting");
ABSL_FLAG(uint64_t, seed, 1, "seed for the random batch limits");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  shmio::Options options;
  options.path = absl::GetFlag(FLAGS_path);
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) {
    std::fprintf(stderr, "numbered_reader: open: %s\n",
                 shm.status().ToString().c_str());
    return 2;
  }
  shmio_reliability::FollowStats stats;
  absl::Status status = shmio_reliability::FollowLog(
      **shm, absl::GetFlag(FLAGS_frames), absl::GetFlag(FLAGS_seed), &stats);
  if (!status.ok()) {
    std::fprintf(stderr, "numbered_reader: after %llu frames: %s\n",
                 static_cast<unsigned long long>(stats.frames),
                 status.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "numbered_reader: %llu frames in %llu batches, caught up %llu "
               "times\n",
               static_cast<unsigned long long>(stats.frames),
               static_cast<unsigned long long>(stats.batches),
               static_cast<unsigned long long>(stats.caught_up));
  return 0;
}
