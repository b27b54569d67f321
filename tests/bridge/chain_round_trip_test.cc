// Chains through the bridge, end to end: a chain that rolls many times
// while `shmio publish DIR` follows it, mirrored by `shmio mirror --chain`
// into a new chain that rolls many times too; every stream entry and every
// mirrored payload is compared with the source. And a chain whose
// retention removed what the stream still needs is refused, naming the
// positions.
#include <signal.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

#ifdef SHMIO_SANITIZER
// Sanitizer builds run both processes 3x (ASan) to 10x (TSan) slower:
// fewer frames, in smaller files, so both chains still roll as often.
constexpr uint64_t kFrames = 40'000;
constexpr uint64_t kFileCapacity = 16 << 10;
#else
constexpr uint64_t kFrames = 120'000;    // ~5 MB of frames
constexpr uint64_t kFileCapacity = 64 << 10;  // so ~75 files
#endif
constexpr uint64_t kRequiredRolls = 50;

TEST(ChainRoundTripTest, AChainRollingWhilePublishedIsMirroredIntoAChainWithEveryPayload) {
  absl::Time started = absl::Now();
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::string log = ShmPath("chain");
  std::string dest = ShmPath("dest");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenChainWriter(log, kFileCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  std::string redis = absl::StrCat("--redis=", (*server)->address());

  ShmioChild publisher({"publish", log, redis, "--stream=chain"});
  ShmioChild mirror({"mirror", redis, "--stream=chain", dest, "--chain",
                     absl::StrCat("--file-capacity=", kFileCapacity)});
  ASSERT_TRUE(publisher.WaitForStderr("publishing")) << publisher.err();
  // Commits of 1 to 200 frames (a batch must fit in one file), the chain
  // rolling under the publisher.
  std::mt19937_64 rng(11);
  while ((*writer)->next_frame() < kFrames) {
    uint64_t count = std::min<uint64_t>(1 + rng() % 3000, kFrames - (*writer)->next_frame());
    ASSERT_TRUE((*writer)->Write(count, 1 + rng() % 200).ok());
  }
  EXPECT_GE((*writer)->rolls(), kRequiredRolls);
  ASSERT_TRUE(mirror.WaitForStderr("mirroring")) << mirror.err();
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
  EXPECT_EQ(source->front().position, 0u);  // as a single file's first frame
  for (uint64_t n = 0; n < kFrames; ++n) {
    ASSERT_EQ((*source)[n].payload, NumberedPayload(n)) << "frame " << n;
  }
  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect((*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "chain");
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(Difference(*stream, *source), "");
  absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
  ASSERT_TRUE(mirrored.ok()) << mirrored.status();
  EXPECT_EQ(Difference(*mirrored, *source), "");
  absl::StatusOr<shmio::ChainListing> dest_files = shmio::ListChain(dest);
  ASSERT_TRUE(dest_files.ok()) << dest_files.status();
  EXPECT_GE(dest_files->files.size(), kRequiredRolls + 1);

  std::printf("chain_round_trip_test: %d frames, source rolled %d times, mirror has %zu files, "
              "%.1f s\n",
              static_cast<int>(kFrames), static_cast<int>((*writer)->rolls()),
              dest_files->files.size(), absl::ToDoubleSeconds(absl::Now() - started));
  std::filesystem::remove_all(log);
  std::filesystem::remove_all(dest);
}

// A mirror of a trimmed stream: the chain it creates begins where the
// stream begins, not at 0.
TEST(ChainRoundTripTest, AChainMirrorOfATrimmedStreamBeginsAtItsFirstEntry) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis2"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::string log = ShmPath("trimmed-source");
  std::string dest = ShmPath("trimmed-dest");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenChainWriter(log, kFileCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Write(3000, 100).ok());
  std::string redis = absl::StrCat("--redis=", (*server)->address());
  ShmioChild publisher(
      {"publish", log, redis, "--stream=trimmed", "--maxlen=1000", "--until-caught-up"});
  ASSERT_EQ(publisher.Wait(), 0) << publisher.err();

  ShmioChild mirror({"mirror", redis, "--stream=trimmed", dest, "--chain",
                     absl::StrCat("--file-capacity=", kFileCapacity)});
  ASSERT_TRUE(WaitForLogEnd(dest, (*writer)->end_position())) << mirror.err();
  mirror.Signal(SIGTERM);
  EXPECT_EQ(mirror.Wait(), 0) << mirror.err();
  absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
  absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
  ASSERT_TRUE(source.ok() && mirrored.ok());
  ASSERT_EQ(mirrored->size(), 1000u);
  source->erase(source->begin(), source->end() - 1000);
  EXPECT_GT(mirrored->front().position, 0u);
  EXPECT_EQ(Difference(*mirrored, *source), "");
  std::filesystem::remove_all(log);
  std::filesystem::remove_all(dest);
}

// Retention removed files the stream had not been given: the publisher
// stops, naming the stream's end, the oldest position left and what is
// lost, instead of leaving a gap in the stream.
TEST(ChainRoundTripTest, RetentionPastTheStreamsEndIsRefusedNamingThePositions) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis3"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::string log = ShmPath("retained");
  std::string redis = absl::StrCat("--redis=", (*server)->address());
  {
    absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenChainWriter(log, 4096);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Write(100, 10).ok());
  }
  ShmioChild first({"publish", log, redis, "--stream=retained", "--until-caught-up"});
  ASSERT_EQ(first.Wait(), 0) << first.err();
  {
    shmio::ChainOptions options;
    options.directory = log;
    options.retain_files = 2;
    absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> chain = shmio::ChainWriter::Open(options);
    ASSERT_TRUE(chain.ok()) << chain.status();
    std::string payload(200, 'r');
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*chain)->Append(absl::Span<const uint8_t>(
                                       reinterpret_cast<const uint8_t*>(payload.data()),
                                       payload.size()))
                      .ok());
      ASSERT_TRUE((*chain)->Commit().ok());
    }
  }
  ShmioChild second({"publish", log, redis, "--stream=retained", "--until-caught-up"});
  EXPECT_EQ(second.Wait(), 1);
  EXPECT_NE(second.err().find("retention removed the files of " + log + " below position"),
            std::string::npos)
      << second.err();
  EXPECT_NE(second.err().find("were never published and are lost"), std::string::npos)
      << second.err();
  std::filesystem::remove_all(log);
}

}  // namespace
}  // namespace bridge_test
