// A Subscription on a chain's directory (Subscription::OpenChain) follows
// the chain across its files: a writer in another process rolls a chain of
// small files hundreds of times and every frame reaches the loop once, in
// order, at continuous positions, in inotify mode (woken by doorbells and
// the directory, never by a timer: the tests' intervals are longer than
// their waits) and in timer mode; it starts at the beginning, the end, or a
// saved position; a reader asleep at the end of a file is woken by the
// roll; a chain with no file yet is waited for; and files that retention
// removed under a slow reader are an OutOfRange error naming the oldest
// position left.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shmio/chain_directory.h"
#include "shmio/format.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

// A file a page and a bit long (a doorbell needs a page): 200 frames.
constexpr uint64_t kFramesPerFile = 200;
constexpr uint64_t kFileCapacity =
    shmio::format::kExtendedDataOffset + kFramesPerFile * kEachFrameBytes;
// Longer than any wait of these tests (kWaitBoundMs): a delivery in inotify
// mode comes from an inotify event, never from a timer.
constexpr uint64_t kNeverMs = 3 * kWaitBoundMs;

uint64_t PositionOf(uint64_t frame) { return frame * kEachFrameBytes; }

// Commits frames first .. first+count-1, 10 a commit (a batch must fit in
// one file), and waits until the writer is done; returns its rolls.
uint64_t CommitFrames(ChildWriter& writer, uint64_t first, uint64_t count) {
  if (!writer.StartCommittingEach(first, count, 10)) return UINT64_MAX;
  return writer.AwaitReply();
}

// What a chain subscription delivered, checking every frame's position and
// that each batch starts where the previous one said the next would.
struct ChainRecorder {
  std::vector<uint64_t> numbers;
  std::vector<absl::Status> errors;
  std::vector<uint64_t> next_cursors;  // of each batch
  std::string position_problem;        // the first one seen, if any

  Subscription::BatchCallback OnBatch() {
    return [this](const shmio::Batch& batch) { Record(batch); };
  }
  Subscription::ErrorCallback OnError() {
    return [this](const absl::Status& error) { errors.push_back(error); };
  }

  void Record(const shmio::Batch& batch) {
    uint64_t expected = next_cursors.empty() ? batch.frames.from() + batch.cursor_bias
                                             : next_cursors.back();
    for (const shmio::Frame& frame : batch.frames) {
      const uint64_t n = FrameNumber(frame);
      const uint64_t position = batch.CursorOf(frame);
      if (position_problem.empty() && (position != PositionOf(n) || position != expected)) {
        position_problem = absl::StrCat("frame ", n, " at position ", position,
                                        ", expected ", expected, " and ", PositionOf(n));
      }
      expected = position + kEachFrameBytes;
      numbers.push_back(n);
    }
    EXPECT_TRUE(batch.frames.status().ok()) << batch.frames.status();
    if (position_problem.empty() && batch.next_cursor != expected) {
      position_problem = absl::StrCat("a batch's next_cursor is ", batch.next_cursor,
                                      ", its frames end at ", expected);
    }
    next_cursors.push_back(batch.next_cursor);
  }

  bool IsRun(uint64_t first, uint64_t count) const {
    if (numbers.size() != count) return false;
    for (uint64_t i = 0; i < count; ++i) {
      if (numbers[i] != first + i) return false;
    }
    return true;
  }
};

// How many inotify watches this process holds, from /proc/self/fdinfo: a
// watch left on a file the reader moved away from would stay counted.
int InotifyWatches() {
  int watches = 0;
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  while (dirent* entry = readdir(fds)) {
    char target[64] = {};
    const std::string link = absl::StrCat("/proc/self/fd/", entry->d_name);
    if (readlink(link.c_str(), target, sizeof target - 1) <= 0 ||
        std::string(target) != "anon_inode:inotify") {
      continue;
    }
    std::ifstream info(absl::StrCat("/proc/self/fdinfo/", entry->d_name));
    for (std::string line; std::getline(info, line);) {
      if (absl::StartsWith(line, "inotify wd:")) ++watches;
    }
  }
  closedir(fds);
  return watches;
}

