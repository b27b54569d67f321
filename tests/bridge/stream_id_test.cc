// Positions and stream IDs (bridge/stream_id.h), and the Redis facts the
// exactly-once argument rests on, checked against a real redis-server:
// an XADD at or below the top ID is refused, also after XDEL and trimming.
#include <hiredis/hiredis.h>

#include <string>

#include "absl/strings/match.h"
#include "bridge/stream_id.h"
#include "bridge/stream_reply.h"
#include "gtest/gtest.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge {
namespace {

TEST(StreamIdTest, PositionZeroIsIdZeroDashOneNeverZeroZero) {
  EXPECT_EQ(EntryIdForPosition(0), "0-1");
  EXPECT_EQ(EntryIdForPosition(256), "256-1");
  EXPECT_EQ(EntryIdForPosition(UINT64_MAX), "18446744073709551615-1");
  EXPECT_EQ(ReadStartForPosition(0), "0-0");
  EXPECT_EQ(ReadStartForPosition(9), "9-0");
}

TEST(StreamIdTest, IdsOrderAsPositionsDo) {
  for (uint64_t a : {0ull, 1ull, 9ull, 10ull, 99ull, 1000ull}) {
    for (uint64_t b : {0ull, 1ull, 9ull, 10ull, 99ull, 1000ull}) {
      StreamId ia = *ParseStreamId(EntryIdForPosition(a));
      StreamId ib = *ParseStreamId(EntryIdForPosition(b));
      EXPECT_EQ(ia < ib, a < b) << a << " " << b;
      // The read start for b is below b's entry and above every earlier one.
      StreamId start = *ParseStreamId(ReadStartForPosition(b));
      EXPECT_EQ(start < ia, a >= b) << a << " " << b;
    }
  }
}

TEST(StreamIdTest, NextPositionAddsTheFrameOverhead) {
  EXPECT_EQ(NextPosition(0, 5), 9u);
  EXPECT_EQ(NextPosition(9, 0), 13u);
}

TEST(StreamIdTest, MalformedIdsAreInvalid) {
  for (const char* text : {"", "5", "5-", "-1", "a-1", "5-1-1", "+5-1", " 5-1", "99999999999999999999-1"}) {
    EXPECT_FALSE(ParseStreamId(text).ok()) << text;
  }
}

TEST(StreamIdTest, DecodeEntryAcceptsOnlyWhatThePublisherWrites) {
  absl::StatusOr<StreamEntry> good = DecodeEntry("s", "18-1", "pos", "18", "data", "abc");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->position, 18u);
  EXPECT_EQ(good->payload, "abc");
  struct Bad {
    const char* id;
    const char* f1;
    const char* v1;
    const char* f2;
  };
  for (const Bad& bad : {Bad{"18-0", "pos", "18", "data"}, Bad{"18-2", "pos", "18", "data"},
                         Bad{"18-1", "pos", "19", "data"}, Bad{"18-1", "pos", "x", "data"},
                         Bad{"18-1", "data", "18", "pos"}, Bad{"1733000000000-0", "a", "b", "c"}}) {
    absl::StatusOr<StreamEntry> decoded = DecodeEntry("s", bad.id, bad.f1, bad.v1, bad.f2, "x");
    EXPECT_TRUE(absl::IsFailedPrecondition(decoded.status())) << bad.id << " " << bad.v1;
    EXPECT_TRUE(absl::StrContains(decoded.status().message(), "was not written by shmio"));
    EXPECT_TRUE(absl::StrContains(decoded.status().message(), bad.id));
  }
  std::string huge(65532, 'x');
  EXPECT_FALSE(DecodeEntry("s", "0-1", "pos", "0", "data", huge).ok());
}

class RedisFactsTest : public testing::Test {
 protected:
  void SetUp() override {
    auto server = bridge_test::RedisServer::StartIn(bridge_test::TempDir("redis"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto client = bridge_test::SyncRedis::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << client.status();
    redis_ = std::move(*client);
  }
  std::string Add(uint64_t position, const std::string& data) {
    return redis_->Text({"XADD", "s", EntryIdForPosition(position), "pos",
                         std::to_string(position), "data", data});
  }
  std::unique_ptr<bridge_test::RedisServer> server_;
  std::unique_ptr<bridge_test::SyncRedis> redis_;
};

TEST_F(RedisFactsTest, PositionZeroIsAcceptedAndAReplayIsRefused) {
  EXPECT_EQ(Add(0, "a"), "0-1");
  EXPECT_EQ(Add(9, "b"), "9-1");
  EXPECT_TRUE(absl::StrContains(Add(9, "b"), "equal or smaller")) << "a replay is refused";
  EXPECT_TRUE(absl::StrContains(Add(0, "a"), "equal or smaller"));
  EXPECT_EQ(redis_->Text({"XLEN", "s"}), "2");
}

TEST_F(RedisFactsTest, AReplayIsRefusedEvenAfterXdelAndTrimming) {
  EXPECT_EQ(Add(0, "a"), "0-1");
  EXPECT_EQ(Add(9, "b"), "9-1");
  EXPECT_EQ(redis_->Text({"XDEL", "s", "9-1"}), "1");
  EXPECT_TRUE(absl::StrContains(Add(9, "b"), "equal or smaller"));
  EXPECT_EQ(redis_->Text({"XTRIM", "s", "MAXLEN", "0"}), "1");
  EXPECT_TRUE(absl::StrContains(Add(0, "a"), "equal or smaller"));
}

TEST_F(RedisFactsTest, XrangeByBarePositionsSelectsThosePositions) {
  Add(0, "a");
  Add(9, "bb");
  Add(19, "c");
  auto reply = redis_->Command({"XRANGE", "s", "9", "19"});
  ASSERT_TRUE(reply.ok());
  auto entries = DecodeEntries("s", reply->get());
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].position, 9u);
  EXPECT_EQ((*entries)[1].position, 19u);
}

}  // namespace
}  // namespace bridge
