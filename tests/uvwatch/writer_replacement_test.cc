// A writer may die (SIGKILL, mid-batch) and a new writer take over the same
// file: the subscription keeps delivering, never shows the dead writer's
// uncommitted frames, and is woken by the new writer's doorbell.
#include "gtest/gtest.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

class WriterReplacementTest : public LoopTest,
                              public ::testing::WithParamInterface<Mode> {};

TEST_P(WriterReplacementTest, WriterKilledAndReplacedKeepsDelivering) {
  ShmFile file("replace-writer");
  auto first = ChildWriter::Start(file.path());
  ASSERT_NE(first, nullptr);
  first->Commit(0, 50);

  Recorder got;
  uvwatch::Options options;
  options.mode = GetParam();
  options.poll_interval_ms = 1;
  options.safety_interval_ms = 30000;  // wake-ups come from the doorbell
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return got.numbers.size() >= 50; }, "the first writer's");
  RunTurns(2);

  // Dies with frames appended but not committed: numbered 1000.., they must
  // never be delivered.
  first->AppendOnly(1000, 10);
  first->Kill();

  auto second = ChildWriter::Start(file.path());
  ASSERT_NE(second, nullptr);
  second->Commit(50, 25);
  RunUntil([&] { return got.numbers.size() >= 75; }, "the second writer's");
  second->Kill();  // a crash between batches, this time

  auto third = ChildWriter::Start(file.path());
  ASSERT_NE(third, nullptr);
  third->Commit(75, 25);
  RunUntil([&] { return got.numbers.size() >= 100; }, "the third writer's");

  EXPECT_TRUE(got.IsRun(0, 100));
  EXPECT_TRUE(got.errors.empty());
  EXPECT_EQ(third->Finish(), 0);
  CloseAndWait(*sub);
}

INSTANTIATE_TEST_SUITE_P(Modes, WriterReplacementTest,
                         ::testing::Values(Mode::kTimer, Mode::kAuto),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(uvwatch::ModeName(info.param));
                         });

}  // namespace
}  // namespace uvwatch_test
