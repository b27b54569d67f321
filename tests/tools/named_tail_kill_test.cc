// `shmio tail DIR -f --name=NAME`, SIGKILLed at random moments and
// restarted, loses no frame and repeats at most the batch it had not
// acknowledged. A writer process rolls a chain of 16 KiB files (retention
// keeps 4, so it waits on the named reader whenever that lags: the chain
// holds only what the reader has not acknowledged); each run of tail
// prints to a file of its own. After each kill the test reads the name's
// acknowledged position and checks the run's output:
//   - every line is frame n at position n * kFrameBytes, consecutive;
//   - the run started exactly at the acknowledgement left by the run before
//     (so nothing between the two is skipped: it had printed up to there);
//   - its own acknowledgement is within what it printed, and what it
//     printed past it (printed again by the next run) is at most one batch.
// A last `shmio tail DIR --name=NAME` (no -f) after the writer is stopped
// prints the rest; the union of every run's output is then frames 0 .. the
// chain's end, in order, with no gap.
//
// Bounded: kMaxKills kills or kTimeBound, at least kRequiredKills.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/reader_table.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

#ifdef SHMIO_SANITIZER
// Sanitizer builds start each tail several times slower (TSan: most kills
// within 30 ms landed before it printed anything), so it lives longer.
constexpr int kRequiredKills = 40;
constexpr uint64_t kKillWithinUs = 150000;
#else
constexpr int kRequiredKills = 100;
constexpr uint64_t kKillWithinUs = 30000;
#endif
constexpr int kMaxKills = 300;
constexpr absl::Duration kTimeBound = absl::Seconds(40);
constexpr uint64_t kFileCapacity = 16384;
constexpr size_t kPayloadBytes = 16;  // frame n: n as 8 LE bytes, then 8 more
constexpr uint64_t kFrameBytes = kPayloadBytes + 4;
constexpr uint64_t kBatchFrames = 1024;  // uvwatch::Options::max_frames_per_batch
constexpr char kName[] = "survivor";

std::vector<uint8_t> Payload(uint64_t n) {
  std::vector<uint8_t> payload(kPayloadBytes);
  for (size_t i = 0; i < 8; ++i) payload[i] = static_cast<uint8_t>(n >> (8 * i));
  for (size_t i = 8; i < kPayloadBytes; ++i) payload[i] = static_cast<uint8_t>(n + i);
  return payload;
}

// The writer process: frames 0, 1, 2, ... committed a few at a time until
// SIGKILL; an append that retention refuses (the named reader lags) is
// retried once the reader has moved on.
[[noreturn]] void RunWriter(const std::string& directory) {
  ChainOptions options;
  options.directory = directory;
  options.file_capacity = kFileCapacity;
  options.retain_files = 4;
  auto writer = ChainWriter::Open(options);
  if (!writer.ok()) {
    std::fprintf(stderr, "writer: %s\n", writer.status().ToString().c_str());
    _exit(2);
  }
  for (uint64_t n = 0;; ++n) {
    absl::Status status;
    while (absl::IsResourceExhausted(status = (*writer)->Append(Payload(n)))) usleep(200);
    if (status.ok() && n % 5 == 4) status = (*writer)->Commit();
    if (!status.ok()) {
      std::fprintf(stderr, "writer: frame %llu: %s\n", static_cast<unsigned long long>(n),
                   status.ToString().c_str());
      _exit(3);
    }
  }
}

// Runs `shmio args...` with stdout on the file `out` (stderr stays the
// test's), without waiting.
pid_t SpawnShmio(const std::vector<std::string>& args, const std::string& out) {
  std::vector<std::string> argv = {RunfilesPath("tools/shmio")};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0) _exit(126);
    std::vector<char*> pointers;
    for (std::string& arg : argv) pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  return pid;
}

int Reap(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

uint64_t Acked(const std::string& directory) {
  auto settings = ReadChainSettings(directory);
  auto table = ReaderTable::Open(directory, settings.ok() ? settings->chain_id : 0, false);
  EXPECT_TRUE(table.ok()) << table.status();
  if (!table.ok()) return UINT64_MAX;
  auto readers = (*table)->List();
  EXPECT_TRUE(readers.ok() && readers->size() == 1);
  return readers.ok() && readers->size() == 1 ? (*readers)[0].position : UINT64_MAX;
}

// One run's output: the positions of its whole lines (a line cut by the
// kill is not output), checked to be frames at their positions in order.
struct TailRun {
  uint64_t first = 0;  // position of its first line
  uint64_t end = 0;    // after its last line (== first: printed nothing)
};

TailRun ParseRun(const std::string& text, uint64_t started_at) {
  TailRun run{started_at, started_at};
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  lines.pop_back();  // after the last newline: empty, or a line the kill cut
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i], '\t');
    uint64_t position = 0;
    EXPECT_EQ(fields.size(), 2u) << lines[i];
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &position)) return run;
    const uint64_t n = position / kFrameBytes;
    EXPECT_EQ(fields[1], ToHex(Payload(n))) << "line " << i << " at position " << position;
    EXPECT_EQ(position, i == 0 ? started_at : run.end)
        << "line " << i << ": a run starts at the acknowledgement and never skips a frame";
    if (i == 0) run.first = position;
    run.end = position + kFrameBytes;
  }
  return run;
}

