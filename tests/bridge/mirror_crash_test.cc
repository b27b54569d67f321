// `shmio mirror` SIGKILLed at random moments, at least 50 times, while a
// publisher keeps the stream growing: each restart must continue at the
// position DEST's committed end says, so DEST is always a gap-free,
// duplicate-free prefix of the source log, and at the end exactly the log.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shmio/shared_memory.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

constexpr uint64_t kCapacity = uint64_t{64} << 20;

// The position where the log at `path` ends, from its header.
uint64_t CommittedEnd(const std::string& path) {
  shmio::Options options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return 0;
  shmio::HeaderSnapshot header = (*shm)->ReadHeader();
  return header.format == shmio::FileFormat::kEmpty ? 0 : header.committed - header.data_offset;
}

TEST(MirrorCrashTest, RandomKillsNeitherLoseNorDuplicateAFrame) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::string redis = absl::StrCat("--redis=", (*server)->address());
  std::string log = ShmPath("log");
  std::string dest = ShmPath("dest");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenSingleFileWriter(log, kCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ShmioChild publisher({"publish", log, redis, "--stream=mirror-crash"});
  const std::vector<std::string> args = {"mirror", redis, "--stream=mirror-crash", dest,
                                         absl::StrCat("--capacity=", kCapacity)};

  std::mt19937_64 rng(1302);
  absl::Time deadline = absl::Now() + kKillLoopBound;
  int kills = 0;
  int kills_mid_copy = 0;  // DEST grew, but not to the log's end
  uint64_t dest_end = 0;
  while (kills < kMaxKills && absl::Now() < deadline && !HasFailure()) {
    ASSERT_TRUE((*writer)->Write(rng() % 8000, 1 + rng() % 500).ok());
    ShmioChild mirror(args);
    // The first kill lands at once, likely while DEST is being created (a
    // file cut short must be created again). Then one kill in four lands
    // anywhere from exec through the connect; the others after the mirror
    // said where it resumes, while it copies: one in three of those right
    // after DEST's committed end first moves (in the middle of the copy
    // however fast the build copies), the rest after a random sleep.
    if (kills > 0) {
      if (kills == 1 || rng() % 4 != 0) {
        ASSERT_TRUE(mirror.WaitForStderr("mirroring")) << mirror.err();
      }
      if (kills > 1 && rng() % 3 == 0) {
        WaitUntilGrows([&] { return CommittedEnd(dest); }, dest_end, absl::Seconds(5));
      } else {
        usleep(static_cast<useconds_t>(rng() % kKillWithinUs));
      }
    }
    mirror.Signal(SIGKILL);
    ASSERT_EQ(mirror.Wait(), 128 + SIGKILL) << "the mirror ended on its own: " << mirror.err();
    ++kills;

    // Where DEST ends now (its header's committed value), for the count of
    // kills that landed mid-copy; a mirror killed before it created DEST (or
    // while it did: a file shorter than the header) left no log yet.
    struct stat info;
    if (stat(dest.c_str(), &info) != 0 || info.st_size < 24) continue;
    uint64_t end = CommittedEnd(dest);
    if (end > dest_end && end < (*writer)->end_position()) ++kills_mid_copy;
    dest_end = end;
    if (kills % 10 == 0 || kills < 5) {
      absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
      absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
      ASSERT_TRUE(mirrored.ok()) << mirrored.status();
      ASSERT_TRUE(source.ok()) << source.status();
      ASSERT_LE(mirrored->size(), source->size());
      source->resize(mirrored->size());
      ASSERT_EQ(Difference(*mirrored, *source), "") << "after " << kills << " kills";
    }
  }

  // A last mirror, not killed, must bring DEST to the log's end.
  ShmioChild last(args);
  ASSERT_TRUE(last.WaitForStderr("mirroring")) << last.err();  // DEST is a log now
  ASSERT_TRUE(WaitForLogEnd(dest, (*writer)->end_position()))
      << "publisher: " << publisher.err() << "\nmirror: " << last.err();
  last.Signal(SIGTERM);
  EXPECT_EQ(last.Wait(), 0) << last.err();
  publisher.Signal(SIGTERM);
  EXPECT_EQ(publisher.Wait(), 0) << publisher.err();
  absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
  absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
  ASSERT_TRUE(mirrored.ok()) << mirrored.status();
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(Difference(*mirrored, *source), "");

  std::printf("mirror_crash_test: %d kills, %d of them mid-copy, %zu frames\n",
              kills, kills_mid_copy, source->size());
  RecordProperty("kills", kills);
  EXPECT_GE(kills, kRequiredKills);
  EXPECT_GE(kills_mid_copy, 10) << "too few kills landed while the mirror was copying";
}

}  // namespace
}  // namespace bridge_test
