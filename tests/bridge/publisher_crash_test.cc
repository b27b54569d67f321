// `shmio publish` SIGKILLed at random moments, at least 50 times, while the
// log grows between kills: each restart must resume after the stream's last
// entry, so the stream is always a gap-free, duplicate-free prefix of the
// log, and once a last publisher has caught up, exactly the log.
//
// The run is bounded: it stops after kMaxKills kills or kKillLoopBound
// (bridge_test_support.h).
#include <signal.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

constexpr uint64_t kCapacity = uint64_t{128} << 20;

TEST(PublisherCrashTest, RandomKillsNeitherLoseNorDuplicateAnEntry) {
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::StartIn(TempDir("redis"));
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect((*server)->port());
  ASSERT_TRUE(client.ok()) << client.status();
  std::string log = ShmPath("log");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenSingleFileWriter(log, kCapacity);
  ASSERT_TRUE(writer.ok()) << writer.status();
  const std::vector<std::string> args = {"publish", log,
                                         absl::StrCat("--redis=", (*server)->address()),
                                         "--stream=crash"};

  std::mt19937_64 rng(20261202);
  absl::Time deadline = absl::Now() + kKillLoopBound;
  int kills = 0;
  int kills_mid_publish = 0;  // the stream grew, but not to the log's end
  uint64_t stream_length = 0;
  while (kills < kMaxKills && absl::Now() < deadline && !HasFailure()) {
    ASSERT_TRUE((*writer)->Write(rng() % 8000, 1 + rng() % 500).ok());
    ShmioChild publisher(args);
    // One kill in four lands anywhere from exec through the connect and the
    // resume query; the others land after the publisher said where it
    // resumes, in the pipelined XADDs. Sleeping only picks the moment.
    if (rng() % 4 != 0) {
      ASSERT_TRUE(publisher.WaitForStderr("publishing")) << publisher.err();
    }
    if (rng() % 3 == 0) {
      // Right after its first XADDs land: in the middle of its work.
      WaitUntilGrows([&] { return std::stoull((*client)->Text({"XLEN", "crash"})); }, stream_length,
                     absl::Seconds(5));
    } else {
      usleep(static_cast<useconds_t>(rng() % kKillWithinUs));
    }
    publisher.Signal(SIGKILL);
    ASSERT_EQ(publisher.Wait(), 128 + SIGKILL)
        << "the publisher ended on its own: " << publisher.err();
    ++kills;

    uint64_t length = std::stoull((*client)->Text({"XLEN", "crash"}));
    uint64_t frames = (*writer)->next_frame();
    if (length > stream_length && length < frames) ++kills_mid_publish;
    stream_length = length;
    if (kills % 25 == 0) {
      // The stream is a prefix of the log: nothing missing, nothing twice.
      absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "crash");
      absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
      ASSERT_TRUE(stream.ok() && source.ok());
      ASSERT_LE(stream->size(), source->size());
      source->resize(stream->size());
      ASSERT_EQ(Difference(*stream, *source), "") << "after " << kills << " kills";
    }
  }

  // A last publisher, not killed, must bring the stream to the log's end.
  std::vector<std::string> last_args = args;
  last_args.push_back("--until-caught-up");
  ShmioChild last(last_args);
  ASSERT_EQ(last.Wait(), 0) << last.err();
  absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "crash");
  absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(Difference(*stream, *source), "");
  EXPECT_NE(last.out().find(absl::StrCat("end_position: ", (*writer)->end_position())),
            std::string::npos)
      << last.out();

  std::printf("publisher_crash_test: %d kills, %d of them mid-publish, %zu frames checked\n",
              kills, kills_mid_publish, source->size());
  RecordProperty("kills", kills);
  RecordProperty("kills_mid_publish", kills_mid_publish);
  EXPECT_GE(kills, kRequiredKills);
  EXPECT_GE(kills_mid_publish, 10) << "too few kills landed while the publisher was busy";
}

}  // namespace
}  // namespace bridge_test