shmio::ChainOptions Chain(const ShmDir& dir, uint64_t retain_files = 0) {
  shmio::ChainOptions options;
  options.directory = dir.path();
  options.create = true;
  options.file_capacity = kFileCapacity;
  options.retain_files = retain_files;
  return options;
}

class ChainSubscriptionTest : public LoopTest, public ::testing::WithParamInterface<Mode> {
 protected:
  uvwatch::Options Following(uvwatch::Start start = uvwatch::Start::kBeginning,
                             uint64_t cursor = 0) {
    uvwatch::Options options;
    options.mode = GetParam();
    // Timer mode polls often; inotify mode's timers never fire in a test.
    options.poll_interval_ms = GetParam() == Mode::kTimer ? 1 : kNeverMs;
    options.safety_interval_ms = kNeverMs;
    options.start = start;
    options.cursor = cursor;
    return options;
  }

  Subscription* Open(const ShmDir& dir, const uvwatch::Options& options, ChainRecorder& got) {
    auto sub = Subscription::OpenChain(&loop_, dir.path(), options, got.OnBatch(), got.OnError());
    EXPECT_TRUE(sub.ok()) << sub.status();
    if (!sub.ok()) return nullptr;
    EXPECT_EQ((*sub)->mode(), GetParam());
    return *sub;
  }
};

TEST_P(ChainSubscriptionTest, EveryFrameOnceInOrderAcrossHundredsOfRolls) {
  ShmDir dir("chain-rolls");
  auto writer = ChildWriter::StartChain(Chain(dir));
  ASSERT_NE(writer, nullptr);
  ChainRecorder got;
  Subscription* sub = Open(dir, Following(), got);
  ASSERT_NE(sub, nullptr);

  // 300 files' worth, 7 frames a commit: batches straddle the file ends.
  constexpr uint64_t kFrames = 300 * kFramesPerFile;
  ASSERT_TRUE(writer->StartCommittingEach(0, kFrames, 7));
  RunUntil([&] { return got.numbers.size() >= kFrames || !got.errors.empty(); },
           "every frame of 300 files");
  const uint64_t rolls = writer->AwaitReply();
  EXPECT_GE(rolls, 299u);
  RunTurns(3);

  EXPECT_TRUE(got.IsRun(0, kFrames)) << got.numbers.size() << " frames";
  EXPECT_EQ(got.position_problem, "");
  EXPECT_TRUE(got.errors.empty()) << got.errors.front();
  EXPECT_EQ(sub->cursor(), PositionOf(kFrames));
  // The directory and the file being read; none left on the files passed.
  EXPECT_EQ(InotifyWatches(), GetParam() == Mode::kInotify ? 2 : 0);
  EXPECT_EQ(writer->Finish(), 0);
  CloseAndWait(sub);
}

TEST_P(ChainSubscriptionTest, StartAtTheEndDeliversOnlyLaterFrames) {
  ShmDir dir("chain-end");
  auto writer = ChildWriter::StartChain(Chain(dir));
  ASSERT_NE(writer, nullptr);
  CommitFrames(*writer, 0, 2 * kFramesPerFile + 50);  // two rolls
  ChainRecorder got;
  Subscription* sub = Open(dir, Following(uvwatch::Start::kEnd), got);
  ASSERT_NE(sub, nullptr);
  constexpr uint64_t kOld = 2 * kFramesPerFile + 50;
  EXPECT_EQ(sub->cursor(), PositionOf(kOld));
  RunFor(30);
  EXPECT_TRUE(got.numbers.empty());

  constexpr uint64_t kNew = 2 * kFramesPerFile;
  ASSERT_TRUE(writer->StartCommittingEach(kOld, kNew, 9));
  RunUntil([&] { return got.numbers.size() >= kNew; }, "the frames after Open()");
  writer->AwaitReply();
  EXPECT_TRUE(got.IsRun(kOld, kNew));
  EXPECT_EQ(got.position_problem, "");
  EXPECT_TRUE(got.errors.empty());
  CloseAndWait(sub);
}

