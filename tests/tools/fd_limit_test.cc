// Out of file descriptors (`prlimit --nofile=N shmio ...`): every command
// ends with a clear error and exit 1, or works (a follower then exits 0 on
// SIGTERM), at every limit from the lowest at which shmio loads; never a
// signal. `tail -f`
// used to segfault at 7: uv_loop_init's failure went unchecked and
// uv_loop_close then ran on an uninitialised loop.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

struct Ended {
  bool exited = false;
  int exit_code = -1;
  int signal = 0;
  std::string err;
};

// ThreadSanitizer runs a handler for a signal that arrives outside a
// blocking call only at the process's next intercepted call, and loses some
// of those: on 2026-12-06, 51 of 360 followers built with TSan, sent SIGTERM
// the moment they printed, kept running with libuv's signal pipe empty (the
// handler never ran), at every descriptor limit from 12 to 64; 0 of 360
// plain and 0 of 360 under ASan. A TSan build therefore repeats the SIGTERM
// each second; a follower that ignores SIGTERM still runs to the deadline.
#if defined(__SANITIZE_THREAD__)
constexpr bool kSigtermMayBeLost = true;
#else
constexpr bool kSigtermMayBeLost = false;
#endif

// Runs `shmio args...` with RLIMIT_NOFILE = `limit` (the binary is exec'd
// through a descriptor opened here, which the limit does not close). A
// follower that has printed the log's two frames is following, with its
// signal handlers in place: it gets SIGTERM. A child still running
// kChildDeadlineSeconds after it started is hung: it gets SIGKILL.
Ended RunWithDescriptorLimit(const std::vector<std::string>& args, rlim_t limit) {
  std::vector<std::string> argv = {"shmio"};
  argv.insert(argv.end(), args.begin(), args.end());
  int program = open(RunfilesPath("tools/shmio").c_str(), O_RDONLY | O_CLOEXEC);
  int out[2], err[2];
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    close(null);
    struct rlimit rl = {limit, limit};
    setrlimit(RLIMIT_NOFILE, &rl);
    std::vector<char*> raw;
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    fexecve(program, raw.data(), environ);
    _exit(127);
  }
  close(program);
  close(out[1]);
  close(err[1]);
  Ended ended;
  std::string printed;
  bool following = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(kChildDeadlineSeconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_pipes = 2;
  while (open_pipes > 0 && absl::Now() < deadline) {
    int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) + 1;
    if (following && kSigtermMayBeLost) wait_ms = std::min(wait_ms, 1000);
    int ready = poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (ready == 0) {
      if (following && kSigtermMayBeLost) kill(pid, SIGTERM);  // see kSigtermMayBeLost
      continue;
    }
    for (pollfd& fd : fds) {
      if (fd.fd < 0 || fd.revents == 0) continue;
      char buffer[1024];
      ssize_t n = read(fd.fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fd.fd);
        fd.fd = -1;
        --open_pipes;
        continue;
      }
      (fd.fd == out[0] ? printed : ended.err).append(buffer, static_cast<size_t>(n));
    }
    if (!following && printed == "6f6e65\n74776f\n" && args.size() > 2) {  // hex
      following = true;
      kill(pid, SIGTERM);
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  // The pipes close as the child exits, a moment before it can be reaped
  // (often long enough to see under TSan): wait for it up to the deadline,
  // then it is hung.
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  ended.exited = WIFEXITED(status);
  ended.exit_code = ended.exited ? WEXITSTATUS(status) : -1;
  ended.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return ended;
}

// UBSan checks a vptr it has not seen before by testing that the vtable is
// readable, and it tests readability by writing it into a pipe it opens for
// the purpose. With every descriptor in use that pipe cannot be made, and
// UBSan reports a valid object as having an "invalid vptr" whose memory
// "cannot be printed" (and exits 1): the sanitizer runtime's own limit. In
// sanitizer builds such a run says nothing about shmio and is not counted;
// the plain build checks every limit.
bool SanitizerRanOutOfDescriptors(const Ended& ended) {
#ifdef SHMIO_SANITIZER
  return ended.err.find("invalid vptr") != std::string::npos &&
         ended.err.find("<memory cannot be printed>") != std::string::npos;
#else
  return false;
#endif
}

TEST(FdLimitTest, EveryCommandFailsCleanlyOrWorksAtEveryDescriptorLimit) {
  const std::string path = TempPath("limits.shm");
  CliResult made = RunShmio({"append", path, "--create", "--capacity=65536", "--format=text"},
                            "one\ntwo\n");
  ASSERT_EQ(made.exit_code, 0) << made.Describe();
  const std::vector<std::vector<std::string>> commands = {
      {"tail", path, "-f"},
      {"tail", path, "-f", "--mode=timer"},
      {"tail", path, "-f", "--mode=inotify"},
      {"tail", path},
      {"stat", path},
      {"dump", path},
      {"verify", path},
  };
  int tried = 0;
  int checked = 0;          // runs whose outcome was asserted
  int sanitizer_blind = 0;  // runs the sanitizer runtime could not check
  for (rlim_t limit = 3; limit <= 24 && tried < 10; ++limit) {
    // Below some limit the dynamic loader cannot open shmio's shared
    // libraries and exits 127 before main(): not ours to handle.
    Ended loads = RunWithDescriptorLimit({"--help"}, limit);
    if (loads.exit_code == 127 &&
        loads.err.find("error while loading shared libraries") != std::string::npos) {
      continue;
    }
    ++tried;
    for (const std::vector<std::string>& command : commands) {
      SCOPED_TRACE(absl::StrCat("nofile=", limit, ": shmio ", command[0], " ",
                                command.size() > 2 ? command[2] : "",
                                command.size() > 3 ? " " + command[3] : ""));
      Ended ended = RunWithDescriptorLimit(command, limit);
      if (SanitizerRanOutOfDescriptors(ended)) {
        ++sanitizer_blind;
        continue;
      }
      ++checked;
      ASSERT_TRUE(ended.exited) << "ended by signal " << ended.signal << ": " << ended.err;
      EXPECT_TRUE(ended.exit_code == 0 || ended.exit_code == 1)
          << "exit " << ended.exit_code << ": " << ended.err;
      if (ended.exit_code == 1) {
        EXPECT_NE(ended.err.find(path), std::string::npos) << ended.err;
      }
    }
  }
  EXPECT_EQ(tried, 10) << "limits at which shmio itself runs";
  // Most runs are asserted in every build: the sanitizer's blindness is
  // limited to the lowest limits.
  EXPECT_GE(checked, 5 * static_cast<int>(commands.size()))
      << sanitizer_blind << " runs ran out of descriptors in the sanitizer runtime";
}

}  // namespace
}  // namespace shmio::cli_test
