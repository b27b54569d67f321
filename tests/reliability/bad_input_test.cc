// Bad input matrix for opening a log: every bad path, file, header or option
// gets a clear error that names the path and the values involved, and
// leaves every file exactly as it was (same existence, type, mode, size and
// bytes; no file created where none existed).
//
// Tests run as root, which ignores permission bits, so the "no permission"
// cases run in a child process that first drops to uid/gid 65534 (nobody)
// and work in /dev/shm, which nobody can traverse.
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/doorbell.h"
#include "shmio/format.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/child_process.h"
#include "tests/reliability/file_state.h"

namespace shmio_reliability {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kCapacity = 4096;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

class BadInputTest : public testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : cleanup_) {
      unlink(path.c_str());
      rmdir(path.c_str());
    }
  }

  // A fresh path in $TEST_TMPDIR, removed after the test.
  std::string Path(const std::string& name) {
    std::string path = absl::StrCat(TempDir(), "/", name, "-", counter_++);
    cleanup_.push_back(path);
    return path;
  }

  // A log with three committed frames, written by shmio, closed again.
  std::string MakeLog(const std::string& name) {
    std::string path = Path(name);
    shmio::Options options;
    options.path = path;
    options.capacity = kCapacity;
    options.writable = true;
    auto shm = shmio::SharedMemory::Open(options);
    EXPECT_TRUE(shm.ok()) << shm.status();
    if (!shm.ok()) return path;
    auto pool = shmio::Pool::Create(shm->get());
    EXPECT_TRUE(pool.ok()) << pool.status();
    if (!pool.ok()) return path;
    for (uint8_t i = 0; i < 3; ++i) {
      std::vector<uint8_t> payload(10 + i, i);
      EXPECT_TRUE((*pool)->Append(payload).ok());
    }
    EXPECT_TRUE((*pool)->Commit().ok());
    return path;
  }

  // Opens `options` (read-only and, with `also_writable`, writable as well)
  // and expects `code` with every string of `words` in the message, and
  // the file untouched by each attempt.
  void ExpectOpenFails(shmio::Options options, absl::StatusCode code,
                       const std::vector<std::string>& words,
                       bool also_writable = true) {
    for (bool writable : {false, true}) {
      if (writable && !also_writable) continue;
      SCOPED_TRACE(writable ? "writable" : "read-only");
      options.writable = writable;
      FileState before = Snapshot(options.path);
      auto shm = shmio::SharedMemory::Open(options);
      ASSERT_FALSE(shm.ok()) << "opened " << options.path;
      EXPECT_EQ(shm.status().code(), code) << shm.status();
      for (const std::string& word : words) {
        EXPECT_THAT(std::string(shm.status().message()), HasSubstr(word));
      }
      EXPECT_EQ(Snapshot(options.path), before) << "the file changed";
    }
  }

  std::vector<std::string> cleanup_;
  int counter_ = 0;
};

shmio::Options ReaderOptions(const std::string& path) {
  shmio::Options options;
  options.path = path;
  return options;
}

TEST_F(BadInputTest, PathThatIsADirectoryIsRefused) {
  std::string dir = Path("a-directory");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  shmio::Options options = ReaderOptions(dir);
  options.capacity = kCapacity;  // so the writer would create if it could
  ExpectOpenFails(options, absl::StatusCode::kFailedPrecondition, {dir});
}

// open(2) of a FIFO blocks until its other end is opened: a reader, a
// writer and WriterPid() used to hang on one.
TEST_F(BadInputTest, FifoIsNotARegularFileAndNothingBlocks) {
  std::string fifo = Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  shmio::Options options = ReaderOptions(fifo);
  options.capacity = kCapacity;
  ExpectOpenFails(options, absl::StatusCode::kFailedPrecondition,
                  {fifo, "not a regular file", "FIFO"});
  absl::StatusOr<std::optional<pid_t>> writer = shmio::SharedMemory::WriterPid(fifo);
  EXPECT_TRUE(absl::IsFailedPrecondition(writer.status())) << writer.status();
  EXPECT_THAT(std::string(writer.status().message()), HasSubstr("not a regular file"));
  absl::StatusOr<std::unique_ptr<shmio::Doorbell>> doorbell = shmio::Doorbell::Open(fifo);
  EXPECT_TRUE(absl::IsFailedPrecondition(doorbell.status())) << doorbell.status();
  EXPECT_THAT(std::string(doorbell.status().message()), HasSubstr("not a regular file"));
}

TEST_F(BadInputTest, MissingParentDirectoryIsNotFoundAndCreatesNothing) {
  std::string parent = Path("no-such-dir");
  std::string path = absl::StrCat(parent, "/log.shm");
  shmio::Options options = ReaderOptions(path);
  options.capacity = kCapacity;
  ExpectOpenFails(options, absl::StatusCode::kNotFound, {path});
  EXPECT_FALSE(Snapshot(parent).exists);
}

