// `shmio tail`: without -f it prints what is committed, like dump; with -f
// it follows a log written by another process (this test, through a Pool),
// flushing each batch to its stdout pipe as it arrives, until SIGTERM or
// SIGINT, and then exits 0.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/pool.h"
#include "shmio/reader_table.h"
#include "shmio/shared_memory.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

constexpr uint64_t kArmedOffset = 128;  // format.h: the doorbell's armed word

// `shmio tail ...` running with its stdout and stderr on pipes, read line by
// line as the child flushes them.
class TailProcess {
 public:
  // Runs `shmio tail args...`, as user `uid` when it is not -1.
  explicit TailProcess(std::vector<std::string> args, uid_t uid = -1) {
    args.insert(args.begin(), "tail");
    args.insert(args.begin(), RunfilesPath("tools/shmio"));
    int out[2];
    int err[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    // Another user may not reach the binary's path (runfiles live under
    // /root): exec it through a descriptor opened here.
    int program = open(args[0].c_str(), O_RDONLY | O_CLOEXEC);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      if (uid != static_cast<uid_t>(-1) &&
          (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0)) {
        _exit(126);
      }
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      fexecve(program, argv.data(), environ);
      _exit(127);
    }
    close(program);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }

  ~TailProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }

  // Reads stdout until it holds `count` lines in total; false when the
  // child closed it first or nothing came for kChildDeadlineSeconds.
  bool ReadLines(size_t count) {
    while (Lines().size() < count) {
      pollfd ready = {out_, POLLIN, 0};
      if (poll(&ready, 1, kChildDeadlineSeconds * 1000) != 1) return false;
      char buffer[4096];
      ssize_t n = read(out_, buffer, sizeof buffer);
      if (n <= 0) return false;
      out_text_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  // Reads stderr until it contains `text`; false when the child closed it
  // first or nothing came for kChildDeadlineSeconds.
  bool ReadErrUntil(const std::string& text) {
    while (err_text_.find(text) == std::string::npos) {
      pollfd ready = {err_, POLLIN, 0};
      if (poll(&ready, 1, kChildDeadlineSeconds * 1000) != 1) return false;
      char buffer[4096];
      ssize_t n = read(err_, buffer, sizeof buffer);
      if (n <= 0) return false;
      err_text_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines = absl::StrSplit(out_text_, '\n');
    lines.pop_back();  // the text after the last newline
    return lines;
  }

  // Sends `signal`, reads what is left, and returns the exit code (128 +
  // signal when a signal ended it).
  int SignalAndWait(int signal) {
    kill(pid_, signal);
    return Wait();
  }

  int Wait() {
    char buffer[4096];
    ssize_t n;
    while ((n = read(out_, buffer, sizeof buffer)) > 0) out_text_.append(buffer, n);
    while ((n = read(err_, buffer, sizeof buffer)) > 0) err_text_.append(buffer, n);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  const std::string& err_text() const { return err_text_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_text_;
  std::string err_text_;
};

// The writer: this test process, a separate process from tail.
class TailCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath("tail.shm");
    shmio::Options options;
    options.path = path_;
    options.capacity = 1 << 16;
    options.writable = true;
    auto shm = shmio::SharedMemory::Open(options);
    ASSERT_TRUE(shm.ok()) << shm.status();
    shm_ = *std::move(shm);
    auto pool = shmio::Pool::Create(shm_.get());
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
  }

  void Commit(const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      ASSERT_TRUE(pool_
                      ->Append(absl::Span<const uint8_t>(
                          reinterpret_cast<const uint8_t*>(line.data()),
                          line.size()))
                      .ok());
    }
    ASSERT_TRUE(pool_->Commit().ok());
  }

  std::string path_;
  std::unique_ptr<shmio::SharedMemory> shm_;
  std::unique_ptr<shmio::Pool> pool_;
};

TEST_F(TailCommandTest, FollowPrintsEachBatchAsItArrivesUntilSigterm) {
  Commit({"one", "two"});
  TailProcess tail({path_, "-f", "--format=text"});
  ASSERT_TRUE(tail.ReadLines(2)) << tail.Wait() << tail.err_text();
  Commit({"three"});
  ASSERT_TRUE(tail.ReadLines(3));
  Commit({"four", "five"});
  ASSERT_TRUE(tail.ReadLines(5));
  EXPECT_EQ(tail.SignalAndWait(SIGTERM), 0) << tail.err_text();
  EXPECT_EQ(tail.Lines(),
            (std::vector<std::string>{"one", "two", "three", "four", "five"}));
}

TEST_F(TailCommandTest, TimerModeFollowsUntilSigint) {
  Commit({"a"});
  TailProcess tail({path_, "-f", "--mode=timer", "--interval=1", "--format=text"});
  ASSERT_TRUE(tail.ReadLines(1));
  Commit({"b"});
  ASSERT_TRUE(tail.ReadLines(2));
  EXPECT_EQ(pool_->doorbell_rings(), 0u) << "a polling reader never arms";
  EXPECT_EQ(tail.SignalAndWait(SIGINT), 0) << tail.err_text();
  EXPECT_EQ(tail.Lines(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(TailCommandTest, FromEndFollowsOnlyNewFramesWokenByTheDoorbell) {
  Commit({"old"});
  TailProcess tail({path_, "-f", "--from=end", "--mode=inotify", "--cursor",
                    "--format=text"});
  // Once tail sleeps armed, it has positioned itself at the end.
  ASSERT_TRUE(WaitUntil([&] { return ReadU64At(path_, kArmedOffset) == 1; }));
  uint64_t new_frame_at = pool_->GetSize().committed;
  Commit({"new"});
  EXPECT_EQ(pool_->doorbell_rings(), 1u);
  ASSERT_TRUE(tail.ReadLines(1));
  EXPECT_EQ(tail.SignalAndWait(SIGTERM), 0) << tail.err_text();
  EXPECT_EQ(tail.Lines(),
            (std::vector<std::string>{absl::StrCat(new_frame_at, "\tnew")}));
}

TEST_F(TailCommandTest, WithoutFollowPrintsWhatIsCommittedAndExits) {
  Commit({"x", "y", "z"});
  TailProcess tail({path_, "--format=hex"});
  EXPECT_EQ(tail.Wait(), 0) << tail.err_text();
  EXPECT_EQ(tail.Lines(), (std::vector<std::string>{"78", "79", "7a"}));
}

// The advice is given once, in the CLI's words.
void ExpectTheHintOnce(const std::string& err) {
  EXPECT_TRUE(absl::StrContains(err, "--mode=auto or --mode=timer")) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), ';'), 1) << err;
  EXPECT_FALSE(absl::StrContains(err, "instead")) << "a second hint: " << err;
}

TEST_F(TailCommandTest, InotifyModeOnANodeFileSaysToUseAutoOrTimer) {
  std::string node = CopyNodeFixture("basic.shm");
  TailProcess tail({node, "-f", "--mode=inotify"});
  EXPECT_EQ(tail.Wait(), 1);
  ExpectTheHintOnce(tail.err_text());
}

TEST_F(TailCommandTest, InotifyModeWithoutWriteAccessSaysToUseAutoOrTimerOnce) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to run tail as another user";
  // /dev/shm is world-traversable; $TEST_TMPDIR (under /root) is not.
  std::string path = absl::StrCat("/dev/shm/shmio-tail-perm-", getpid());
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 16;
  options.writable = true;
  options.create_mode = 0644;
  auto shm = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(shm.ok()) << shm.status();
  auto pool = shmio::Pool::Create(shm->get());
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);  // readable, not writable, by others
  TailProcess tail({path, "-f", "--mode=inotify"}, /*uid=*/65534);
  int code = tail.Wait();
  unlink(path.c_str());
  EXPECT_EQ(code, 1) << tail.err_text();
  EXPECT_TRUE(absl::StrContains(tail.err_text(), "may not write")) << tail.err_text();
  ExpectTheHintOnce(tail.err_text());
}

