// //bench:micro must keep working: a filtered, very short run prints the
// shmio and reference rows, the ratio and target lines, and the doorbell
// counter shows that an unarmed Commit() never rings while an armed one
// rings every time. No timing is asserted.
#include <string>

#include "gtest/gtest.h"
#include "tests/bench/run_program.h"

namespace bench_test {
namespace {

TEST(MicroSmokeTest, ShortRunPrintsRatiosTargetsAndDoorbellCounts) {
  ProgramResult run = RunProgram(
      RunfilePath("bench/micro"),
      {"--benchmark_min_time=0.01",
       "--benchmark_filter=commit_every:1000/payload:32/prefault:1|"
       "BM_Forward.*/payload:32|BM_Reverse.*/payload:32|BM_CommitDoorbell|"
       "BM_BatchShmio/max_frames:64"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out.find("ERROR OCCURRED"), std::string::npos) << run.out;

  for (const char* prefix :
       {"ratio name=BM_AppendCommit/commit_every:1000/payload:32/prefault:1 ",
        "ratio name=BM_Forward/payload:32 ", "ratio name=BM_Reverse/payload:32 "}) {
    const std::vector<std::string> lines = LinesStartingWith(run.out, prefix);
    ASSERT_EQ(lines.size(), 1u) << prefix << "\n" << run.out;
    EXPECT_NE(Field(lines[0], "shmio_vs_reference"), "") << lines[0];
  }
  const std::vector<std::string> targets = LinesStartingWith(run.out, "target ");
  ASSERT_EQ(targets.size(), 2u) << run.out;
  for (const std::string& line : targets) {
    const std::string result = Field(line, "result");
    EXPECT_TRUE(result == "PASS" || result == "MISS") << line;
  }
  EXPECT_EQ(LinesStartingWith(run.out, "BM_BatchShmio/max_frames:64/payload:32").size(), 1u);

  // The last column of the doorbell rows is rings_per_commit.
  const std::vector<std::string> unarmed =
      LinesStartingWith(run.out, "BM_CommitDoorbell/armed:0");
  const std::vector<std::string> armed =
      LinesStartingWith(run.out, "BM_CommitDoorbell/armed:1");
  ASSERT_EQ(unarmed.size(), 1u) << run.out;
  ASSERT_EQ(armed.size(), 1u) << run.out;
  EXPECT_EQ(unarmed[0].substr(unarmed[0].find_last_not_of(' ') ), "0") << unarmed[0];
  EXPECT_EQ(armed[0].substr(armed[0].find_last_not_of(' ')), "1") << armed[0];
}

}  // namespace
}  // namespace bench_test
