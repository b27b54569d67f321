// Files written by the original Node.js library have no doorbell (their
// writer never rings): auto mode follows them by polling, and inotify mode
// refuses them with a message that says what to use instead.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "shmio/format.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

// basic.json: 153 committed frames, then 3 written but never committed;
// frame i has ((i*37) % 200) + 1 bytes, byte j = (i*31 + j*7) & 0xff.
constexpr uint64_t kCommittedFrames = 153;
constexpr uint64_t kAllFrames = 156;
constexpr uint64_t kEndOfAllFrames = 16334;

bool IsNodeFrame(uint64_t i, absl::Span<const uint8_t> payload) {
  if (payload.size() != (i * 37) % 200 + 1) return false;
  for (size_t j = 0; j < payload.size(); ++j) {
    if (payload[j] != static_cast<uint8_t>((i * 31 + j * 7) & 0xff)) {
      return false;
    }
  }
  return true;
}

class NodeFixtureTest : public LoopTest {
 protected:
  // A writable copy of basic.shm in $TEST_TMPDIR.
  std::string CopyOfBasic() {
    std::string from = absl::StrCat(getenv("TEST_SRCDIR"),
                                    "/shmio/tests/fixtures/node-shmio/basic.shm");
    std::string to = absl::StrCat(getenv("TEST_TMPDIR"), "/basic-", getpid(),
                                  "-", ++copies_, ".shm");
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
    EXPECT_TRUE(in.good() && out.good()) << "copy " << from << " to " << to;
    return to;
  }
  int copies_ = 0;
};

TEST_F(NodeFixtureTest, AutoModeFollowsANodeFileByPolling) {
  std::string path = CopyOfBasic();
  std::vector<bool> good;
  uvwatch::Options options;  // auto
  options.poll_interval_ms = 1;
  options.max_frames_per_batch = 50;
  auto sub = Subscription::Open(
      &loop_, path, options,
      [&](const shmio::Batch& batch) {
        for (const shmio::Frame& frame : batch.frames) {
          good.push_back(IsNodeFrame(good.size(), frame.payload));
        }
      },
      [](const absl::Status& error) { ADD_FAILURE() << error; });
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->mode(), Mode::kTimer);
  RunUntil([&] { return good.size() >= kCommittedFrames; },
           "the fixture's committed frames");
  EXPECT_EQ(good.size(), kCommittedFrames);

  // Commit the three frames the Node writer left uncommitted, the way it
  // would: store the new `committed` into the header. No doorbell rings;
  // the poll timer finds them.
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  uint8_t committed[8];
  shmio::format::EncodeU64(committed, kEndOfAllFrames);
  ASSERT_EQ(pwrite(fd, committed, 8, shmio::format::kCommittedOffset), 8);
  close(fd);
  RunUntil([&] { return good.size() >= kAllFrames; }, "the three new frames");
  EXPECT_EQ(good.size(), kAllFrames);
  EXPECT_EQ(std::count(good.begin(), good.end(), true),
            static_cast<long>(kAllFrames));
  CloseAndWait(*sub);
}

TEST_F(NodeFixtureTest, InotifyModeOnANodeFileSaysToUseAutoOrTimer) {
  std::string path = CopyOfBasic();
  uvwatch::Options options;
  options.mode = Mode::kInotify;
  auto sub = Subscription::Open(
      &loop_, path, options, [](const shmio::Batch&) {},
      [](const absl::Status&) {});
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(sub.status().message(), "auto or timer"))
      << sub.status();
  EXPECT_TRUE(absl::StrContains(sub.status().message(), path)) << sub.status();
}

}  // namespace
}  // namespace uvwatch_test