TEST_F(TailCommandTest, AutoModeFollowsANodeFileByPolling) {
  std::string node = CopyNodeFixture("basic.shm");
  NodeManifest manifest = LoadNodeManifest();
  TailProcess tail({node, "-f"});
  ASSERT_TRUE(tail.ReadLines(manifest.committed_frames));
  // Commit the three frames the Node writer left uncommitted, as it would.
  WriteU64At(node, 16, manifest.uncommitted_end);
  ASSERT_TRUE(tail.ReadLines(manifest.committed_frames + 3));
  EXPECT_EQ(tail.SignalAndWait(SIGTERM), 0) << tail.err_text();
  std::vector<std::string> lines = tail.Lines();
  ASSERT_EQ(lines.size(), manifest.committed_frames + 3);
  for (uint64_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i], ToHex(NodePayload(i))) << "frame " << i;
  }
}

// Like `tail -f`, a follower keeps reading a log that was removed while its
// writer (this test process) still writes it; once the writer lets go,
// nothing more can come and the removal is an error.
TEST_F(TailCommandTest, RemovedFileIsFollowedUntilItsWriterLetsGoThenIsAnError) {
  Commit({"only"});
  TailProcess tail({path_, "-f", "--format=text"});
  ASSERT_TRUE(tail.ReadLines(1));
  ASSERT_EQ(unlink(path_.c_str()), 0);
  Commit({"after the unlink"});
  ASSERT_TRUE(tail.ReadLines(2));
  pool_.reset();
  shm_.reset();  // the writer lets go of the file
  EXPECT_EQ(tail.Wait(), 1);
  EXPECT_EQ(tail.Lines(), (std::vector<std::string>{"only", "after the unlink"}));
  EXPECT_TRUE(absl::StrContains(tail.err_text(), "removed")) << tail.err_text();
}