TEST_F(BadInputTest, EmptyFileIsNotALogForAReader) {
  std::string path = Path("empty");
  WriteBytes(path, {});
  ExpectOpenFails(ReaderOptions(path), absl::StatusCode::kDataLoss,
                  {path, "0 bytes"}, /*also_writable=*/false);
}

TEST_F(BadInputTest, FileShorterThanTheHeaderIsRefused) {
  std::string path = Path("short");
  WriteBytes(path, std::vector<uint8_t>(10, 0x18));
  ExpectOpenFails(ReaderOptions(path), absl::StatusCode::kDataLoss,
                  {path, "10 bytes"});
}

TEST_F(BadInputTest, HeaderSizeOtherThan24IsRefused) {
  std::string path = MakeLog("header-size");
  WriteU64At(path, shmio::format::kHeaderSizeOffset, 4242);
  ExpectOpenFails(ReaderOptions(path), absl::StatusCode::kDataLoss,
                  {path, "4242"});
}

// DESIGN.md: "A file whose first 24 bytes are zero is fresh." A file that
// is not a log (here text) but happens to have zeros at 16..23 is neither
// fresh nor a log; a writer must not initialise a header over it.
TEST_F(BadInputTest, WriterRefusesAFileThatIsNeitherFreshNorALog) {
  std::string path = Path("not-a-log");
  std::vector<uint8_t> bytes(kCapacity, 0);
  const char text[] = "not a log, text!";  // 16 bytes, then zeros
  std::copy(text, text + 16, bytes.begin());
  WriteBytes(path, bytes);
  FileState before = Snapshot(path);
  shmio::Options options = ReaderOptions(path);
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  absl::Status status = shm.status();
  if (shm.ok()) status = shmio::Pool::Create(shm->get()).status();
  EXPECT_FALSE(status.ok()) << "a writer took over " << path
                            << ", a file whose header is not all zero";
  shm = absl::UnknownError("closed");  // drop any mapping before comparing
  EXPECT_EQ(Snapshot(path), before) << "the file changed";
}

TEST_F(BadInputTest, DataOffsetOutsideTheFileIsRefused) {
  std::string path = MakeLog("data-offset-beyond");
  WriteU64At(path, shmio::format::kDataOffsetOffset, kCapacity + 100);
  ExpectOpenFails(ReaderOptions(path), absl::StatusCode::kDataLoss,
                  {path, absl::StrCat(kCapacity + 100)});

  std::string below = MakeLog("data-offset-below");
  WriteU64At(below, shmio::format::kDataOffsetOffset, 8);
  ExpectOpenFails(ReaderOptions(below), absl::StatusCode::kDataLoss,
                  {below, "dataOffset"});
}

// A committed value outside the file: a writer refuses to continue from
// it; a reader may open the log (a Node.js writer stopped mid-store leaves
// such a value for as long as it is stopped), but its Consumer delivers
// nothing on it and says what is wrong, naming the value.
TEST_F(BadInputTest, CommittedOutsideTheFileIsRefusedByWritersAndNeverTrusted) {
  for (uint64_t bad : {kCapacity + 1, uint64_t{100}}) {  // 100: below dataOffset 256
    SCOPED_TRACE(bad);
    std::string path = MakeLog(absl::StrCat("committed-", bad));
    WriteU64At(path, shmio::format::kCommittedOffset, bad);
    shmio::Options writer = ReaderOptions(path);
    writer.writable = true;
    FileState before = Snapshot(path);
    auto refused = shmio::SharedMemory::Open(writer);
    ASSERT_FALSE(refused.ok()) << "a writer continued from committed " << bad;
    EXPECT_TRUE(absl::IsDataLoss(refused.status())) << refused.status();
    EXPECT_THAT(std::string(refused.status().message()),
                AllOf(HasSubstr(path), HasSubstr(absl::StrCat(bad)),
                      HasSubstr("Node.js writer")));

    auto reader = shmio::SharedMemory::Open(ReaderOptions(path));
    ASSERT_TRUE(reader.ok()) << reader.status();
    shmio::Consumer consumer(reader->get());
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_TRUE(batch->empty()) << "frames delivered on committed " << bad;
    absl::Status problem = consumer.CommittedProblem();
    EXPECT_TRUE(absl::IsDataLoss(problem)) << problem;
    EXPECT_THAT(std::string(problem.message()),
                AllOf(HasSubstr(path), HasSubstr(absl::StrCat(bad))));
    EXPECT_EQ(Snapshot(path), before) << "the file changed";
  }
}

