// Helpers shared by the //shmio behaviour tests: temporary paths, byte
// surgery on real files (CorruptByte, TruncateTo), fixture lookup in the
// runfiles, and child processes with pipes to synchronise them, so that each
// test body stays a few lines long.
//
// These helpers touch files only through POSIX calls, never through shmio,
// so that a test can check shmio's bytes independently of shmio's own code.
// Failures abort the test (ADD_FAILURE / fatal messages) rather than return
// errors: a helper that cannot do its job means the test cannot run.
#ifndef TESTS_SHMIO_TEST_UTIL_H_
#define TESTS_SHMIO_TEST_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace shmio_test {

// Returns a fresh path under $TEST_TMPDIR (or /tmp) that does not exist yet;
// `name` makes it readable in failure messages. Unique per call.
std::string TempPath(absl::string_view name);

// Returns a fresh path under /dev/shm with this process's pid in it; the
// caller removes it (see ScopedPath).
std::string ShmPath(absl::string_view name);

// Removes the file at `path` when it goes out of scope.
class ScopedPath {
 public:
  explicit ScopedPath(std::string path) : path_(std::move(path)) {}
  ~ScopedPath();
  ScopedPath(const ScopedPath&) = delete;
  ScopedPath& operator=(const ScopedPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Returns the absolute path of a data dependency given relative to the
// workspace root (e.g. "tests/fixtures/node-shmio/basic.shm").
std::string RunfilePath(absl::string_view workspace_relative);

// Copies the fixture `file_name` from tests/fixtures/node-shmio/ to a fresh
// writable path under $TEST_TMPDIR and returns that path. Fixtures are
// read-only inputs: tests that write work on such a copy.
std::string CopyNodeFixture(absl::string_view file_name);

// Whole-file and byte-level access, for checking bytes and damaging files.
std::vector<uint8_t> ReadFileBytes(const std::string& path);
void WriteFileBytes(const std::string& path, absl::Span<const uint8_t> bytes);
void CopyFile(const std::string& from, const std::string& to);
uint64_t FileSize(const std::string& path);
uint16_t ReadU16At(const std::string& path, uint64_t offset);
uint64_t ReadU64At(const std::string& path, uint64_t offset);
void WriteU16At(const std::string& path, uint64_t offset, uint16_t value);
void WriteU64At(const std::string& path, uint64_t offset, uint64_t value);

// Overwrites the byte at `offset` with `value` (default: its complement).
void CorruptByte(const std::string& path, uint64_t offset);
void CorruptByte(const std::string& path, uint64_t offset, uint8_t value);

// Shrinks (or grows with zeros) the file at `path` to `size` bytes.
void TruncateTo(const std::string& path, uint64_t size);

// Creates a file of `size` zero bytes (what a not-yet-started writer leaves).
void CreateZeroFile(const std::string& path, uint64_t size);

// A deterministic payload: byte j of frame `seed` is (seed*131 + j*7 + 1).
std::vector<uint8_t> PatternPayload(uint64_t seed, size_t length);

// A one-way pipe for synchronising a parent and a child: one side writes a
// small message, the other blocks until it arrives. Both ends stay open until
// Close*() or destruction, so call CloseRead()/CloseWrite() in the side that
// does not use an end (so that EOF is seen when the other side exits).
class Pipe {
 public:
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  int read_fd() const { return fds_[0]; }
  int write_fd() const { return fds_[1]; }
  void CloseRead();
  void CloseWrite();

  // Writes the 8 bytes of `value`. Returns false on error.
  bool Send(uint64_t value);
  // Blocks until 8 bytes arrive. Returns false on EOF or error.
  bool Receive(uint64_t* value);

 private:
  int fds_[2] = {-1, -1};
};

// Forks a child that runs `body` and exits with its return value (through
// _exit, so no atexit handlers or gtest machinery run twice). The child must
// not use gtest assertions: it reports through its exit code or a Pipe.
pid_t ForkChild(const std::function<int()>& body);

// Waits for `pid` and returns its exit code, or 128 + signal number when a
// signal ended it, or -1 when waitpid failed.
int WaitForExit(pid_t pid);

// Owns a child process: the destructor SIGKILLs and reaps it if it is still
// there, so a failing test never leaves a child blocked forever.
class ScopedChild {
 public:
  explicit ScopedChild(pid_t pid) : pid_(pid) {}
  ~ScopedChild();
  ScopedChild(const ScopedChild&) = delete;
  ScopedChild& operator=(const ScopedChild&) = delete;

  pid_t pid() const { return pid_; }
  // Waits for the child; returns what WaitForExit returns.
  int Wait();
  // Sends SIGKILL and waits; returns what WaitForExit returns.
  int Kill();

 private:
  pid_t pid_;
};

// Forks and execs `argv[0]` with `argv` (a real separate program). The
// descriptors in `inherit_fds` stay open in the program (their close-on-exec
// flag is cleared in the child); all others opened by test_util are closed.
// Returns the child's pid, or -1 when fork failed; exec failure exits the
// child 127.
pid_t SpawnProgram(const std::vector<std::string>& argv,
                   const std::vector<int>& inherit_fds = {});

}  // namespace shmio_test

#endif  // TESTS_SHMIO_TEST_UTIL_H_