// A writer reserving a large log in place holds the lock while the file is
// still empty (seconds for a few GiB): `tail -f` says it is being created
// and waits, instead of "not a shmio log: it is 0 bytes".
TEST(TailCreationTest, FollowWaitsForALogThatIsBeingCreated) {
  const std::string path = TempPath("creating.shm");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(uint64_t{1} << 62);  // format.h kWriterLockOffset
  lock.l_len = 1;
  ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &lock), 0);  // what a creating writer holds

  TailProcess tail({path, "-f", "--format=text"});
  ASSERT_TRUE(tail.ReadErrUntil("being created")) << tail.err_text();
  // The "creator" finishes reserving, then lets go: an all-zero file is an
  // empty log, which the follower follows until a writer initialises it.
  ASSERT_EQ(posix_fallocate(fd, 0, 1 << 16), 0);
  close(fd);
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 16;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(shm.ok()) << shm.status();
  auto pool = shmio::Pool::Create(shm->get());
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::string line = "first frame";
  ASSERT_TRUE((*pool)->Append(absl::Span<const uint8_t>(
                                  reinterpret_cast<const uint8_t*>(line.data()), line.size()))
                  .ok());
  ASSERT_TRUE((*pool)->Commit().ok());
  ASSERT_TRUE(tail.ReadLines(1)) << tail.err_text();
  EXPECT_EQ(tail.SignalAndWait(SIGTERM), 0) << tail.err_text();
  EXPECT_EQ(tail.Lines(), (std::vector<std::string>{line}));
}

