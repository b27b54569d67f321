// A writer process for cross_process_test: opens an existing log at --path
// and appends NumberedPayload(0 .. --frames-1), committing after every
// --batch frames and at the end. With --ack_fd, after every --ack_every
// committed frames it blocks until one byte arrives on that descriptor: the
// reader's acknowledgement that it has read that far, which guarantees the
// reader and the writer really run at the same time (without sleeping).
// Exits 0 on success, 1 with the error on stderr otherwise. Run by the test
// through fork + exec, so the writer is a real separate program, not a copy of
// the test.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/numbered_frames.h"

ABSL_FLAG(std::string, path, "", "log to append to (must exist)");
ABSL_FLAG(uint64_t, frames, 1000, "how many numbered frames to append");
ABSL_FLAG(uint64_t, batch, 10, "commit after every this many frames");
ABSL_FLAG(int, ack_fd, -1, "descriptor to read acknowledgements from");
ABSL_FLAG(uint64_t, ack_every, 1000,
          "wait for an acknowledgement after this many committed frames "
          "(a multiple of --batch)");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "numbered_writer: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const uint64_t frames = absl::GetFlag(FLAGS_frames);
  const uint64_t batch = absl::GetFlag(FLAGS_batch);
  const int ack_fd = absl::GetFlag(FLAGS_ack_fd);
  const uint64_t ack_every = absl::GetFlag(FLAGS_ack_every);
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(
          {.path = absl::GetFlag(FLAGS_path), .writable = true});
  if (!shm.ok()) return Fail(shm.status());
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool =
      shmio::Pool::Create(shm->get());
  if (!pool.ok()) return Fail(pool.status());
  for (uint64_t seq = 0; seq < frames; ++seq) {
    absl::Status appended = (*pool)->Append(shmio_test::NumberedPayload(seq));
    if (!appended.ok()) return Fail(appended);
    if ((seq + 1) % batch == 0 || seq + 1 == frames) {
      absl::Status committed = (*pool)->Commit();
      if (!committed.ok()) return Fail(committed);
    }
    if (ack_fd >= 0 && (seq + 1) % ack_every == 0 && seq + 1 < frames) {
      char ack;
      ssize_t n;
      do {
        n = read(ack_fd, &ack, 1);
      } while (n < 0 && errno == EINTR);
      if (n != 1) {
        return Fail(absl::AbortedError(absl::StrCat(
            "the reader stopped acknowledging after frame ", seq)));
      }
    }
  }
  return 0;
}
