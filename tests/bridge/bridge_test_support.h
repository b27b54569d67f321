// What the bridge tests share: the `shmio publish` / `shmio mirror`
// processes they run and kill, the logs they write, and readers that turn a
// log or a stream into the list of (position, payload) it holds, so that
// "no gap, no duplicate, every payload" is one comparison.
//
// Logs are read through bridge::OpenLogSource and written through
// TestLogWriter, a single file or a chain of files alike: the readers and
// every comparison are the same for both.
#ifndef TESTS_BRIDGE_BRIDGE_TEST_SUPPORT_H_
#define TESTS_BRIDGE_BRIDGE_TEST_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {

// Generous bound for anything that should happen promptly; only a hang gets
// near it.
inline constexpr absl::Duration kWaitBound = absl::Seconds(60);

// The kill loops of publisher_crash_test and mirror_crash_test: at least
// kRequiredKills SIGKILLs, stopping at kMaxKills or after kKillLoopBound,
// each landing within kKillWithinUs of its starting point.
inline constexpr int kRequiredKills = 50;
inline constexpr int kMaxKills = 150;
#ifdef SHMIO_SANITIZER
// Sanitizer builds start a process and do its work several times slower
// (TSan most: ~0.4 s per kill cycle on the loaded 2-core machine, against
// ~0.1 s plain; a resume also walks the log's frames up to the stream's
// end, ~0.2 s under TSan for half a million frames), so they get a longer
// bound and a longer kill window.
inline constexpr absl::Duration kKillLoopBound = absl::Seconds(40);
inline constexpr uint32_t kKillWithinUs = 250000;
#else
inline constexpr absl::Duration kKillLoopBound = absl::Seconds(30);
inline constexpr uint32_t kKillWithinUs = 20000;
#endif

// Polls `probe` every 200 us until it returns more than `above`, for at
// most `within`; true when it did. The kill loops use it to kill a bridge
// right after it has made progress, so that a share of the kills surely
// lands in the middle of its work (a random delay alone lands mostly
// before it starts or after it caught up, most of all under sanitizers).
inline bool WaitUntilGrows(const std::function<uint64_t()>& probe, uint64_t above,
                           absl::Duration within) {
  const absl::Time deadline = absl::Now() + within;
  while (absl::Now() < deadline) {
    if (probe() > above) return true;
    absl::SleepFor(absl::Microseconds(200));
  }
  return false;
}

// One frame of a log or one entry of a stream.
struct Entry {
  uint64_t position = 0;
  std::string payload;
  friend bool operator==(const Entry& a, const Entry& b) {
    return a.position == b.position && a.payload == b.payload;
  }
};

// The payload of frame n: n as 8 little-endian bytes, then (n * 7) % 61
// bytes of a pattern, so frames differ in size and content.
std::string NumberedPayload(uint64_t n);

// Writes numbered frames into a log. One implementation per kind of log.
class TestLogWriter {
 public:
  virtual ~TestLogWriter() = default;
  // Appends frames next_frame() .. next_frame()+count-1 and commits them
  // every `batch` frames and at the end.
  virtual absl::Status Write(uint64_t count, uint64_t batch) = 0;
  virtual uint64_t next_frame() const = 0;
  // The position after the last committed frame.
  virtual uint64_t end_position() const = 0;
  // How many times a chain's writer rolled to a new file (0 for a file).
  virtual uint64_t rolls() const { return 0; }
};

// A single shmio file of `capacity` bytes, created (or continued).
absl::StatusOr<std::unique_ptr<TestLogWriter>> OpenSingleFileWriter(const std::string& path,
                                                                    uint64_t capacity);

// A chain of files of `file_capacity` bytes in the directory `dir`,
// created (or continued), starting at position 0.
absl::StatusOr<std::unique_ptr<TestLogWriter>> OpenChainWriter(const std::string& dir,
                                                                uint64_t file_capacity);

// Every committed frame of the log at `path` (a file or a chain), read
// through bridge::OpenLogSource from its oldest frame.
absl::StatusOr<std::vector<Entry>> ReadLog(const std::string& path);

// Follows the log at `path` (through bridge::OpenLogSource, woken by its
// doorbell) until it holds every position below `end`; false after
// `bound`, or on an error. A log not there yet (a mirror creating it) is
// waited for within `bound`.
bool WaitForLogEnd(const std::string& path, uint64_t end, absl::Duration bound = kWaitBound);

// Every entry of `stream`, read with XRANGE in chunks and decoded here
// (independently of //bridge): ID "P-1", fields pos=P and data.
absl::StatusOr<std::vector<Entry>> ReadStream(SyncRedis& redis, const std::string& stream);

// How many times `text` occurs in `in`.
int CountOf(const std::string& in, absl::string_view text);

// "" when `actual` equals `expected`; else what differs first (a gap, a
// duplicate, other bytes), for an assertion message.
std::string Difference(const std::vector<Entry>& actual, const std::vector<Entry>& expected);

// A running `shmio` command with stdout and stderr on pipes. Dies with the
// test process (PR_SET_PDEATHSIG) and is SIGKILLed by the destructor.
class ShmioChild {
 public:
  explicit ShmioChild(const std::vector<std::string>& args);
  ~ShmioChild();
  ShmioChild(const ShmioChild&) = delete;
  ShmioChild& operator=(const ShmioChild&) = delete;

  pid_t pid() const { return pid_; }
  // Reads stderr until it contains `text` `times` times (true), or it
  // closes or `bound` passes (false).
  bool WaitForStderr(absl::string_view text, int times = 1, absl::Duration bound = kWaitBound);
  void Signal(int signal);
  // Reads both pipes to their end and reaps the child; its exit code, or
  // 128 + signal. SIGKILLs it first after `bound`.
  int Wait(absl::Duration bound = kWaitBound);
  // What the child printed so far (reads what is waiting in the pipes).
  const std::string& out();
  const std::string& err();

 private:
  bool ReadSome(int timeout_ms);  // one poll + reads; false at EOF of both
  bool HasInput() const;          // a pipe has bytes (or EOF) waiting

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  int exit_code_ = -1;
};

// The path of //tools:shmio in the runfiles.
std::string ShmioPath();
// A path under /dev/shm with the pid and `name`; whatever was there (a
// file, or a chain's directory) is removed, and so is whatever is there
// when this process exits.
std::string ShmPath(absl::string_view name);
// $TEST_TMPDIR/<name>.
std::string TempDir(absl::string_view name);

}  // namespace bridge_test

#endif  // TESTS_BRIDGE_BRIDGE_TEST_SUPPORT_H_