// `shmio tail DIR` on a chain (written here, through a ChainWriter, with
// one-page files that roll every few hundred frames): it prints across the
// files, its cursors are chain positions, and -f follows the chain across
// rolls in inotify and timer mode.
class ChainTailTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    directory_ = TempPath("chain");
    // A parameterised test's name ("Modes/...") makes a subdirectory.
    std::filesystem::create_directories(std::filesystem::path(directory_).parent_path());
    shmio::ChainOptions options;
    options.directory = directory_;
    options.create = true;
    options.file_capacity = 4096;  // a doorbell needs a page
    auto chain = shmio::ChainWriter::Open(options);
    ASSERT_TRUE(chain.ok()) << chain.status();
    chain_ = *std::move(chain);
  }

  // Commits frames "frame-N" for N in [first, first + count), ten a commit,
  // and returns the lines `tail --cursor --format=text` prints for them.
  std::vector<std::string> Commit(int first, int count) {
    std::vector<std::string> lines;
    for (int n = first; n < first + count; ++n) {
      const std::string payload = absl::StrCat("frame-", n);
      lines.push_back(absl::StrCat(chain_->GetSize().uncommitted, "\t", payload));
      EXPECT_TRUE(chain_
                      ->Append(absl::Span<const uint8_t>(
                          reinterpret_cast<const uint8_t*>(payload.data()), payload.size()))
                      .ok());
      if ((n + 1) % 10 == 0) {
        EXPECT_TRUE(chain_->Commit().ok());
      }
    }
    EXPECT_TRUE(chain_->Commit().ok());
    // A roll moves the batch in progress whole into the next file, which
    // starts where the last commit ended: the positions stay as recorded.
    return lines;
  }

  std::string directory_;
  std::unique_ptr<shmio::ChainWriter> chain_;
};

TEST_F(ChainTailTest, PrintsEveryFileOfTheChainWithPositions) {
  std::vector<std::string> lines = Commit(0, 1000);
  ASSERT_GE(chain_->rolls(), 3u);
  CliResult all = RunShmio({"tail", directory_, "--cursor", "--format=text"});
  ASSERT_EQ(all.exit_code, 0) << all.Describe();
  EXPECT_EQ(SplitLines(all.out), lines);

  // A printed position resumes there, in a later file.
  const std::string from = lines[700].substr(0, lines[700].find('\t'));
  CliResult rest = RunShmio({"tail", directory_, "--cursor", "--format=text",
                             absl::StrCat("--from=", from)});
  ASSERT_EQ(rest.exit_code, 0) << rest.Describe();
  EXPECT_EQ(SplitLines(rest.out), std::vector<std::string>(lines.begin() + 700, lines.end()));

  CliResult bad = RunShmio({"tail", directory_, absl::StrCat("--from=", from, "1")});
  EXPECT_EQ(bad.exit_code, 1) << bad.Describe();
  EXPECT_TRUE(absl::StrContains(bad.err, directory_)) << bad.Describe();
}

TEST_P(ChainTailTest, FollowsTheChainAcrossRolls) {
  std::vector<std::string> lines = Commit(0, 100);
  TailProcess tail({directory_, "-f", absl::StrCat("--mode=", GetParam()), "--interval=1",
                    "--cursor", "--format=text"});
  ASSERT_TRUE(tail.ReadLines(100)) << tail.Wait() << tail.err_text();
  const uint64_t rolls = chain_->rolls();
  for (int round = 1; round <= 5; ++round) {
    std::vector<std::string> more = Commit(round * 400 - 300, 400);  // a roll each
    lines.insert(lines.end(), more.begin(), more.end());
    ASSERT_TRUE(tail.ReadLines(lines.size())) << tail.Wait() << tail.err_text();
  }
  EXPECT_GE(chain_->rolls(), rolls + 5);
  EXPECT_EQ(tail.SignalAndWait(SIGTERM), 0) << tail.err_text();
  EXPECT_EQ(tail.Lines(), lines);
}

// The acknowledged position of the chain's reader `name` (UINT64_MAX when
// there is none).
uint64_t AckedPosition(const std::string& directory, const std::string& name) {
  auto settings = shmio::ReadChainSettings(directory);
  if (!settings.ok()) return UINT64_MAX;
  auto table = shmio::ReaderTable::Open(directory, settings->chain_id, /*create=*/false);
  if (!table.ok()) return UINT64_MAX;
  auto readers = (*table)->List();
  if (!readers.ok()) return UINT64_MAX;
  for (const shmio::NamedReaderInfo& reader : *readers) {
    if (reader.name == name) return reader.position;
  }
  return UINT64_MAX;
}

