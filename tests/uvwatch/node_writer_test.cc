// A Subscription on a log of ours that a writer of the original Node.js
// library continues, played by a forked child process: it takes no lock,
// never rings the doorbell, and stores `committed` one byte at a time.
//   - Stopped (SIGSTOP) between two of its byte stores for far longer than
//     the 20 ms after which readers used to report DataLoss and stop for
//     good, it must be waited out: no error, one notice after
//     Subscription::kNoticeAfterMs, every frame once it resumes.
//   - In auto mode (which picks inotify for a file of ours), its commits
//     must be noticed as commits without a ring, after which the log is
//     polled at the timer interval instead of the 1 s safety timer.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shmio/format.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

constexpr uint64_t kCapacity = 1 << 16;
constexpr size_t kPayloadBytes = 17;  // frames of 21 bytes

// The Node-style writer, in a child process driven through a pipe: each
// command "commit n frames" appends frames first .. first+n-1 (ChildWriter's
// numbered payloads) after `committed` and stores the new value one byte at
// a time, high byte first; with `stop` it raises SIGSTOP after the first
// byte store that changed the value, leaving a torn value in the header.
class NodeStyleWriter {
 public:
  explicit NodeStyleWriter(const std::string& path) {
    int commands[2];
    EXPECT_EQ(pipe2(commands, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(commands[1]);
      _exit(Serve(path, commands[0]));
    }
    close(commands[0]);
    command_fd_ = commands[1];
  }
  ~NodeStyleWriter() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    close(command_fd_);
  }

  void Commit(uint64_t first, uint64_t count, bool stop = false) {
    uint64_t command[3] = {first, count, stop ? 1u : 0u};
    ASSERT_EQ(write(command_fd_, command, sizeof command),
              static_cast<ssize_t>(sizeof command));
  }

  // Waits until the child has stopped itself mid-store.
  void WaitUntilStopped() {
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, WUNTRACED), pid_);
    ASSERT_TRUE(WIFSTOPPED(status));
  }
  void Continue() { ASSERT_EQ(kill(pid_, SIGCONT), 0); }

 private:
  static int Serve(const std::string& path, int command_fd) {
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return 1;
    void* p = mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return 2;
    auto* base = static_cast<volatile uint8_t*>(p);
    uint64_t command[3];
    while (read(command_fd, command, sizeof command) == sizeof command) {
      uint64_t position = 0;
      for (int b = 0; b < 8; ++b) position |= uint64_t{base[16 + b]} << (8 * b);
      for (uint64_t n = command[0]; n < command[0] + command[1]; ++n) {
        std::vector<uint8_t> payload = NumberedPayload(n, kPayloadBytes);
        uint16_t total = static_cast<uint16_t>(payload.size() + 4);
        uint8_t frame[kPayloadBytes + 4];
        std::memcpy(frame, &total, 2);
        std::memcpy(frame + 2, payload.data(), payload.size());
        std::memcpy(frame + 2 + payload.size(), &total, 2);
        for (size_t i = 0; i < sizeof frame; ++i) base[position + i] = frame[i];
        position += total;
      }
      bool stopped = command[2] == 0;
      for (int b = 7; b >= 0; --b) {  // a plain byte store each, as Node does
        uint8_t byte = static_cast<uint8_t>(position >> (8 * b));
        if (base[16 + b] == byte) continue;
        base[16 + b] = byte;
        if (!stopped) {
          stopped = true;
          raise(SIGSTOP);  // descheduled mid-store, for as long as the test says
        }
      }
    }
    return 0;
  }

  pid_t pid_ = -1;
  int command_fd_ = -1;
};

class NodeWriterTest : public LoopTest, public ::testing::WithParamInterface<Mode> {
 protected:
  // A log of ours with frames 0..9, whose shmio writer has gone.
  void SetUp() override {
    LoopTest::SetUp();
    auto writer = ChildWriter::Start(file_.path(), kCapacity);
    ASSERT_NE(writer, nullptr);
    writer->Commit(0, 10, kPayloadBytes);
    ASSERT_EQ(writer->Finish(), 0);
  }