// Bad options are InvalidArgument before anything touches the disk: no file
// is created, an existing one is left alone.
TEST_F(BadInputTest, BadGeometryOptionsCreateNothing) {
  struct Case {
    const char* name;
    uint64_t size, num, overlap;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"size-0", 0, 4, 0, {"size 0"}},
      {"num-0", 4096, 0, 0, {"num 0"}},
      {"overlap-equals-size", 4096, 4, 4096, {"overlap 4096", "size 4096"}},
      {"overlap-above-size", 4096, 4, 5000, {"overlap 5000"}},
      {"size-times-num-overflows", uint64_t{1} << 33, uint64_t{1} << 32, 0,
       {"8589934592", "4294967296"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = Path(c.name);
    shmio::Options options = ReaderOptions(path);
    options.size = c.size;
    options.num = c.num;
    options.overlap = c.overlap;
    std::vector<std::string> words = c.words;
    words.push_back(path);
    ExpectOpenFails(options, absl::StatusCode::kInvalidArgument, words);
    EXPECT_FALSE(Snapshot(path).exists);

    // Same options against an existing log: refused, log untouched.
    std::string existing = MakeLog(absl::StrCat(c.name, "-existing"));
    options.path = existing;
    words.back() = existing;
    ExpectOpenFails(options, absl::StatusCode::kInvalidArgument, words);
  }
}

TEST_F(BadInputTest, CapacitySmallerThanTheHeaderCreatesNothing) {
  std::string path = Path("tiny");
  shmio::Options options = ReaderOptions(path);
  options.capacity = 10;
  ExpectOpenFails(options, absl::StatusCode::kInvalidArgument, {path, "10"});
  EXPECT_FALSE(Snapshot(path).exists);
}

TEST_F(BadInputTest, SizeThatDoesNotMatchTheFileIsRefused) {
  std::string path = MakeLog("mismatch");
  shmio::Options options = ReaderOptions(path);
  options.capacity = 2 * kCapacity;
  ExpectOpenFails(options, absl::StatusCode::kFailedPrecondition,
                  {path, absl::StrCat(kCapacity), absl::StrCat(2 * kCapacity)});
}

TEST_F(BadInputTest, PayloadOver65531BytesIsRefusedAndWritesNothing) {
  std::string path = Path("big-payload");
  shmio::Options options = ReaderOptions(path);
  options.capacity = 256 * 1024;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(shm.ok()) << shm.status();
  auto pool = shmio::Pool::Create(shm->get());
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_TRUE((*pool)->Append(std::vector<uint8_t>(100, 1)).ok());
  ASSERT_TRUE((*pool)->Commit().ok());
  FileState before = Snapshot(path);
  shmio::Pool::Size size_before = (*pool)->GetSize();

  auto slice = (*pool)->SliceSize(shmio::format::kMaxPayload + 1);
  EXPECT_EQ(slice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(slice.status().message()),
              AllOf(HasSubstr("65532"), HasSubstr("65531")));
  absl::Status appended = (*pool)->Append(
      std::vector<uint8_t>(shmio::format::kMaxPayload + 1, 7));
  EXPECT_EQ(appended.code(), absl::StatusCode::kInvalidArgument) << appended;
  ASSERT_TRUE((*pool)->Commit().ok());
  EXPECT_EQ((*pool)->GetSize().committed, size_before.committed);
  EXPECT_EQ((*pool)->GetSize().uncommitted, size_before.uncommitted);
  EXPECT_EQ(Snapshot(path), before) << "a refused payload changed the file";

  // The largest payload the format allows still fits.
  EXPECT_TRUE((*pool)->Append(
      std::vector<uint8_t>(shmio::format::kMaxPayload, 9)).ok());
}

// A capacity larger than /dev/shm can hold: posix_fallocate fails up front
// with ENOSPC, which is ResourceExhausted, and the half-made file is gone.
TEST_F(BadInputTest, CapacityLargerThanDevShmIsResourceExhaustedAndLeavesNoFile) {
  struct statvfs vfs;
  ASSERT_EQ(statvfs("/dev/shm", &vfs), 0);
  // Beyond the file system's total size, so tmpfs refuses at once instead of
  // filling memory first.
  uint64_t total = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  uint64_t capacity = total + (uint64_t{1} << 30);
  std::string path = ShmPath("too-big");
  ScopedUnlink unlink_path(path);
  shmio::Options options;
  options.path = path;
  options.capacity = capacity;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  ASSERT_FALSE(shm.ok());
  EXPECT_EQ(shm.status().code(), absl::StatusCode::kResourceExhausted)
      << shm.status();
  EXPECT_THAT(std::string(shm.status().message()),
              AllOf(HasSubstr(path), HasSubstr(absl::StrCat(capacity))));
  EXPECT_FALSE(Snapshot(path).exists) << "a failed create left " << path;

  // An existing empty file (e.g. from `touch`) stays as it was.
  WriteBytes(path, {});
  FileState before = Snapshot(path);
  shm = shmio::SharedMemory::Open(options);
  ASSERT_FALSE(shm.ok());
  EXPECT_EQ(shm.status().code(), absl::StatusCode::kResourceExhausted)
      << shm.status();
  EXPECT_EQ(Snapshot(path), before);
}

// A second writer, in this process or another, is refused and names the
// path (and, from another process, the holder's pid); the log is untouched.
TEST_F(BadInputTest, SecondWriterIsRefusedAndNamesTheHolder) {
  std::string path = MakeLog("two-writers");
  shmio::Options options = ReaderOptions(path);
  options.writable = true;
  auto first = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(first.ok()) << first.status();
  auto pool = shmio::Pool::Create(first->get());
  ASSERT_TRUE(pool.ok());
  FileState before = Snapshot(path);

  auto second = shmio::SharedMemory::Open(options);
  ASSERT_FALSE(second.ok()) << "two writers in one process";
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(path));

  // From another process: report the status through a pipe.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    auto other = shmio::SharedMemory::Open(options);
    std::string report = other.ok()
                             ? "OK"
                             : absl::StrCat(static_cast<int>(other.status().code()),
                                            " ", other.status().message());
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) report.append(buffer, n);
  close(fds[0]);
  EXPECT_EQ(WaitForExit(pid), 0);
  EXPECT_THAT(report,
              AllOf(HasSubstr(absl::StrCat(
                        static_cast<int>(absl::StatusCode::kFailedPrecondition),
                        " ")),
                    HasSubstr(path), HasSubstr(absl::StrCat(getpid()))));
  EXPECT_EQ(Snapshot(path), before);
}

