// SHMIO_DEBUG=true in the environment turns debug checks on, as in the
// original, for readers and writers opened without the option. This test
// has its own binary because the variable is read once per process: the
// test sets it before anything in the process asks.
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::testing::HasSubstr;

TEST(DebugEnvTest, ShmioDebugTrueAddsTheTrailingSizeCheckToEveryReader) {
  setenv("SHMIO_DEBUG", "true", /*overwrite=*/1);
  ASSERT_TRUE(shmio::DebugFromEnvironment());

  std::string path = shmio_test::TempPath("debug-env");
  {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path, .capacity = 4096});
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_TRUE(w->shm->debug_checks());
    ASSERT_TRUE(w->pool->Append(shmio_test::PatternPayload(1, 10)).ok());
    ASSERT_TRUE(w->pool->Append(shmio_test::PatternPayload(2, 10)).ok());
    ASSERT_TRUE(w->pool->Commit().ok());
  }
  shmio_test::WriteU16At(path, 256 + 14 - 2, 77);  // frame 0's trailing size

  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open({.path = path, .debug_checks = false});
  ASSERT_TRUE(shm.ok()) << shm.status();
  EXPECT_TRUE((*shm)->debug_checks()) << "the environment turns them on";
  shmio::FrameRange frames(**shm, 256, 256 + 28);
  int count = 0;
  for (const shmio::Frame& frame : frames) {
    (void)frame;
    ++count;
  }
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(absl::IsDataLoss(frames.status())) << frames.status();
  EXPECT_THAT(std::string(frames.status().message()), HasSubstr("[DEBUG]"));
}

}  // namespace
