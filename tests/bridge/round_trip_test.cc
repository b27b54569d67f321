// One million frames, written while `shmio publish` follows the log and
// `shmio mirror` follows the stream into a fresh file it creates: the
// mirror's log must hold exactly the source log's frames, at the same
// positions, every payload compared, and the stream every entry once.
#include <signal.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

#ifdef SHMIO_SANITIZER
// Sanitizer builds run the publisher and the mirror 3x (ASan) to 10x
// (TSan) slower; a quarter of the frames keeps the target within tens of
// seconds on a loaded machine. The plain build carries the million.
constexpr uint64_t kFrames = 250'000;
#else
constexpr uint64_t kFrames = 1'000'000;
#endif
constexpr uint64_t kCapacity = uint64_t{96} << 20;  // ~42 MB of frames

TEST(RoundTripTest, AMillionFramesArePublishedAndMirroredWithEveryPayload) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::string log = ShmPath("log");
  std::string dest = ShmPath("dest");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenSingleFileWriter(log, kCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::string redis = absl::StrCat("--redis=", (*server)->address());

  ShmioChild publisher({"publish", log, redis, "--stream=round-trip"});
  ShmioChild mirror({"mirror", redis, "--stream=round-trip", dest,
                     absl::StrCat("--capacity=", kCapacity)});
  ASSERT_TRUE(mirror.WaitForStderr("mirroring")) << mirror.err();  // DEST exists now

  // Commits of every size from 1 to 5000 frames while both follow.
  std::mt19937_64 rng(13);
  while ((*writer)->next_frame() < kFrames) {
    uint64_t count = std::min<uint64_t>(1 + rng() % 20000, kFrames - (*writer)->next_frame());
    ASSERT_TRUE((*writer)->Write(count, 1 + rng() % 5000).ok());
  }
  ASSERT_TRUE(WaitForLogEnd(dest, (*writer)->end_position()))
      << "the mirror did not catch up; publisher: " << publisher.err()
      << "\nmirror: " << mirror.err();

  publisher.Signal(SIGTERM);
  mirror.Signal(SIGTERM);
  EXPECT_EQ(publisher.Wait(), 0) << publisher.err();
  EXPECT_EQ(mirror.Wait(), 0) << mirror.err();
  EXPECT_NE(mirror.out().find(absl::StrCat("mirrored: ", kFrames)), std::string::npos)
      << mirror.out();

  absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_EQ(source->size(), kFrames);
  EXPECT_EQ(source->front().position, 0u);
  absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
  ASSERT_TRUE(mirrored.ok()) << mirrored.status();
  EXPECT_EQ(Difference(*mirrored, *source), "");
  for (uint64_t n = 0; n < kFrames; n += 99991) {
    ASSERT_EQ((*mirrored)[n].payload, NumberedPayload(n));
  }

  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect((*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "round-trip");
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(Difference(*stream, *source), "");
}

}  // namespace
}  // namespace bridge_test
