// Named readers of a chain (reader_table.h, ChainConsumer::OpenNamed):
// acknowledged positions that survive restarts and crashes, one live reader
// per name, liveness by lock, retention that never removes what a named
// reader still needs, the writer's back-pressure and drop policies, and a
// damaged reader table.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/reader_table.h"
#include "tests/shmio/test_util.h"

namespace {

using shmio::ChainConsumer;
using shmio::ChainOptions;
using shmio::ChainWriter;
using shmio_test::PatternPayload;
using shmio_test::TempPath;

constexpr uint64_t kFileCapacity = 4096;

std::vector<uint8_t> PayloadOf(uint64_t i) { return PatternPayload(i, 1 + i % 97); }

std::unique_ptr<ChainWriter> NewChain(const std::string& dir, ChainOptions options = {}) {
  options.directory = dir;
  options.create = true;
  options.file_capacity = kFileCapacity;
  auto writer = ChainWriter::Open(options);
  EXPECT_TRUE(writer.ok()) << writer.status();
  return writer.ok() ? *std::move(writer) : nullptr;
}

absl::Status AppendFrames(ChainWriter& writer, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; ++i) {
    absl::Status status = writer.Append(PayloadOf(i));
    if (!status.ok()) return status;
    status = writer.Commit();
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// Reads up to `limit` frames, checking they are frames first, first+1, ...
absl::StatusOr<uint64_t> ReadFrames(ChainConsumer& consumer, uint64_t first, uint64_t limit) {
  uint64_t read = 0;
  while (read < limit) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next({limit - read, SIZE_MAX});
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    for (const shmio::Frame& frame : batch->frames) {
      if (std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()) != PayloadOf(first + read)) {
        return absl::DataLossError(absl::StrCat("frame ", first + read, " is not what was written"));
      }
      ++read;
    }
  }
  return read;
}

std::vector<shmio::NamedReaderInfo> Readers(const std::string& dir) {
  auto settings = shmio::ReadChainSettings(dir);
  EXPECT_TRUE(settings.ok());
  auto table = shmio::ReaderTable::Open(dir, settings->chain_id, false);
  EXPECT_TRUE(table.ok()) << table.status();
  if (!table.ok()) return {};
  auto readers = (*table)->List();
  EXPECT_TRUE(readers.ok()) << readers.status();
  return readers.ok() ? *readers : std::vector<shmio::NamedReaderInfo>{};
}

TEST(NamedReaderTest, ARestartedReaderResumesAtItsAcknowledgedPosition) {
  const std::string dir = TempPath("chain");
  auto writer = NewChain(dir);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(AppendFrames(*writer, 0, 1000).ok());
  uint64_t acked = 0;
  {
    auto reader = ChainConsumer::OpenNamed(dir, "billing");
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->name(), "billing");
    ASSERT_EQ(*ReadFrames(**reader, 0, 300), 300u);
    acked = (*reader)->cursor();
    ASSERT_TRUE((*reader)->Ack().ok());
    ASSERT_EQ(*ReadFrames(**reader, 300, 50), 50u);  // read, never acknowledged
    EXPECT_TRUE(absl::IsInvalidArgument((*reader)->Ack((*reader)->cursor() + 1)));
  }
  auto reader = ChainConsumer::OpenNamed(dir, "billing");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->cursor(), acked);
  EXPECT_EQ((*reader)->acked(), acked);
  EXPECT_EQ(*ReadFrames(**reader, 300, 10000), 700u) << "delivered again from the acknowledgement";
  // An unnamed reader does not acknowledge.
  auto plain = ChainConsumer::Open(dir);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*plain)->Ack(0)));
}

