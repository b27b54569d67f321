// A chain Subscription as a named reader (Options::reader_name): it starts
// at the name's acknowledged position (Options::start only for a new name),
// acknowledges each batch after its callback returns (not when the callback
// closed it), or only where the caller says with auto_ack off; a second
// live reader with the name is refused naming the pid; retention keeps what
// a slow named subscription has not acknowledged under the writer's wait
// policy, and under the drop policies the subscription hears OutOfRange
// from the core. The writer is a ChainWriter in this process: the tests
// need its errors (the wait policy's ResourceExhausted), and the
// subscription only reads files.
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/format.h"
#include "shmio/reader_table.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Subscription;

// A file a page and a bit long (a doorbell needs a page): 200 frames.
constexpr uint64_t kFramesPerFile = 200;
constexpr uint64_t kFileCapacity =
    shmio::format::kExtendedDataOffset + kFramesPerFile * kEachFrameBytes;

uint64_t PositionOf(uint64_t frame) { return frame * kEachFrameBytes; }

class NamedSubscriptionTest : public LoopTest {
 protected:
  void OpenWriter(shmio::ChainOptions options = {}) {
    options.directory = dir_.path();
    options.create = true;
    options.file_capacity = kFileCapacity;
    auto writer = shmio::ChainWriter::Open(options);
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
  }

  // Appends and commits frames [first, first + count), one a commit; stops
  // at the first error and returns it.
  absl::Status Commit(uint64_t first, uint64_t count) {
    for (uint64_t n = first; n < first + count; ++n) {
      absl::Status status = writer_->Append(NumberedPayload(n, kEachPayloadBytes));
      if (status.ok()) status = writer_->Commit();
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  uvwatch::Options Named(const std::string& name) {
    uvwatch::Options options;
    options.reader_name = name;
    options.poll_interval_ms = 1;
    return options;
  }

  absl::StatusOr<Subscription*> Open(const uvwatch::Options& options, Recorder& got) {
    return Subscription::OpenChain(&loop_, dir_.path(), options, got.OnBatch(), got.OnError());
  }

  // The name's acknowledged position in the reader table.
  uint64_t Acked(const std::string& name) {
    auto settings = shmio::ReadChainSettings(dir_.path());
    EXPECT_TRUE(settings.ok()) << settings.status();
    auto table = shmio::ReaderTable::Open(dir_.path(), settings->chain_id, false);
    EXPECT_TRUE(table.ok()) << table.status();
    if (!table.ok()) return UINT64_MAX;
    auto readers = (*table)->List();
    EXPECT_TRUE(readers.ok()) << readers.status();
    for (const shmio::NamedReaderInfo& reader : *readers) {
      if (reader.name == name) return reader.position;
    }
    return UINT64_MAX;
  }

  ShmDir dir_{"named-sub"};
  std::unique_ptr<shmio::ChainWriter> writer_;
};

TEST_F(NamedSubscriptionTest, AutoAckResumesAfterTheLastBatchAndStartOnlyAppliesToANewName) {
  OpenWriter();
  ASSERT_TRUE(Commit(0, 3 * kFramesPerFile + 10).ok());
  Recorder first;
  uvwatch::Options options = Named("auto");
  options.start = uvwatch::Start::kCursor;
  options.cursor = PositionOf(10);  // a new name: starts here
  auto sub = Open(options, first);
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return first.numbers.size() >= 3 * kFramesPerFile; }, "the frames from 10");
  EXPECT_TRUE(first.IsRun(10, 3 * kFramesPerFile));
  EXPECT_EQ(Acked("auto"), PositionOf(3 * kFramesPerFile + 10)) << "each batch acknowledged";
  CloseAndWait(*sub);

  ASSERT_TRUE(Commit(3 * kFramesPerFile + 10, 250).ok());
  Recorder second;
  sub = Open(options, second);  // the same start: ignored for a known name
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return second.numbers.size() >= 250; }, "the frames since");
  EXPECT_TRUE(second.IsRun(3 * kFramesPerFile + 10, 250));
  EXPECT_TRUE(second.errors.empty());
  CloseAndWait(*sub);
}

TEST_F(NamedSubscriptionTest, WithoutAutoAckOnlyWhatTheCallerAcknowledgesIsDone) {
  OpenWriter();
  ASSERT_TRUE(Commit(0, 100).ok());
  uvwatch::Options options = Named("manual");
  options.auto_ack = false;
  options.max_frames_per_batch = 30;
  Recorder got;
  uint64_t batches = 0;
  Subscription* sub = nullptr;
  auto opened = Subscription::OpenChain(
      &loop_, dir_.path(), options,
      [&](const shmio::Batch& batch) {
        got.Record(batch);
        // Acknowledges the first two batches only.
        if (++batches <= 2) {
          EXPECT_TRUE(sub->Ack(batch.next_cursor).ok());
        }
      },
      got.OnError());
  ASSERT_TRUE(opened.ok()) << opened.status();
  sub = *opened;
  RunUntil([&] { return got.numbers.size() >= 100; }, "every frame");
  EXPECT_EQ(Acked("manual"), PositionOf(60));
  EXPECT_TRUE(absl::IsInvalidArgument(sub->Ack(PositionOf(101)))) << "past what it read";
  CloseAndWait(sub);

  Recorder again;
  auto reopened = Open(Named("manual"), again);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  RunUntil([&] { return again.numbers.size() >= 40; }, "the unacknowledged frames");
  EXPECT_TRUE(again.IsRun(60, 40)) << "delivered again from the acknowledgement";
  CloseAndWait(*reopened);
}

