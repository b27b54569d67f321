// Real child processes for the reliability suites: exec a program from the
// test's runfiles with a report pipe on a known descriptor, read its
// reports (writer_report.h), and reap it. POSIX only, no shmio: the suites
// check shmio through the processes, not through these helpers.
#ifndef TESTS_RELIABILITY_CHILD_PROCESS_H_
#define TESTS_RELIABILITY_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "tests/reliability/writer_report.h"

namespace shmio_reliability {

// The descriptor a spawned child finds its report pipe on (pass
// --report_fd=3 to numbered_writer).
inline constexpr int kChildReportFd = 3;

// Returns the path of a data dependency given relative to the workspace
// root (e.g. "tests/reliability/numbered_writer").
std::string RunfilePath(absl::string_view workspace_relative);

// A running child and the read end of its report pipe (-1 if none).
struct Child {
  pid_t pid = -1;
  int report_fd = -1;
};

// Forks and execs argv[0] with `argv`. With `report_pipe`, the child gets
// the write end of a new pipe as kChildReportFd and the parent keeps the
// read end (close it with CloseReports). Returns pid -1 when fork fails.
Child Spawn(const std::vector<std::string>& argv, bool report_pipe);

// Blocks until one whole report arrives. Returns false at EOF (every writer
// of the pipe is gone) or on a read error.
bool ReadReport(int fd, Report* report);

// Closes the parent's end of the child's report pipe.
void CloseReports(Child* child);

// Waits for `pid` and returns its exit code, or 128 + the signal number when
// a signal ended it, or -1 when waitpid failed.
int WaitForExit(pid_t pid);

// Returns a path under /dev/shm with this process's pid and `name` in it
// that does not exist yet.
std::string ShmPath(absl::string_view name);

// Removes `path` (if present) when it goes out of scope.
class ScopedUnlink {
 public:
  explicit ScopedUnlink(std::string path) : path_(std::move(path)) {}
  ~ScopedUnlink();
  ScopedUnlink(const ScopedUnlink&) = delete;
  ScopedUnlink& operator=(const ScopedUnlink&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_CHILD_PROCESS_H_