TEST(NamedReaderTest, AKilledReaderResumesAtItsAcknowledgedPositionAndShowsAsDead) {
  const std::string dir = TempPath("chain");
  auto writer = NewChain(dir);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(AppendFrames(*writer, 0, 2000).ok());
  shmio_test::Pipe acked_at;
  shmio_test::ScopedChild child(shmio_test::ForkChild([&] {
    auto reader = ChainConsumer::OpenNamed(dir, "audit");
    if (!reader.ok()) return 2;
    if (!ReadFrames(**reader, 0, 1234).ok()) return 3;
    if (!(*reader)->Ack().ok()) return 4;
    acked_at.Send((*reader)->cursor());
    pause();  // until SIGKILL: no destructor runs
    return 0;
  }));
  uint64_t acked = 0;
  ASSERT_TRUE(acked_at.Receive(&acked));
  std::vector<shmio::NamedReaderInfo> readers = Readers(dir);
  ASSERT_EQ(readers.size(), 1u);
  EXPECT_TRUE(readers[0].alive);
  EXPECT_EQ(readers[0].pid, static_cast<uint64_t>(child.pid()));
  EXPECT_EQ(readers[0].position, acked);
  EXPECT_GT(readers[0].acked_at_ns, 0u);
  // While it lives its name is taken, here too.
  auto second = ChainConsumer::OpenNamed(dir, "audit");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat("pid ", child.pid())))
      << second.status();

  EXPECT_EQ(child.Kill(), 128 + SIGKILL);
  readers = Readers(dir);
  ASSERT_EQ(readers.size(), 1u);
  EXPECT_FALSE(readers[0].alive) << "the kernel released its lock";
  auto reader = ChainConsumer::OpenNamed(dir, "audit");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->cursor(), acked);
  EXPECT_EQ(*ReadFrames(**reader, 1234, 10000), 2000u - 1234u);
}

TEST(NamedReaderTest, TwoReadersWithOneNameInOneProcessAreRefused) {
  const std::string dir = TempPath("chain");
  auto writer = NewChain(dir);
  ASSERT_NE(writer, nullptr);
  auto first = ChainConsumer::OpenNamed(dir, "same");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ChainConsumer::OpenNamed(dir, "same");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.status().message(), absl::StrCat("pid ", getpid())))
      << second.status();
  auto other = ChainConsumer::OpenNamed(dir, "other");
  EXPECT_TRUE(other.ok()) << other.status();
  auto bad = ChainConsumer::OpenNamed(dir, "no spaces/slashes");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
}

TEST(NamedReaderTest, RetentionKeepsWhatANamedReaderNeedsAndTheAppendWaits) {
  const std::string dir = TempPath("chain");
  ChainOptions options;
  options.retain_files = 3;
  auto writer = NewChain(dir, options);
  ASSERT_NE(writer, nullptr);
  auto reader = ChainConsumer::OpenNamed(dir, "slow");
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::Status status;
  uint64_t i = 0;
  for (; i < 5000 && status.ok(); ++i) status = AppendFrames(*writer, i, i + 1);
  ASSERT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "reader \"slow\"")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "bytes behind the writer")) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "Shared memory exhausted")) << status;
  // Nothing the reader needs is gone: it reads every frame from 0.
  const uint64_t committed = i - 1;  // the last append failed
  EXPECT_EQ(*ReadFrames(**reader, 0, 100000), committed);
  // A reader that keeps acknowledging lets the writer go on, and
  // retention removes what it is done with.
  uint64_t next = committed;
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE((*reader)->Ack().ok());
    absl::Status after = AppendFrames(*writer, next, next + 100);
    ASSERT_TRUE(after.ok()) << after;
    ASSERT_EQ(*ReadFrames(**reader, next, 100), 100u);
    next += 100;
  }
  EXPECT_GT(writer->files_removed(), 0u);
}