TEST(NamedTailKillTest, ARestartedNamedTailLosesNothingAndRepeatsAtMostOneBatch) {
  const std::string directory = absl::StrCat("/dev/shm/shmio-named-kill-", getpid());
  std::filesystem::remove_all(directory);
  {
    ChainOptions options;
    options.directory = directory;
    options.create = true;
    options.file_capacity = kFileCapacity;
    options.retain_files = 4;
    auto writer = ChainWriter::Open(options);
    ASSERT_TRUE(writer.ok()) << writer.status();
  }
  // The name exists, at 0, before the writer starts: retention keeps
  // everything for it from the first frame.
  {
    auto reader = ChainConsumer::OpenNamed(directory, kName);
    ASSERT_TRUE(reader.ok()) << reader.status();
  }
  const pid_t writer = fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) RunWriter(directory);

  const std::vector<std::string> follow = {"tail", directory, "-f", absl::StrCat("--name=", kName),
                                           "--format=hex", "--cursor"};
  const std::string out = TempPath("tail.out");
  std::mt19937_64 rng(20261212);
  const absl::Time deadline = absl::Now() + kTimeBound;
  int kills = 0;
  int repeated_runs = 0;
  uint64_t acked = 0;     // before the run
  uint64_t covered = 0;   // the union of every run's output: [0, covered)
  uint64_t repeated = 0;  // frames printed twice, in all
  while (kills < kMaxKills && absl::Now() < deadline && !testing::Test::HasFailure()) {
    // A tail killed before it opened its output must not leave the last
    // run's output there for this run's.
    WriteFile(out, "");
    const pid_t tail = SpawnShmio(follow, out);
    ASSERT_GT(tail, 0);
    // The moment of the kill: while starting, or at any point of following.
    usleep(static_cast<useconds_t>(rng() % (rng() % 4 == 0 ? 3000 : kKillWithinUs)));
    kill(tail, SIGKILL);
    ASSERT_EQ(Reap(tail), 128 + SIGKILL) << "tail ended on its own; its stderr is above";
    ++kills;
    const TailRun run = ParseRun(ReadFile(out), acked);
    const uint64_t now_acked = Acked(directory);
    EXPECT_LE(run.first, covered) << "a gap before run " << kills;
    EXPECT_GE(now_acked, acked) << "run " << kills;
    EXPECT_LE(now_acked, run.end) << "run " << kills << " acknowledged what it never printed";
    EXPECT_LE((run.end - now_acked) / kFrameBytes, kBatchFrames)
        << "run " << kills << " printed more than a batch past its acknowledgement";
    if (covered > run.first) {
      repeated += (std::min(covered, run.end) - run.first) / kFrameBytes;
      ++repeated_runs;
    }
    covered = std::max(covered, run.end);
    acked = now_acked;
  }
  kill(writer, SIGKILL);
  EXPECT_EQ(Reap(writer), 128 + SIGKILL) << "the writer failed; its stderr is above";

  // The rest, without -f: from the last acknowledgement to the end.
  WriteFile(out, "");
  const pid_t last = SpawnShmio({"tail", directory, absl::StrCat("--name=", kName),
                                 "--format=hex", "--cursor"},
                                out);
  ASSERT_EQ(Reap(last), 0);
  const TailRun rest = ParseRun(ReadFile(out), acked);
  EXPECT_LE(rest.first, covered);
  covered = std::max(covered, rest.end);
  auto end = ChainConsumer::Open(directory, ChainStart{ChainStart::kEnd});
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(covered, (*end)->cursor()) << "every committed frame was printed";
  EXPECT_EQ(Acked(directory), (*end)->cursor());

  std::printf(
      "named_tail_kill_test: %d kills, %llu frames printed, %llu printed again (in %d runs)\n",
      kills, static_cast<unsigned long long>(covered / kFrameBytes),
      static_cast<unsigned long long>(repeated), repeated_runs);
  EXPECT_GE(kills, kRequiredKills) << "too few kills within " << absl::FormatDuration(kTimeBound);
  EXPECT_GT(covered / kFrameBytes, 10 * kFileCapacity / kFrameBytes) << "too few rolls";
  std::filesystem::remove_all(directory);
}

}  // namespace
}  // namespace shmio::cli_test