TEST_F(ChainTailTest, NamedWithoutFollowPrintsFromTheAcknowledgedPositionAndAcknowledges) {
  std::vector<std::string> lines = Commit(0, 500);
  CliResult first = RunShmio({"tail", directory_, "--name=batch", "--cursor", "--format=text"});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  EXPECT_EQ(SplitLines(first.out), lines);
  EXPECT_EQ(AckedPosition(directory_, "batch"), chain_->GetSize().committed);

  // Only what came since; --from applies to a new name only.
  std::vector<std::string> more = Commit(500, 300);
  CliResult second = RunShmio(
      {"tail", directory_, "--name=batch", "--from=end", "--cursor", "--format=text"});
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_EQ(SplitLines(second.out), more);
  CliResult again = RunShmio({"tail", directory_, "--name=batch", "--format=text"});
  ASSERT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_EQ(again.out, "");

  // A new name with --from=end starts there, and a file has no names.
  CliResult fresh = RunShmio({"tail", directory_, "--name=late", "--from=end"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.Describe();
  EXPECT_EQ(fresh.out, "");
  EXPECT_EQ(AckedPosition(directory_, "late"), chain_->GetSize().committed);
  const std::string file = shmio::ChainPath(directory_, shmio::ChainFileName(0));
  CliResult on_file = RunShmio({"tail", file, "--name=x"});
  EXPECT_EQ(on_file.exit_code, 2) << on_file.Describe();
  EXPECT_TRUE(absl::StrContains(on_file.err, "needs a chain directory")) << on_file.Describe();
  CliResult bad_name = RunShmio({"tail", directory_, "--name=a b"});
  EXPECT_EQ(bad_name.exit_code, 1) << bad_name.Describe();
  EXPECT_TRUE(absl::StrContains(bad_name.err, "reader name")) << bad_name.Describe();
}

TEST_P(ChainTailTest, NamedFollowAcknowledgesWhatItFlushedAndResumesAfterSigkill) {
  std::vector<std::string> lines = Commit(0, 300);
  const std::vector<std::string> args = {directory_, "-f", absl::StrCat("--mode=", GetParam()),
                                         "--interval=1", "--name=follower", "--cursor",
                                         "--format=text"};
  auto tail = std::make_unique<TailProcess>(args);
  ASSERT_TRUE(tail->ReadLines(300)) << tail->Wait() << tail->err_text();
  // Acknowledged once flushed: the whole chain, soon after the lines came.
  const uint64_t end = chain_->GetSize().committed;
  ASSERT_TRUE(WaitUntil([&] { return AckedPosition(directory_, "follower") == end; }));
  EXPECT_EQ(tail->Lines(), lines);

  // While it lives the name is taken.
  CliResult second = RunShmio({"tail", directory_, "-f", "--name=follower"});
  EXPECT_EQ(second.exit_code, 1) << second.Describe();
  EXPECT_TRUE(absl::StrContains(second.err, "already running")) << second.Describe();

  EXPECT_EQ(tail->SignalAndWait(SIGKILL), 128 + SIGKILL);
  std::vector<std::string> more = Commit(300, 500);  // rolls while no one reads
  tail = std::make_unique<TailProcess>(args);
  ASSERT_TRUE(tail->ReadLines(500)) << tail->Wait() << tail->err_text();
  EXPECT_EQ(tail->SignalAndWait(SIGTERM), 0) << tail->err_text();
  EXPECT_EQ(tail->Lines(), more) << "it goes on after the last acknowledged frame";
  EXPECT_EQ(AckedPosition(directory_, "follower"), chain_->GetSize().committed);
}

INSTANTIATE_TEST_SUITE_P(Modes, ChainTailTest, ::testing::Values("inotify", "timer"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace shmio::cli_test