// --- No permission ----------------------------------------------------------

// Runs `body` in a child process as uid/gid 65534 and returns what it
// reported ("<code> <message>"), or "SKIP <why>" when the child could not
// drop to that user.
std::string RunAsNobody(const std::function<absl::Status()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return "SKIP pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string report;
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 ||
        setuid(65534) != 0) {
      report = "SKIP cannot setuid to 65534 (no CAP_SETUID?)";
    } else {
      absl::Status status = body();
      report = absl::StrCat(static_cast<int>(status.code()), " ",
                            status.message());
    }
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) report.append(buffer, n);
  close(fds[0]);
  WaitForExit(pid);
  return report;
}

std::string Code(absl::StatusCode code) {
  return absl::StrCat(static_cast<int>(code), " ");
}

TEST_F(BadInputTest, NoPermissionIsPermissionDeniedAndTouchesNothing) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to switch to another user";
  // /dev/shm is world-traversable ($TEST_TMPDIR is under /root, which is not).
  std::string log = ShmPath("private-log");
  ScopedUnlink unlink_log(log);
  {
    shmio::Options options;
    options.path = log;
    options.capacity = kCapacity;
    options.writable = true;
    options.create_mode = 0600;
    auto shm = shmio::SharedMemory::Open(options);
    ASSERT_TRUE(shm.ok()) << shm.status();
    ASSERT_TRUE(shmio::Pool::Create(shm->get()).ok());
  }
  FileState before = Snapshot(log);
  ASSERT_EQ(before.mode & 0777, 0600u);

  // Reading a file only its owner may read.
  std::string report = RunAsNobody([&] {
    return shmio::SharedMemory::Open(ReaderOptions(log)).status();
  });
  if (absl::StartsWith(report, "SKIP")) GTEST_SKIP() << report;
  EXPECT_THAT(report, AllOf(testing::StartsWith(
                                Code(absl::StatusCode::kPermissionDenied)),
                            HasSubstr(log)));

  // Writing a file others may only read.
  ASSERT_EQ(chmod(log.c_str(), 0644), 0);
  before = Snapshot(log);
  report = RunAsNobody([&] {
    shmio::Options options = ReaderOptions(log);
    options.writable = true;
    return shmio::SharedMemory::Open(options).status();
  });
  EXPECT_THAT(report, AllOf(testing::StartsWith(
                                Code(absl::StatusCode::kPermissionDenied)),
                            HasSubstr(log)));
  EXPECT_EQ(Snapshot(log), before);

  // Creating a log in a directory only root may write to.
  std::string dir = ShmPath("root-only-dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  std::string inside = absl::StrCat(dir, "/log.shm");
  report = RunAsNobody([&] {
    shmio::Options options = ReaderOptions(inside);
    options.capacity = kCapacity;
    options.writable = true;
    return shmio::SharedMemory::Open(options).status();
  });
  EXPECT_THAT(report, AllOf(testing::StartsWith(
                                Code(absl::StatusCode::kPermissionDenied)),
                            HasSubstr(inside)));
  EXPECT_FALSE(Snapshot(inside).exists);
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace shmio_reliability
