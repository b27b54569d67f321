// redis-server SIGKILLed and restarted while `shmio publish` and `shmio
// mirror` run and the log keeps growing.
//
// With persistence (appendonly yes, appendfsync always: an XADD is in the
// AOF before Redis replies) the stream survives every restart; both bridges
// retry with backoff, say so once per outage, and at the end the stream and
// the mirror's log are exactly the source log.
//
// Without persistence a restart empties the stream. The publisher then finds
// an empty stream and publishes the log again from position 0, so the stream
// is rebuilt whole (from the log, which must still hold it); the mirror
// keeps reading after the position its log ends at, so its log still
// neither loses nor repeats a frame.
#include <signal.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

constexpr uint64_t kCapacity = uint64_t{64} << 20;

class RedisRestartTest : public testing::Test {
 protected:
  void StartBridges(bool persistent) {
    RedisServerOptions options;
    options.dir = TempDir(persistent ? "redis-aof" : "redis-memory");
    options.persistent = persistent;
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    log_ = ShmPath("log");
    dest_ = ShmPath("dest");
    absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenSingleFileWriter(log_, kCapacity);
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = std::move(*writer);
    std::string redis = absl::StrCat("--redis=", server_->address());
    publisher_ = std::make_unique<ShmioChild>(
        std::vector<std::string>{"publish", log_, redis, "--stream=restart"});
    mirror_ = std::make_unique<ShmioChild>(std::vector<std::string>{
        "mirror", redis, "--stream=restart", dest_, absl::StrCat("--capacity=", kCapacity)});
    ASSERT_TRUE(mirror_->WaitForStderr("mirroring")) << mirror_->err();
  }

  // Waits until the mirror's log holds the whole source log, stops both
  // bridges (exit 0) and compares the mirror's log with the source log.
  void FinishAndCompare() {
    ASSERT_TRUE(WaitForLogEnd(dest_, writer_->end_position()))
        << "publisher: " << publisher_->err() << "\nmirror: " << mirror_->err()
        << "\nredis: " << server_->Log();
    publisher_->Signal(SIGTERM);
    mirror_->Signal(SIGTERM);
    EXPECT_EQ(publisher_->Wait(), 0) << publisher_->err();
    EXPECT_EQ(mirror_->Wait(), 0) << mirror_->err();
    absl::StatusOr<std::vector<Entry>> source = ReadLog(log_);
    absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest_);
    ASSERT_TRUE(source.ok()) << source.status();
    ASSERT_TRUE(mirrored.ok()) << mirrored.status();
    EXPECT_EQ(Difference(*mirrored, *source), "");
    source_ = std::move(*source);
  }

  std::unique_ptr<RedisServer> server_;
  std::string log_;
  std::string dest_;
  std::unique_ptr<TestLogWriter> writer_;
  std::unique_ptr<ShmioChild> publisher_;
  std::unique_ptr<ShmioChild> mirror_;
  std::vector<Entry> source_;
};

TEST_F(RedisRestartTest, PersistentRedisKilledAndRestartedLosesNothing) {
  StartBridges(/*persistent=*/true);
  std::mt19937_64 rng(7);
  constexpr int kRestarts = 5;
  for (int i = 0; i < kRestarts; ++i) {
    ASSERT_TRUE(writer_->Write(20000, 1 + rng() % 1000).ok());
    usleep(static_cast<useconds_t>(rng() % 40000));  // picks the moment of the kill only
    server_->Kill();
    ASSERT_TRUE(writer_->Write(rng() % 5000, 100).ok());  // the log grows while Redis is down
    absl::Status restarted = server_->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted;
    // Each restart is its own outage for both bridges: wait until both are
    // back before the next kill (an event on their stderr, not a sleep).
    ASSERT_TRUE(publisher_->WaitForStderr("connected again", i + 1)) << publisher_->err();
    ASSERT_TRUE(mirror_->WaitForStderr("connected again", i + 1)) << mirror_->err();
  }
  ASSERT_TRUE(writer_->Write(1000, 10).ok());
  FinishAndCompare();

  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "restart");
  ASSERT_TRUE(stream.ok()) << stream.status();
  EXPECT_EQ(Difference(*stream, source_), "");

  // Said once per outage: one "retrying" line and one "connected again"
  // line per restart, however many attempts each outage took.
  for (ShmioChild* bridge : {publisher_.get(), mirror_.get()}) {
    EXPECT_EQ(CountOf(bridge->err(), "retrying with backoff"), kRestarts) << bridge->err();
    EXPECT_EQ(CountOf(bridge->err(), "connected again"), kRestarts) << bridge->err();
  }
}

TEST_F(RedisRestartTest, RedisWithoutPersistenceIsRefilledFromTheLog) {
  StartBridges(/*persistent=*/false);
  ASSERT_TRUE(writer_->Write(30000, 500).ok());
  ASSERT_TRUE(WaitForLogEnd(dest_, writer_->end_position())) << mirror_->err();
  server_->Kill();
  absl::Status restarted = server_->Restart();  // empty: nothing was persisted
  ASSERT_TRUE(restarted.ok()) << restarted;
  ASSERT_TRUE(writer_->Write(10000, 500).ok());
  FinishAndCompare();

  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<std::vector<Entry>> stream = ReadStream(**client, "restart");
  ASSERT_TRUE(stream.ok()) << stream.status();
  // The restarted server started empty (no AOF, no RDB), so the publisher
  // published the whole log again.
  EXPECT_EQ(Difference(*stream, source_), "") << "the publisher republishes the whole log";
}

}  // namespace
}  // namespace bridge_test
