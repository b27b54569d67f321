// What the CLI tests share: running the real `shmio` binary (from the
// test's runfiles) as a child process with a stdin pipe, the Node.js fixture
// and its manifest, and byte surgery on copies of log files.
//
// Every child is bounded by kChildDeadline: a hang is reported as
// `timed_out` (the child is SIGKILLed), never as a stuck test.
#ifndef SHMIO_TESTS_TOOLS_CLI_TEST_SUPPORT_H_
#define SHMIO_TESTS_TOOLS_CLI_TEST_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace shmio::cli_test {

// Generous: only a hang gets near it, never a slow sanitizer build.
inline constexpr int kChildDeadlineSeconds = 60;

// How a finished child ended and what it printed.
struct CliResult {
  int exit_code = -1;   // valid when exited
  bool exited = false;  // ended by exit(); false: a signal or the deadline
  int signal = 0;       // the signal that ended it, if any
  bool timed_out = false;
  std::string out;
  std::string err;

  // "exit 1, stderr: ..." for assertion messages.
  std::string Describe() const;
};

// A running `shmio` with pipes on its stdin, stdout and stderr.
class ShmioProcess {
 public:
  // Starts `shmio args...`. Aborts the test binary if fork or exec fails.
  explicit ShmioProcess(const std::vector<std::string>& args);
  // Starts the program at `binary` (e.g. a copy of shmio elsewhere).
  ShmioProcess(const std::string& binary, const std::vector<std::string>& args);
  ~ShmioProcess();  // SIGKILLs and reaps a child still running
  ShmioProcess(const ShmioProcess&) = delete;
  ShmioProcess& operator=(const ShmioProcess&) = delete;

  // The child's pid, also after it was reaped.
  pid_t pid() const { return pid_; }

  // Writes `data` to the child's stdin (blocking). False if the child closed
  // it (EPIPE).
  bool WriteStdin(const std::string& data);

  // Writes `stdin_data`, closes stdin, collects stdout and stderr until the
  // child ends, and reaps it; SIGKILLs it past kChildDeadlineSeconds.
  CliResult Finish(const std::string& stdin_data = "");

  // Sends `signal` and reaps the child, collecting what it printed.
  CliResult KillAndReap(int signal);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
};

// Runs `shmio args...` with `stdin_data` on stdin until it ends.
CliResult RunShmio(const std::vector<std::string>& args,
                   const std::string& stdin_data = "");

// Runs `binary args...` with an empty stdin until it ends.
CliResult RunProgram(const std::string& binary, const std::vector<std::string>& args);

// $TEST_SRCDIR/$TEST_WORKSPACE/<relative>.
std::string RunfilesPath(const std::string& relative);

// A fresh path in $TEST_TMPDIR named after the running test and `name`.
// Removes any file left there.
std::string TempPath(const std::string& name);

// --- The Node.js fixture (tests/fixtures/node-shmio) ------------------------

// The facts of basic.json the tests check against.
struct NodeManifest {
  uint64_t file_bytes = 0;
  uint64_t data_offset = 0;
  uint64_t committed_size = 0;
  uint64_t committed_frames = 0;
  std::vector<uint64_t> frame_offsets;    // one per committed frame
  std::vector<uint64_t> payload_lengths;  // one per committed frame
  uint64_t uncommitted_end = 0;           // end of the 3 uncommitted frames
};

// Reads basic.json from the runfiles (a purpose-built extractor for its
// integer keys and integer arrays). Aborts the test binary if a key is
// missing.
NodeManifest LoadNodeManifest();

// Payload i of the fixture, by the manifest's generating rule:
// length ((i*37) % 200) + 1, byte j = (i*31 + j*7) & 0xFF.
std::vector<uint8_t> NodePayload(uint64_t i);

// Copies basic.shm to a fresh writable path in $TEST_TMPDIR.
std::string CopyNodeFixture(const std::string& name);

// `stat`'s "key: value" lines as a map.
std::map<std::string, std::string> ParseKeyValues(const std::string& text);

// Polls `condition` every millisecond until it holds (true) or
// kChildDeadlineSeconds pass (false). For waiting on a child's effect on a
// file when the child offers no pipe to signal it (the CLI prints nothing
// until its input ends); the outcome never depends on timing.
bool WaitUntil(const std::function<bool()>& condition);

// --- Bytes --------------------------------------------------------------------

std::string ToHex(const std::vector<uint8_t>& bytes);
std::vector<std::string> SplitLines(const std::string& text);  // by '\n'
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);
void WriteU16At(const std::string& path, uint64_t offset, uint16_t value);
void WriteU64At(const std::string& path, uint64_t offset, uint64_t value);
uint64_t ReadU64At(const std::string& path, uint64_t offset);
uint16_t ReadU16At(const std::string& path, uint64_t offset);

}  // namespace shmio::cli_test

#endif  // SHMIO_TESTS_TOOLS_CLI_TEST_SUPPORT_H_