TEST(NamedReaderTest, TheDropPolicyDropsASlowReaderWhichIsToldWhatItLost) {
  const std::string dir = TempPath("chain");
  ChainOptions options;
  options.retain_files = 3;
  options.drop_slow_readers = true;
  auto writer = NewChain(dir, options);
  ASSERT_NE(writer, nullptr);
  auto reader = ChainConsumer::OpenNamed(dir, "lagging");
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(AppendFrames(*writer, 0, 3000).ok()) << "the writer never waits";
  absl::StatusOr<shmio::Batch> batch = (*reader)->Next();
  ASSERT_FALSE(batch.ok());
  EXPECT_TRUE(absl::IsOutOfRange(batch.status())) << batch.status();
  EXPECT_TRUE(absl::StrContains(batch.status().message(), "was dropped")) << batch.status();
  std::vector<shmio::NamedReaderInfo> readers = Readers(dir);
  ASSERT_EQ(readers.size(), 1u);
  EXPECT_TRUE(readers[0].dropped);
  EXPECT_EQ(readers[0].dropped_at, 0u);
  EXPECT_TRUE(absl::StrContains(batch.status().message(),
                                absl::StrCat(readers[0].resume_at - readers[0].dropped_at, " bytes lost")))
      << batch.status();
  // It goes on where the chain now starts, and is no longer dropped.
  absl::Status seeked = (*reader)->SeekToBeginning();
  ASSERT_TRUE(seeked.ok()) << seeked;
  absl::StatusOr<shmio::Batch> resumed = (*reader)->Next();
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_FALSE(resumed->empty());
  EXPECT_FALSE(Readers(dir)[0].dropped);
}

TEST(NamedReaderTest, AReaderPastMaxReaderLagIsDroppedUnderTheWaitPolicyToo) {
  const std::string dir = TempPath("chain");
  ChainOptions options;
  options.retain_files = 3;
  options.max_reader_lag = 2 * kFileCapacity;
  auto writer = NewChain(dir, options);
  ASSERT_NE(writer, nullptr);
  auto reader = ChainConsumer::OpenNamed(dir, "far-behind");
  ASSERT_TRUE(reader.ok());
  absl::Status appended = AppendFrames(*writer, 0, 3000);
  ASSERT_TRUE(appended.ok()) << appended;
  EXPECT_TRUE(Readers(dir)[0].dropped);
  EXPECT_TRUE(absl::IsOutOfRange((*reader)->Next().status()));
}

TEST(NamedReaderTest, ADamagedReaderTableIsAnErrorNamingIt) {
  const std::string dir = TempPath("chain");
  auto writer = NewChain(dir);
  ASSERT_NE(writer, nullptr);
  { ASSERT_TRUE(ChainConsumer::OpenNamed(dir, "x").ok()); }
  const std::string table = shmio::ChainPath(dir, shmio::kReaderTableFileName);
  const std::vector<uint8_t> good = shmio_test::ReadFileBytes(table);

  shmio_test::CorruptByte(table, 0);  // magic
  auto reader = ChainConsumer::OpenNamed(dir, "x");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(absl::IsDataLoss(reader.status())) << reader.status();
  EXPECT_TRUE(absl::StrContains(reader.status().message(), table)) << reader.status();

  shmio_test::WriteFileBytes(table, good);
  shmio_test::CorruptByte(table, 128, 7);  // slot 0's state
  reader = ChainConsumer::OpenNamed(dir, "x");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(absl::StrContains(reader.status().message(), "slot 0 is damaged")) << reader.status();

  shmio_test::WriteFileBytes(table, good);
  shmio_test::CorruptByte(table, 128 + 4, 200);  // slot 0's name length
  reader = ChainConsumer::OpenNamed(dir, "x");
  EXPECT_TRUE(absl::IsDataLoss(reader.status())) << reader.status();

  shmio_test::TruncateTo(table, 100);
  reader = ChainConsumer::OpenNamed(dir, "x");
  EXPECT_TRUE(absl::IsDataLoss(reader.status())) << reader.status();
  EXPECT_EQ(shmio_test::FileSize(table), 100u) << "a damaged table is left as it is";
}

}  // namespace