TEST_P(ChainSubscriptionTest, ResumesAtASavedPositionInALaterFile) {
  ShmDir dir("chain-resume");
  auto writer = ChildWriter::StartChain(Chain(dir));
  ASSERT_NE(writer, nullptr);
  CommitFrames(*writer, 0, 2 * kFramesPerFile + 10);

  // A batch never spans two files: the first one is file 0 whole, and its
  // next_cursor is where file 1 begins (file 0's sealed end).
  ChainRecorder first;
  uvwatch::Options options = Following();
  options.max_frames_per_batch = 1000;
  Subscription* sub = Open(dir, options, first);
  ASSERT_NE(sub, nullptr);
  RunUntil([&] { return !first.next_cursors.empty(); }, "the first batch");
  sub->Stop();
  const uint64_t saved = first.next_cursors.front();
  EXPECT_EQ(saved, PositionOf(kFramesPerFile));
  CloseAndWait(sub);

  ChainRecorder second;
  sub = Open(dir, Following(uvwatch::Start::kCursor, saved), second);
  ASSERT_NE(sub, nullptr);
  CommitFrames(*writer, 2 * kFramesPerFile + 10, 50);
  constexpr uint64_t kRest = kFramesPerFile + 10 + 50;
  RunUntil([&] { return second.numbers.size() >= kRest; }, "the frames after the saved one");
  EXPECT_TRUE(second.IsRun(kFramesPerFile, kRest));
  EXPECT_EQ(second.position_problem, "");
  CloseAndWait(sub);

  // A position inside a file, not at its start, resumes there too.
  ChainRecorder third;
  sub = Open(dir, Following(uvwatch::Start::kCursor, PositionOf(57)), third);
  ASSERT_NE(sub, nullptr);
  constexpr uint64_t kAll = 2 * kFramesPerFile + 60;
  RunUntil([&] { return third.numbers.size() >= kAll - 57; }, "from frame 57");
  EXPECT_TRUE(third.IsRun(57, kAll - 57));
  CloseAndWait(sub);

  // Not a frame boundary: refused at Open(), naming the position.
  auto bad = Subscription::OpenChain(&loop_, dir.path(),
                                     Following(uvwatch::Start::kCursor, PositionOf(57) + 3),
                                     third.OnBatch(), third.OnError());
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), absl::StrCat(PositionOf(57) + 3)))
      << bad.status();
}

TEST_P(ChainSubscriptionTest, WaitsForTheChainsFirstFile) {
  ShmDir dir("chain-first-file");
  ASSERT_EQ(mkdir(dir.path().c_str(), 0755), 0);
  shmio::ChainSettings settings;
  settings.chain_id = 12345;
  settings.file_capacity = kFileCapacity;
  ASSERT_TRUE(shmio::WriteChainSettings(dir.path(), settings, 0644).ok());

  ChainRecorder got;
  // The end of a chain with no file is its first frame.
  Subscription* sub = Open(dir, Following(uvwatch::Start::kEnd), got);
  ASSERT_NE(sub, nullptr);
  RunFor(30);
  EXPECT_TRUE(got.numbers.empty());
  EXPECT_TRUE(got.errors.empty());

  auto writer = ChildWriter::StartChain(Chain(dir));
  ASSERT_NE(writer, nullptr);
  CommitFrames(*writer, 0, kFramesPerFile + 60);
  RunUntil([&] { return got.numbers.size() >= kFramesPerFile + 60; }, "the chain's frames");
  EXPECT_TRUE(got.IsRun(0, kFramesPerFile + 60));
  EXPECT_EQ(got.position_problem, "");
  EXPECT_TRUE(got.errors.empty());
  CloseAndWait(sub);
}

