// SIGKILLs on a chain: `shmio publish DIR` killed at random moments while
// the chain grows and rolls between kills, and `shmio mirror --chain`
// killed while it copies into a chain it created. Each restart resumes
// from what the stream (or DEST) really holds, so the stream and DEST are
// always gap-free, duplicate-free prefixes of the chain, and at the end
// exactly it.
//
// Bounded: at least kChainKills kills, stopping at kMaxChainKills or after
// kChainKillBound.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shmio/chain_consumer.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

constexpr int kChainKills = 20;
constexpr int kMaxChainKills = 60;
#ifdef SHMIO_SANITIZER
// As kKillLoopBound (bridge_test_support.h): each kill cycle is several
// times slower under a sanitizer.
constexpr absl::Duration kChainKillBound = absl::Seconds(40);
#else
constexpr absl::Duration kChainKillBound = absl::Seconds(20);
#endif
constexpr uint64_t kFileCapacity = 64 << 10;

// Asserts that `log` holds a prefix of `source` (both read in full).
void ExpectPrefix(const std::string& log, const std::string& source_path, int kills) {
  absl::StatusOr<std::vector<Entry>> copy = ReadLog(log);
  absl::StatusOr<std::vector<Entry>> source = ReadLog(source_path);
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_LE(copy->size(), source->size());
  source->resize(copy->size());
  ASSERT_EQ(Difference(*copy, *source), "") << "after " << kills << " kills";
}

// The chain's committed end, or 0 while it has no file (a mirror killed
// before it made one).
uint64_t ChainEnd(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<shmio::ChainConsumer>> end =
      shmio::ChainConsumer::Open(dir, {shmio::ChainStart::kEnd});
  return end.ok() ? (*end)->cursor() : 0;
}

TEST(ChainCrashTest, PublisherKillsNeitherLoseNorDuplicateAnEntry) {
  absl::Time started = absl::Now();
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis"));
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect((*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  std::string log = ShmPath("chain");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenChainWriter(log, kFileCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::vector<std::string> args = {"publish", log,
                                         absl::StrCat("--redis=", (*server)->address()),
                                         "--stream=chain-crash"};

  std::mt19937_64 rng(2026);
  absl::Time deadline = absl::Now() + kChainKillBound;
  int kills = 0;
  int kills_mid_publish = 0;
  uint64_t stream_length = 0;
  while (kills < kMaxChainKills && absl::Now() < deadline && !HasFailure()) {
    // A few rolls between kills: frames of 12 to 72 bytes, 64 KB files.
    ASSERT_TRUE((*writer)->Write(rng() % 6000, 1 + rng() % 500).ok());
    ShmioChild publisher(args);
    if (rng() % 4 != 0) {
      ASSERT_TRUE(publisher.WaitForStderr("publishing")) << publisher.err();
    }
    if (rng() % 3 == 0) {
      // Right after its first XADDs land: in the middle of its work.
      WaitUntilGrows([&] { return std::stoull((*client)->Text({"XLEN", "chain-crash"})); }, stream_length,
                     absl::Seconds(5));
    } else {
      usleep(static_cast<useconds_t>(rng() % kKillWithinUs));
    }
    publisher.Signal(SIGKILL);
    ASSERT_EQ(publisher.Wait(), 128 + SIGKILL)
        << "the publisher ended on its own: " << publisher.err();
    ++kills;
    uint64_t length = std::stoull((*client)->Text({"XLEN", "chain-crash"}));
    if (length > stream_length && length < (*writer)->next_frame()) ++kills_mid_publish;
    stream_length = length;
    if (kills % 10 == 0) {
      absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "chain-crash");
      absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
      ASSERT_TRUE(stream.ok() && source.ok());
      ASSERT_LE(stream->size(), source->size());
      source->resize(stream->size());
      ASSERT_EQ(Difference(*stream, *source), "") << "after " << kills << " kills";
    }
  }

  std::vector<std::string> last_args = args;
  last_args.push_back("--until-caught-up");
  ShmioChild last(last_args);
  ASSERT_EQ(last.Wait(), 0) << last.err();
  absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "chain-crash");
  absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(Difference(*stream, *source), "");
  std::printf("chain_crash_test (publisher): %d kills, %d mid-publish, %d rolls, %zu frames, "
              "%.1f s\n",
              kills, kills_mid_publish, static_cast<int>((*writer)->rolls()), source->size(),
              absl::ToDoubleSeconds(absl::Now() - started));
  EXPECT_GE(kills, kChainKills);
  EXPECT_GE(kills_mid_publish, 5) << "too few kills landed while the publisher was busy";
  std::filesystem::remove_all(log);
}

TEST(ChainCrashTest, MirrorKillsNeitherLoseNorDuplicateAFrame) {
  absl::Time started = absl::Now();
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis2"));
  ASSERT_TRUE(server.ok()) << server.status();
  std::string redis = absl::StrCat("--redis=", (*server)->address());
  std::string log = ShmPath("mirror-source");
  std::string dest = ShmPath("mirror-dest");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenChainWriter(log, kFileCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ShmioChild publisher({"publish", log, redis, "--stream=chain-mirror"});
  const std::vector<std::string> args = {"mirror", redis, "--stream=chain-mirror", dest,
                                         "--chain",
                                         absl::StrCat("--file-capacity=", kFileCapacity)};

  std::mt19937_64 rng(1313);
  absl::Time deadline = absl::Now() + kChainKillBound;
  int kills = 0;
  int kills_mid_copy = 0;
  uint64_t dest_end = 0;
  while (kills < kMaxChainKills && absl::Now() < deadline && !HasFailure()) {
    ASSERT_TRUE((*writer)->Write(rng() % 6000, 1 + rng() % 500).ok());
    ShmioChild mirror(args);
    // The first kill lands at once, likely while DEST is being created;
    // then one in four anywhere, the others while it copies.
    if (kills > 0) {
      if (rng() % 4 != 0) {
        ASSERT_TRUE(mirror.WaitForStderr("mirroring")) << mirror.err();
      }
      if (rng() % 3 == 0) {
        // Right after it committed into DEST: in the middle of its work.
        WaitUntilGrows([&] { return ChainEnd(dest); }, dest_end, absl::Seconds(5));
      } else {
        usleep(static_cast<useconds_t>(rng() % kKillWithinUs));
      }
    }
    mirror.Signal(SIGKILL);
    ASSERT_EQ(mirror.Wait(), 128 + SIGKILL) << "the mirror ended on its own: " << mirror.err();
    ++kills;
    uint64_t end = ChainEnd(dest);
    if (end > dest_end && end < (*writer)->end_position()) ++kills_mid_copy;
    dest_end = std::max(dest_end, end);
    if (end > 0 && (kills % 10 == 0 || kills < 5)) ExpectPrefix(dest, log, kills);
  }

  ShmioChild last(args);
  // Running, its SIGTERM handler in place (the killed mirrors may have
  // copied everything already, so DEST's end alone does not say so).
  ASSERT_TRUE(last.WaitForStderr("mirroring")) << last.err();
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
  std::printf("chain_crash_test (mirror): %d kills, %d mid-copy, %zu frames, %.1f s\n", kills,
              kills_mid_copy, source->size(), absl::ToDoubleSeconds(absl::Now() - started));
  EXPECT_GE(kills, kChainKills);
  EXPECT_GE(kills_mid_copy, 5) << "too few kills landed while the mirror was copying";
  std::filesystem::remove_all(log);
  std::filesystem::remove_all(dest);
}

}  // namespace
}  // namespace bridge_test