TEST_F(NamedSubscriptionTest, ACallbackThatClosesTheSubscriptionDoesNotAcknowledgeItsBatch) {
  OpenWriter();
  ASSERT_TRUE(Commit(0, 50).ok());
  Recorder got;
  Subscription* sub = nullptr;
  auto opened = Subscription::OpenChain(
      &loop_, dir_.path(), Named("closer"),
      [&](const shmio::Batch& batch) {
        got.Record(batch);
        sub->Close();
      },
      got.OnError());
  ASSERT_TRUE(opened.ok()) << opened.status();
  sub = *opened;
  RunUntil([&] { return sub == nullptr || got.numbers.size() >= 50; }, "the batch");
  RunTurns(3);  // the close callbacks
  EXPECT_EQ(Acked("closer"), 0u);
  Recorder again;
  auto reopened = Open(Named("closer"), again);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  RunUntil([&] { return again.numbers.size() >= 50; }, "the batch again");
  EXPECT_TRUE(again.IsRun(0, 50));
  CloseAndWait(*reopened);
}

TEST_F(NamedSubscriptionTest, ASecondLiveReaderWithTheNameIsRefusedNamingThePid) {
  OpenWriter();
  Recorder got;
  auto first = Open(Named("only"), got);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Open(Named("only"), got);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat("pid ", getpid())))
      << second.status();
  CloseAndWait(*first);
  // A single file has no named readers; an unnamed one does not acknowledge.
  const std::string file = shmio::ChainPath(dir_.path(), shmio::ChainFileName(0));
  auto on_file = Subscription::Open(&loop_, file, Named("x"), got.OnBatch(), got.OnError());
  EXPECT_TRUE(absl::IsInvalidArgument(on_file.status())) << on_file.status();
  auto plain = Open(uvwatch::Options{}, got);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*plain)->Ack(0)));
  CloseAndWait(*plain);
  RunTurns(1);  // the failed Open()s' half-made watchers
}

TEST_F(NamedSubscriptionTest, TheWaitPolicyKeepsEveryFrameForASlowSubscription) {
  shmio::ChainOptions options;
  options.retain_files = 3;
  OpenWriter(options);
  Recorder got;
  auto sub = Open(Named("slow"), got);
  ASSERT_TRUE(sub.ok()) << sub.status();
  // The loop does not run: the reader acknowledges nothing, and the writer
  // may not remove what it still needs.
  uint64_t next = 0;
  absl::Status status;
  for (; next < 20 * kFramesPerFile && status.ok(); ++next) status = Commit(next, 1);
  ASSERT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "reader \"slow\"")) << status;
  --next;  // the failed one
  // Once the loop runs, every frame comes, from 0, and the acknowledgements
  // let the writer go on.
  RunUntil([&] { return got.numbers.size() >= next; }, "every frame the writer kept");
  for (int round = 0; round < 10; ++round) {
    RunUntil([&] { return Acked("slow") == PositionOf(next); }, "the acknowledgement");
    ASSERT_TRUE(Commit(next, kFramesPerFile).ok());
    next += kFramesPerFile;
    RunUntil([&] { return got.numbers.size() >= next; }, "the new frames");
  }
  EXPECT_TRUE(got.IsRun(0, next)) << got.numbers.size() << " frames";
  EXPECT_TRUE(got.errors.empty());
  EXPECT_GT(writer_->files_removed(), 0u);
  CloseAndWait(*sub);
}

// The drop policies: drop_slow_readers, and max_reader_lag under the wait
// policy.
class NamedDropTest : public NamedSubscriptionTest,
                      public ::testing::WithParamInterface<bool> {};

TEST_P(NamedDropTest, ADroppedSubscriptionHearsOutOfRangeNamingWhatItLost) {
  shmio::ChainOptions options;
  options.retain_files = 3;
  if (GetParam()) {
    options.drop_slow_readers = true;
  } else {
    options.max_reader_lag = 2 * kFileCapacity;
  }
  OpenWriter(options);
  Recorder got;
  auto sub = Open(Named("dropped"), got);
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(Commit(0, 12 * kFramesPerFile).ok()) << "the writer never waits";
  RunUntil([&] { return !got.errors.empty(); }, "the error");
  EXPECT_TRUE(got.numbers.empty()) << "dropped before it read anything";
  const absl::Status& error = got.errors.front();
  EXPECT_TRUE(absl::IsOutOfRange(error)) << error;
  EXPECT_TRUE(absl::StrContains(error.message(), "reader \"dropped\" was dropped")) << error;
  EXPECT_TRUE(absl::StrContains(error.message(), "--reset dropped")) << error;
  CloseAndWait(*sub);
}

INSTANTIATE_TEST_SUITE_P(Policies, NamedDropTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "drop_slow_readers"
                                                         : "max_reader_lag");
                         });

}  // namespace
}  // namespace uvwatch_test
