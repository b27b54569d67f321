// Runs each example as a user would (a separate program, its own child
// processes) and checks that it exits 0 and printed what its reader got.
#include <stdio.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace {

struct ExampleRun {
  int exit_code = -1;
  std::string output;
};

ExampleRun RunExample(const std::string& name) {
  std::string path =
      absl::StrCat(std::getenv("TEST_SRCDIR"), "/shmio/examples/", name);
  ExampleRun run;
  FILE* pipe = popen(path.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen " << path;
    return run;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

TEST(ExamplesTest, QuickstartReadsBackWhatItWrote) {
  ExampleRun run = RunExample("quickstart");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "\"hello from shmio\"")) << run.output;
  EXPECT_TRUE(absl::StrContains(
      run.output, "\"this one woke the reader through the doorbell\""))
      << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "done: read 3 frames")) << run.output;
}

TEST(ExamplesTest, EventSourcingRebuildsThenFollows) {
  ExampleRun run = RunExample("event_sourcing");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "rebuilt state from 303 events"))
      << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "ok: applied 403 of 403 events"))
      << run.output;
}

TEST(ExamplesTest, ChainLedgerFollowsEveryRoll) {
  ExampleRun run = RunExample("chain_ledger");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "ok: applied 20003 of 20003 events from "))
      << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "writer: ")) << run.output;
}

TEST(ExamplesTest, SystemMonitoringPrintsEveryEntry) {
  ExampleRun run = RunExample("system_monitoring");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "[ERROR] lost connection to db-1"))
      << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "monitor: 9 entries")) << run.output;
}

TEST(ExamplesTest, BatchedIpcDeliversEveryOrderInOrder) {
  ExampleRun run = RunExample("batched_ipc");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "received 1280 orders in order"))
      << run.output;
}

TEST(ExamplesTest, BusyPollIpcAcksEveryOrderInOrder) {
  ExampleRun run = RunExample("busy_poll_ipc");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(absl::StrContains(run.output, "1000 orders, 1000 acked in order"))
      << run.output;
}

}  // namespace
