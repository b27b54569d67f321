// The inotify instance limit (fs.inotify.max_user_instances, 128 by
// default, counted per user): with it reached, mode inotify fails naming
// that limit and its value (not max_user_watches or ulimit -n), and auto
// mode falls back to timer mode with a one-line notice and keeps delivering.
//
// To reach the limit without disturbing anything else on the machine, the
// test runs in a child process as a uid no other process uses, which takes
// every inotify instance that uid may have.
#include <fcntl.h>
#include <grp.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

constexpr uid_t kLonelyUid = 54321;

// Runs in the child as kLonelyUid, with every inotify instance taken.
// Returns "" when every check passed, else what failed ("SKIP: ..." when
// the limit could not be reached this way).
std::string CheckAtTheInstanceLimit(const std::string& path) {
  std::vector<int> instances;
  while (true) {
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) {
      if (errno != EMFILE) return absl::StrCat("inotify_init1: errno ", errno);
      break;
    }
    instances.push_back(fd);
    if (instances.size() > 100000) return "SKIP: no inotify instance limit";
  }
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (probe < 0) return "SKIP: the descriptor limit came first";
  close(probe);

  std::string failures;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uvwatch::Options options;
  options.poll_interval_ms = 2;
  std::vector<absl::Status> notices;
  options.on_notice = [&](const absl::Status& notice) { notices.push_back(notice); };

  options.mode = uvwatch::Mode::kInotify;
  auto refused = uvwatch::Subscription::Open(
      &loop, path, options, [](const shmio::Batch&) {}, [](const absl::Status&) {});
  if (refused.ok()) {
    failures += "mode inotify opened at the instance limit; ";
    (*refused)->Close();
  } else {
    std::string message(refused.status().message());
    if (!absl::StrContains(message, "fs.inotify.max_user_instances = ")) {
      failures += absl::StrCat("mode inotify's error does not name the limit: ", message, "; ");
    }
    if (absl::StrContains(message, "max_user_watches") ||
        absl::StrContains(message, "ulimit")) {
      failures += absl::StrCat("mode inotify's error names another limit: ", message, "; ");
    }
  }
  uv_run(&loop, UV_RUN_NOWAIT);  // a half-made watcher may be closing

  options.mode = uvwatch::Mode::kAuto;
  size_t frames = 0;
  auto sub = uvwatch::Subscription::Open(
      &loop, path, options,
      [&](const shmio::Batch& batch) { frames += batch.frame_count; },
      [&](const absl::Status& error) { failures += error.ToString(); });
  if (!sub.ok()) {
    failures += absl::StrCat("auto mode did not fall back: ", sub.status().ToString());
  } else {
    if ((*sub)->mode() != uvwatch::Mode::kTimer) failures += "auto mode is not timer; ";
    while (frames < 3 && failures.empty()) uv_run(&loop, UV_RUN_ONCE);
    if (notices.size() != 1) {
      failures += absl::StrCat(notices.size(), " notices instead of one; ");
    } else if (!absl::StrContains(notices[0].message(), "max_user_instances") ||
               !absl::StrContains(notices[0].message(), "timer mode")) {
      failures += absl::StrCat("the notice: ", notices[0].message(), "; ");
    }
    (*sub)->Close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) failures += "uv_loop_close failed; ";
  for (int fd : instances) close(fd);
  return failures;
}

class InotifyLimitsTest : public LoopTest {};

TEST_F(InotifyLimitsTest, AtTheInstanceLimitInotifyNamesItAndAutoFallsBackToTimer) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to run as another user";
  ShmFile file("inotify-limit");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 3);
  ASSERT_EQ(chmod(file.path().c_str(), 0666), 0);  // arming needs write access

  int result[2];
  ASSERT_EQ(pipe2(result, O_CLOEXEC), 0);
  pid_t child = fork();
  if (child == 0) {
    close(result[0]);
    std::string failures = "cannot switch user";
    if (setgroups(0, nullptr) == 0 && setgid(kLonelyUid) == 0 && setuid(kLonelyUid) == 0) {
      failures = CheckAtTheInstanceLimit(file.path());
    }
    (void)!write(result[1], failures.data(), failures.size());
    _exit(0);
  }
  close(result[1]);
  std::string failures;
  char buffer[1024];
  ssize_t n;
  while ((n = read(result[0], buffer, sizeof buffer)) > 0) failures.append(buffer, n);
  close(result[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: " << status;
  if (absl::StartsWith(failures, "SKIP")) GTEST_SKIP() << failures;
  EXPECT_EQ(failures, "");
}

}  // namespace
}  // namespace uvwatch_test