TEST_P(ChainSubscriptionTest, RetentionUnderASlowReaderIsOutOfRangeNamingTheOldestPosition) {
  ShmDir dir("chain-retention");
  auto writer = ChildWriter::StartChain(Chain(dir, /*retain_files=*/3));
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 20, kEachPayloadBytes);
  ChainRecorder got;
  Subscription* sub = Open(dir, Following(), got);
  ASSERT_NE(sub, nullptr);
  RunUntil([&] { return got.numbers.size() >= 20; }, "the first frames");

  // The reader's loop does not run while the writer fills 12 more files:
  // retention removes file 1 before the reader got there.
  CommitFrames(*writer, 20, 12 * kFramesPerFile);
  // Retention runs on the writer's preparer thread, just after each roll:
  // wait for it without running the loop.
  uint64_t oldest = 0;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(kWaitBoundMs);
  for (;;) {
    absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(dir.path());
    ASSERT_TRUE(listing.ok()) << listing.status();
    if (listing->files.size() <= 3) {
      oldest = listing->files.front().base_position;
      break;
    }
    ASSERT_LT(absl::Now(), deadline) << "retention left " << listing->files.size() << " files";
    absl::SleepFor(absl::Milliseconds(1));
  }

  RunUntil([&] { return !got.errors.empty(); }, "the error");
  // File 0 stays readable to its end (the reader has it mapped), then the
  // rest is gone.
  EXPECT_TRUE(got.IsRun(0, kFramesPerFile)) << got.numbers.size() << " frames";
  ASSERT_EQ(got.errors.size(), 1u);
  const absl::Status& error = got.errors.front();
  EXPECT_TRUE(absl::IsOutOfRange(error)) << error;
  EXPECT_TRUE(absl::StrContains(
      error.message(), absl::StrCat("frames from position ", PositionOf(kFramesPerFile), " to ",
                                    oldest, " were removed by retention")))
      << error;
  EXPECT_TRUE(absl::StrContains(error.message(),
                                absl::StrCat("oldest position still in the chain is ", oldest)))
      << error;
  EXPECT_TRUE(absl::StrContains(error.message(), dir.path())) << error;
  RunFor(20);
  EXPECT_EQ(got.errors.size(), 1u) << "nothing after the error";
  CloseAndWait(sub);
}

INSTANTIATE_TEST_SUITE_P(Modes, ChainSubscriptionTest,
                         ::testing::Values(Mode::kInotify, Mode::kTimer),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(uvwatch::ModeName(info.param));
                         });

// Inotify mode only: a reader asleep at the end of a full file that is not
// sealed yet is woken by the roll (the writer seals the file, then rings
// its doorbell), and reads on through every file made while its loop was
// not running. No timer can help: both intervals are longer than the wait.
class ChainWakeUpTest : public LoopTest {};

TEST_F(ChainWakeUpTest, ReaderAsleepAtAFullFileIsWokenByTheRoll) {
  ShmDir dir("chain-wake");
  auto writer = ChildWriter::StartChain(Chain(dir));
  ASSERT_NE(writer, nullptr);
  CommitFrames(*writer, 0, kFramesPerFile);  // file 0, exactly full
  ChainRecorder got;
  uvwatch::Options options;
  options.mode = Mode::kInotify;
  options.poll_interval_ms = kNeverMs;
  options.safety_interval_ms = kNeverMs;
  auto sub = Subscription::OpenChain(&loop_, dir.path(), options, got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  const std::string file0 = shmio::ChainPath(dir.path(), shmio::ChainFileName(0));
  RunUntil([&] { return got.numbers.size() >= kFramesPerFile && ReadArmedWord(file0) == 1; },
           "the reader asleep, armed on file 0");

  // Five rolls while the loop does not run; the first seals file 0.
  CommitFrames(*writer, kFramesPerFile, 5 * kFramesPerFile);
  RunUntil([&] { return got.numbers.size() >= 6 * kFramesPerFile; }, "the frames of the roll");
  EXPECT_TRUE(got.IsRun(0, 6 * kFramesPerFile));
  EXPECT_EQ(got.position_problem, "");
  EXPECT_TRUE(got.errors.empty());

  // Asleep again on the last file, and woken by its next commit.
  const std::string file6 =
      shmio::ChainPath(dir.path(), shmio::ChainFileName(PositionOf(6 * kFramesPerFile)));
  writer->Commit(6 * kFramesPerFile, 3, kEachPayloadBytes);
  RunUntil([&] { return got.numbers.size() >= 6 * kFramesPerFile + 3; }, "a commit");
  RunUntil([&] { return ReadArmedWord(file6) == 1; }, "the reader asleep on file 6");
  writer->Commit(6 * kFramesPerFile + 3, 1, kEachPayloadBytes);
  RunUntil([&] { return got.numbers.size() >= 6 * kFramesPerFile + 4; }, "a ring");
  EXPECT_TRUE(got.IsRun(0, 6 * kFramesPerFile + 4));
  EXPECT_EQ(writer->Finish(), 0);
  CloseAndWait(*sub);
}

}  // namespace
}  // namespace uvwatch_test
