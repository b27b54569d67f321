// Helpers for the uvwatch behaviour tests: a real uv loop driven one turn at
// a time with a uv timer that bounds every wait (and fails the test when it
// fires), a writer in a forked child process driven through pipes, numbered
// frames, and a recorder of what a subscription delivered.
//
// Nothing here sleeps: waits are loop turns, pipe reads and waitpid.
#ifndef TESTS_UVWATCH_UV_TEST_UTIL_H_
#define TESTS_UVWATCH_UV_TEST_UTIL_H_

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "shmio/chain_writer.h"
#include "shmio/consumer.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {

// How long a test waits for something the loop should deliver promptly
// before it declares failure. A bound for failure, never a speed claim:
// generous so that sanitizer builds on a busy machine still pass.
inline constexpr uint64_t kWaitBoundMs = 20000;

// A unique path under /dev/shm with the pid in it; removed on destruction.
class ShmFile {
 public:
  explicit ShmFile(absl::string_view name);
  ~ShmFile();
  ShmFile(const ShmFile&) = delete;
  ShmFile& operator=(const ShmFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A ShmFile's path for a directory (a chain's; not made here), removed
// with everything in it on destruction.
class ShmDir : public ShmFile {
 public:
  explicit ShmDir(absl::string_view name);
  ~ShmDir();
};

// A test fixture owning a uv loop. TearDown runs the loop's pending close
// callbacks and expects uv_loop_close() to return 0, so every test proves
// it released every handle.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs the loop one turn at a time (UV_RUN_ONCE) until `done()` or until
  // `bound_ms` passed on a uv timer; returns done(). `what` names the wait
  // in the failure message.
  bool RunUntil(const std::function<bool()>& done, absl::string_view what,
                uint64_t bound_ms = kWaitBoundMs);

  // Runs the loop for `turns` UV_RUN_NOWAIT turns (lets pending idle work
  // happen without blocking).
  void RunTurns(int turns);

  // Runs the loop for `ms` milliseconds of a uv timer (to see that
  // something does NOT happen meanwhile).
  void RunFor(uint64_t ms);

  // Closes `sub` and runs the loop until its close callback ran.
  void CloseAndWait(uvwatch::Subscription* sub);

  uv_loop_t loop_;
};

// A writer (shmio::Pool, or a shmio::ChainWriter) in a forked child, driven
// through pipes. Frame n's payload is n as 8 little-endian bytes followed by
// (n + j) & 0xff bytes.
class ChildWriter {
 public:
  // Forks a child that opens (creating when missing) the log at `path` with
  // `capacity` bytes as the one writer. Returns null after ADD_FAILURE when
  // the child cannot open it.
  static std::unique_ptr<ChildWriter> Start(const std::string& path,
                                            uint64_t capacity = 1 << 22);
  // Forks a child that opens the chain `options` (with create, making it)
  // as its one writer. Its replies count ChainWriter::rolls(), not rings.
  static std::unique_ptr<ChildWriter> StartChain(const shmio::ChainOptions& options);
  ~ChildWriter();  // kills the child if still running

  // Appends frames first .. first+count-1 of `payload_bytes` (>= 8) each,
  // commits them with one Commit(), and returns the writer's
  // Pool::doorbell_rings() after it (UINT64_MAX on error).
  uint64_t Commit(uint64_t first, uint64_t count, size_t payload_bytes = 16);

  // Appends frames without committing (what a crashing writer leaves).
  uint64_t AppendOnly(uint64_t first, uint64_t count,
                      size_t payload_bytes = 16);

  // Starts the child appending frames first .. first+count-1 of
  // kEachPayloadBytes each, committing every `per_commit` frames (and the
  // last ones), and returns without waiting: the parent runs its loop
  // meanwhile, then collects the reply with AwaitReply().
  bool StartCommittingEach(uint64_t first, uint64_t count, uint64_t per_commit);
  // The reply to the last command sent (UINT64_MAX, after ADD_FAILURE, on
  // error).
  uint64_t AwaitReply();

  // SIGKILLs the child and reaps it.
  void Kill();

  // Asks the child to exit; returns its exit code.
  int Finish();

  pid_t pid() const { return pid_; }

 private:
  ChildWriter(pid_t pid, int command_fd, int reply_fd)
      : pid_(pid), command_fd_(command_fd), reply_fd_(reply_fd) {}
  // Forks a child running serve(command_fd, reply_fd); `what` names what it
  // opens, for the failure message.
  static std::unique_ptr<ChildWriter> Spawn(const std::string& what,
                                            const std::function<int(int, int)>& serve);
  uint64_t Send(uint64_t op, uint64_t first, uint64_t count,
                uint64_t payload_bytes);
  bool SendOnly(uint64_t op, uint64_t first, uint64_t count,
                uint64_t payload_bytes);

  pid_t pid_;
  int command_fd_;
  int reply_fd_;
};

// The payload size of StartCommittingEach's frames: each frame takes
// kEachPayloadBytes + 4 bytes, so frame n of a chain that starts at 0 is at
// position n * kEachFrameBytes.
inline constexpr size_t kEachPayloadBytes = 16;
inline constexpr uint64_t kEachFrameBytes = kEachPayloadBytes + 4;

// Frame n's payload as ChildWriter writes it.
std::vector<uint8_t> NumberedPayload(uint64_t n, size_t payload_bytes);
// The number of a frame written by ChildWriter; fails the test (returning
// UINT64_MAX) when the payload does not follow the pattern.
uint64_t FrameNumber(const shmio::Frame& frame);

// Records what a subscription delivered.
struct Recorder {
  std::vector<uint64_t> numbers;      // frame numbers, in delivery order
  std::vector<size_t> batch_frames;   // frame_count of each batch
  std::vector<uint64_t> batch_bytes;  // payload_bytes of each batch
  std::vector<absl::Status> errors;
  uint64_t last_cursor = 0;
  bool cursors_chain = true;  // each batch starts where the last ended

  uvwatch::Subscription::BatchCallback OnBatch();
  uvwatch::Subscription::ErrorCallback OnError();
  // Records one batch; returns false when a frame was malformed.
  void Record(const shmio::Batch& batch);
  // True when numbers == first, first+1, ..., first+count-1.
  bool IsRun(uint64_t first, uint64_t count) const;
};

// Reads the doorbell's armed word straight from the file (pread, no
// shmio), to see whether a reader sleeps on it.
uint64_t ReadArmedWord(const std::string& path);

}  // namespace uvwatch_test

#endif  // TESTS_UVWATCH_UV_TEST_UTIL_H_