  uvwatch::Options Options(Mode mode) {
    uvwatch::Options options;
    options.mode = mode;
    options.poll_interval_ms = 5;
    options.on_notice = [this](const absl::Status& notice) { notices_.push_back(notice); };
    return options;
  }

  ShmFile file_{"node-writer"};
  std::vector<absl::Status> notices_;
};

TEST_P(NodeWriterTest, AWriterStoppedMidCommitIsWaitedOutNoticedOnceAndThenRead) {
  Recorder got;
  auto sub = Subscription::Open(&loop_, file_.path(), Options(GetParam()),
                                got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return got.numbers.size() >= 10; }, "the frames already there");

  NodeStyleWriter node(file_.path());
  node.Commit(10, 20, /*stop=*/true);
  node.WaitUntilStopped();
  // Stopped with a torn committed value in the header for over a second
  // (the notice comes kNoticeAfterMs after the reader first sees the value),
  // 50 times the 20 ms that used to end a follower.
  RunUntil([&] { return !notices_.empty(); }, "the notice of a torn value");
  RunFor(300);
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  EXPECT_EQ(got.numbers.size(), 10u) << "frames delivered on a torn value";
  ASSERT_EQ(notices_.size(), 1u) << "the oddity is said once";
  EXPECT_TRUE(absl::StrContains(notices_[0].message(), "Node.js writer")) << notices_[0];
  EXPECT_TRUE(absl::StrContains(notices_[0].message(), file_.path())) << notices_[0];

  node.Continue();
  RunUntil([&] { return got.numbers.size() >= 30; }, "the frames of the completed commit");
  EXPECT_TRUE(got.IsRun(0, 30));
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  CloseAndWait(*sub);
}

INSTANTIATE_TEST_SUITE_P(Modes, NodeWriterTest,
                         ::testing::Values(Mode::kTimer, Mode::kInotify),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(uvwatch::ModeName(info.param));
                         });

class AutoModeTest : public NodeWriterTest {};

// Auto mode picks inotify for a log of ours; a Node writer never rings, so
// without noticing it a frame would wait for the 1 s safety timer.
TEST_F(AutoModeTest, AWriterThatDoesNotRingIsNoticedAndPolledAtTheTimerInterval) {
  Recorder got;
  auto sub = Subscription::Open(&loop_, file_.path(), Options(Mode::kAuto),
                                got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->mode(), Mode::kInotify);
  RunUntil([&] { return got.numbers.size() >= 10; }, "the frames already there");

  NodeStyleWriter node(file_.path());
  // The first commits without a ring are found by the safety timer, and
  // tell the watcher to poll; the notice says so once.
  uint64_t next = 10;
  while (notices_.empty() && next < 40) {
    node.Commit(next, 1);
    ++next;
    RunUntil([&] { return got.numbers.size() >= next; }, "a commit without a ring");
  }
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_TRUE(absl::StrContains(notices_[0].message(), "without a doorbell ring"))
      << notices_[0];
  EXPECT_TRUE(absl::StrContains(notices_[0].message(), "every 5 ms")) << notices_[0];

  // From now on each commit is read within a few polling intervals: far
  // less than the 1000 ms safety interval the watcher would otherwise wait.
  for (int i = 0; i < 10; ++i, ++next) {
    node.Commit(next, 1);
    const absl::Time committed = absl::Now();
    RunUntil([&] { return got.numbers.size() >= next + 1; }, "a polled commit");
    EXPECT_LT(absl::Now() - committed, absl::Milliseconds(300))
        << "frame " << next << " waited for the safety timer";
  }
  EXPECT_TRUE(got.IsRun(0, next));
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  CloseAndWait(*sub);
}

}  // namespace
}  // namespace uvwatch_test
