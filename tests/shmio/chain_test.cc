// Chains of files (chain_writer.h, chain_consumer.h, chain_range.h): a
// writer that rolls when a file is full, positions that run on across
// files, batches that stay whole across a roll, readers in this and other
// processes that follow rolls by themselves, retention, and the errors for
// a directory that is not one whole chain. Real files in $TEST_TMPDIR, real
// processes; small file capacities so that a few thousand frames roll
// hundreds of times.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_range.h"
#include "shmio/chain_writer.h"
#include "shmio/consumer.h"
#include "shmio/format.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using shmio::ChainConsumer;
using shmio::ChainOptions;
using shmio::ChainStart;
using shmio::ChainWriter;
using shmio_test::PatternPayload;
using shmio_test::TempPath;

constexpr uint64_t kFileCapacity = 4096;

// Frame i's payload: a deterministic pattern of 1 + i % 97 bytes.
std::vector<uint8_t> PayloadOf(uint64_t i) { return PatternPayload(i, 1 + i % 97); }
uint64_t FrameBytes(uint64_t i) { return PayloadOf(i).size() + shmio::format::kFrameOverhead; }

ChainOptions NewChain(const std::string& dir) {
  ChainOptions options;
  options.directory = dir;
  options.create = true;
  options.file_capacity = kFileCapacity;
  return options;
}

std::unique_ptr<ChainWriter> OpenOrDie(ChainOptions options) {
  absl::StatusOr<std::unique_ptr<ChainWriter>> writer = ChainWriter::Open(std::move(options));
  EXPECT_TRUE(writer.ok()) << writer.status();
  return writer.ok() ? *std::move(writer) : nullptr;
}

// Appends frames [from, to), committing every `batch` frames.
void AppendFrames(ChainWriter& writer, uint64_t from, uint64_t to, uint64_t batch = 1) {
  for (uint64_t i = from; i < to; ++i) {
    ASSERT_TRUE(writer.Append(PayloadOf(i)).ok()) << i;
    if ((i + 1 - from) % batch == 0) {
      ASSERT_TRUE(writer.Commit().ok());
    }
  }
  ASSERT_TRUE(writer.Commit().ok());
}

struct ReadFrame {
  uint64_t position;
  std::vector<uint8_t> payload;
};

// Everything a consumer reads from its cursor until it finds nothing new.
absl::StatusOr<std::vector<ReadFrame>> ReadAll(ChainConsumer& consumer) {
  std::vector<ReadFrame> frames;
  while (true) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    if (!batch.ok()) return batch.status();
    if (batch->empty()) return frames;
    for (const shmio::Frame& frame : batch->frames) {
      frames.push_back({batch->CursorOf(frame), {frame.payload.begin(), frame.payload.end()}});
    }
    if (batch->next_cursor != consumer.cursor()) {
      return absl::InternalError("next_cursor is not the consumer's cursor");
    }
  }
}

// Frames [first, first + frames.size()) were read, at continuous positions
// from `start`.
void ExpectFrames(const std::vector<ReadFrame>& frames, uint64_t first, uint64_t start) {
  uint64_t position = start;
  for (size_t k = 0; k < frames.size(); ++k) {
    ASSERT_EQ(frames[k].position, position) << "frame " << first + k;
    ASSERT_EQ(frames[k].payload, PayloadOf(first + k)) << "frame " << first + k;
    position += FrameBytes(first + k);
  }
}

uint64_t PositionAfter(uint64_t frames) {
  uint64_t position = 0;
  for (uint64_t i = 0; i < frames; ++i) position += FrameBytes(i);
  return position;
}

std::vector<shmio::ChainFileEntry> Files(const std::string& dir) {
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(dir);
  EXPECT_TRUE(listing.ok()) << listing.status();
  return listing.ok() ? listing->files : std::vector<shmio::ChainFileEntry>{};
}

// Every entry of `dir` with its bytes: to show nothing on disk changed.
std::map<std::string, std::vector<uint8_t>> Snapshot(const std::string& dir) {
  std::map<std::string, std::vector<uint8_t>> entries;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return entries;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    entries[name] = shmio_test::ReadFileBytes(dir + "/" + name);
  }
  closedir(d);
  return entries;
}

TEST(ChainTest, PositionsRunOnAcrossHundredsOfRolls) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  constexpr uint64_t kFrames = 8000;
  AppendFrames(*writer, 0, kFrames);
  EXPECT_GT(writer->rolls(), 100u);
  EXPECT_EQ(writer->GetSize().committed, PositionAfter(kFrames));
  EXPECT_EQ(writer->GetSize().uncommitted, PositionAfter(kFrames));

  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  absl::StatusOr<std::vector<ReadFrame>> frames = ReadAll(**consumer);
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), kFrames);
  ExpectFrames(*frames, 0, 0);
  EXPECT_EQ((*consumer)->cursor(), PositionAfter(kFrames));
  EXPECT_EQ((*consumer)->file_changes(), writer->rolls());
}

TEST(ChainTest, EachFileIsNamedByItsBasePositionAndIsALogOnItsOwn) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  constexpr uint64_t kFrames = 500;
  AppendFrames(*writer, 0, kFrames);
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_EQ(files.size(), writer->rolls() + 1);
  uint64_t frame = 0;
  for (size_t k = 0; k < files.size(); ++k) {
    const std::string name = files[k].path.substr(files[k].path.rfind('/') + 1);
    EXPECT_EQ(name, shmio::ChainFileName(files[k].base_position));
    EXPECT_EQ(name.size(), 24u);
    EXPECT_EQ(files[k].base_position, PositionAfter(frame)) << name;
    // Read alone, as `shmio dump FILE` and the Node library read it.
    auto shm = shmio_test::OpenReader(files[k].path);
    ASSERT_TRUE(shm.ok()) << shm.status();
    const bool last = k + 1 == files.size();
    EXPECT_EQ((*shm)->LoadSealedEnd() != 0, !last) << name << ": every file but the last is sealed";
    for (const std::vector<uint8_t>& payload : shmio_test::ReadCommittedPayloads(**shm)) {
      ASSERT_EQ(payload, PayloadOf(frame)) << name << " frame " << frame;
      ++frame;
    }
  }
  EXPECT_EQ(frame, kFrames);
}

TEST(ChainTest, ABatchIsSeenWholeAcrossARoll) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 30);  // part of the first file
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_EQ(ReadAll(**consumer)->size(), 30u);

  // A batch of 55 frames (3410 bytes) does not fit in what is left of the
  // first file (3840 - 585 bytes) but fits in a file: the roll happens in
  // its middle.
  const uint64_t rolls_before = writer->rolls();
  for (uint64_t i = 30; i < 85; ++i) {
    ASSERT_TRUE(writer->Append(PayloadOf(i)).ok());
    absl::StatusOr<std::vector<ReadFrame>> seen = ReadAll(**consumer);
    ASSERT_TRUE(seen.ok()) << seen.status();
    ASSERT_TRUE(seen->empty()) << "frame " << i << ": a reader saw part of an uncommitted batch";
  }
  EXPECT_EQ(writer->rolls(), rolls_before + 1);
  ASSERT_TRUE(writer->Commit().ok());
  absl::StatusOr<std::vector<ReadFrame>> seen = ReadAll(**consumer);
  ASSERT_TRUE(seen.ok()) << seen.status();
  ASSERT_EQ(seen->size(), 55u);
  ExpectFrames(*seen, 30, PositionAfter(30));

  // The whole batch is in the second file; the first ends before it.
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].base_position, PositionAfter(30));
  auto first = shmio_test::OpenReader(files[0].path);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(shmio_test::ReadCommittedPayloads(**first).size(), 30u);
  EXPECT_EQ((*first)->LoadSealedEnd(), shmio::format::kExtendedDataOffset + PositionAfter(30));
}

TEST(ChainTest, ABatchLargerThanAFileIsRefusedAndAFrameLargerThanAFileToo) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  std::vector<uint8_t> big(kFileCapacity, 1);
  absl::Status too_big = writer->Append(big);
  EXPECT_TRUE(absl::IsInvalidArgument(too_big)) << too_big;
  EXPECT_TRUE(absl::StrContains(too_big.message(), dir)) << too_big;

  absl::Status status;
  for (int i = 0; i < 200 && status.ok(); ++i) status = writer->Append(PayloadOf(96));
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "commit more often")) << status;
}

TEST(ChainTest, AReaderInAnotherProcessFollowsTheWriterAcrossRolls) {
  const std::string dir = TempPath("chain");
  {
    auto writer = OpenOrDie(NewChain(dir));  // the chain exists before the child runs
    ASSERT_NE(writer, nullptr);
  }
  constexpr uint64_t kFrames = 20000;
  shmio_test::ScopedChild child(shmio_test::ForkChild([&] {
    ChainOptions options;
    options.directory = dir;
    auto writer = ChainWriter::Open(options);
    if (!writer.ok()) return 2;
    for (uint64_t i = 0; i < kFrames; ++i) {
      if (!(*writer)->Append(PayloadOf(i)).ok()) return 3;
      if (i % 7 == 6 && !(*writer)->Commit().ok()) return 4;
    }
    return (*writer)->Commit().ok() ? 0 : 5;
  }));
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::vector<ReadFrame> frames;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (frames.size() < kFrames && absl::Now() < deadline) {
    absl::StatusOr<std::vector<ReadFrame>> more = ReadAll(**consumer);
    ASSERT_TRUE(more.ok()) << more.status();
    frames.insert(frames.end(), more->begin(), more->end());
    if (more->empty()) (*consumer)->SpinUntilNew(absl::Now() + absl::Milliseconds(10));
  }
  EXPECT_EQ(child.Wait(), 0);
  ASSERT_EQ(frames.size(), kFrames);
  ExpectFrames(frames, 0, 0);
  EXPECT_GT((*consumer)->file_changes(), 100u);
}

TEST(ChainTest, ASecondWriterIsRefusedNamingThePid) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  shmio_test::ScopedChild child(shmio_test::ForkChild([&] {
    ChainOptions options;
    options.directory = dir;
    auto second = ChainWriter::Open(options);
    if (second.ok()) return 1;
    if (!absl::IsFailedPrecondition(second.status())) return 2;
    if (!absl::StrContains(second.status().message(), absl::StrCat(getppid()))) return 3;
    return 0;
  }));
  EXPECT_EQ(child.Wait(), 0);
}

TEST(ChainTest, TheNextWriterContinuesThePositionsAndTheFiles) {
  const std::string dir = TempPath("chain");
  uint64_t files_before = 0;
  {
    auto writer = OpenOrDie(NewChain(dir));
    ASSERT_NE(writer, nullptr);
    AppendFrames(*writer, 0, 1000, 10);
    ASSERT_TRUE(writer->Append(PayloadOf(1000)).ok());  // never committed: lost
    files_before = Files(dir).size();
  }
  ChainOptions options;
  options.directory = dir;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->GetSize().committed, PositionAfter(1000));
  EXPECT_EQ(Files(dir).size(), files_before) << "it continues the last file";
  AppendFrames(*writer, 1000, 2000, 10);
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok());
  absl::StatusOr<std::vector<ReadFrame>> frames = ReadAll(**consumer);
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 2000u);
  ExpectFrames(*frames, 0, 0);
}

TEST(ChainTest, AChainCanStartAtAGivenPosition) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.first_position = 1000000;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 300);
  EXPECT_EQ(Files(dir).front().path, dir + "/00000000000001000000.shm");
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok());
  absl::StatusOr<std::vector<ReadFrame>> frames = ReadAll(**consumer);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 300u);
  ExpectFrames(*frames, 0, 1000000);
}

TEST(ChainTest, SeekingToSavedPositionsResumesExactly) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 2000);
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_GT(files.size(), 10u);

  // A position in the middle of a file, and one at a file boundary (the
  // end of a sealed file is the first frame of the next).
  for (uint64_t first : {uint64_t{777}, uint64_t{1500}}) {
    auto consumer = ChainConsumer::Open(dir, ChainStart{ChainStart::kPosition, PositionAfter(first)});
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    absl::StatusOr<std::vector<ReadFrame>> frames = ReadAll(**consumer);
    ASSERT_TRUE(frames.ok());
    ASSERT_EQ(frames->size(), 2000 - first);
    ExpectFrames(*frames, first, PositionAfter(first));
  }
  for (const shmio::ChainFileEntry& file : {files[3], files[8]}) {
    auto consumer = ChainConsumer::Open(dir, ChainStart{ChainStart::kPosition, file.base_position});
    ASSERT_TRUE(consumer.ok()) << consumer.status();
    absl::StatusOr<shmio::Batch> batch = (*consumer)->Next();
    ASSERT_TRUE(batch.ok());
    ASSERT_FALSE(batch->empty());
    EXPECT_EQ(batch->CursorOf(*batch->frames.begin()), file.base_position);
  }

  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok());
  absl::Status inside = (*consumer)->Seek(PositionAfter(5) + 1);
  EXPECT_TRUE(absl::IsInvalidArgument(inside)) << inside;
  absl::Status past = (*consumer)->Seek(PositionAfter(2000) + 5);
  EXPECT_TRUE(absl::IsOutOfRange(past)) << past;
  ASSERT_TRUE((*consumer)->SeekToEnd().ok());
  EXPECT_EQ((*consumer)->cursor(), PositionAfter(2000));
  AppendFrames(*writer, 2000, 2010);
  absl::StatusOr<std::vector<ReadFrame>> fresh = ReadAll(**consumer);
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ(fresh->size(), 10u);
  ExpectFrames(*fresh, 2000, PositionAfter(2000));
  ASSERT_TRUE((*consumer)->SeekToBeginning().ok());
  EXPECT_EQ((*consumer)->cursor(), 0u);
}

TEST(ChainTest, RangesRunForwardAndBackwardOverPositions) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 1200);
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok());

  absl::StatusOr<shmio::ChainFrameRange> all = (*consumer)->GetData();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->from(), 0u);
  EXPECT_EQ(all->to(), PositionAfter(1200));
  uint64_t i = 0;
  for (const shmio::ChainFrame& frame : *all) {
    ASSERT_EQ(frame.position, PositionAfter(i));
    ASSERT_EQ(std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()), PayloadOf(i));
    ++i;
  }
  EXPECT_TRUE(all->status().ok()) << all->status();
  EXPECT_EQ(i, 1200u);
  EXPECT_EQ((*consumer)->cursor(), 0u) << "GetData does not move the cursor";

  absl::StatusOr<shmio::ChainFrameRange> tail = (*consumer)->GetData(PositionAfter(1000));
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_EQ(std::distance(tail->begin(), tail->end()), 200);
  absl::StatusOr<shmio::ChainFrameRange> odd = (*consumer)->GetData(PositionAfter(1000) + 2);
  EXPECT_FALSE(odd.ok());

  absl::StatusOr<std::shared_ptr<shmio::ChainFiles>> files = shmio::ChainFiles::Open(dir, false);
  ASSERT_TRUE(files.ok());
  shmio::ReverseChainFrameRange backward(*files, 0, PositionAfter(1200));
  i = 1200;
  for (const shmio::ChainFrame& frame : backward) {
    --i;
    ASSERT_EQ(frame.position, PositionAfter(i));
    ASSERT_EQ(std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()), PayloadOf(i));
  }
  EXPECT_TRUE(backward.status().ok()) << backward.status();
  EXPECT_EQ(i, 0u);
}

TEST(ChainTest, RetentionRemovesOnlyOldSealedFiles) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.retain_files = 3;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  // A reader in the first file holds it open while retention removes it.
  auto early = ChainConsumer::Open(dir);
  ASSERT_TRUE(early.ok());
  AppendFrames(*writer, 0, 3000);
  // Retention runs on the preparer's thread after each roll: wait for it.
  const uint64_t expected_removed = writer->rolls() + 1 - 3;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((Files(dir).size() > 3 || writer->files_removed() < expected_removed) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(writer->files_removed(), expected_removed);
  // Files no reader held came back as new files; the early reader's was
  // only unlinked (it reads it whole below).
  EXPECT_GT(writer->files_recycled(), 0u);
  const uint64_t oldest = files.front().base_position;

  // A new reader starts at the oldest frame still there.
  auto fresh = ChainConsumer::Open(dir);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ((*fresh)->cursor(), oldest);
  absl::StatusOr<std::vector<ReadFrame>> kept = ReadAll(**fresh);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->back().position + kept->back().payload.size() + 4, PositionAfter(3000));

  // Seeking to a removed position names the oldest one still there.
  absl::Status gone = (*fresh)->Seek(0);
  EXPECT_TRUE(absl::IsOutOfRange(gone)) << gone;
  EXPECT_TRUE(absl::StrContains(gone.message(), absl::StrCat(oldest))) << gone;

  // The early reader reads its removed file to its end, then finds the next
  // one gone too: OutOfRange naming what it lost and where to go on.
  absl::StatusOr<shmio::Batch> batch = (*early)->Next();
  ASSERT_TRUE(batch.ok()) << batch.status();
  uint64_t i = 0;
  for (const shmio::Frame& frame : batch->frames) {
    ASSERT_EQ(batch->CursorOf(frame), PositionAfter(i));
    ASSERT_EQ(std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()), PayloadOf(i));
    ++i;
  }
  EXPECT_GT(i, 0u);
  EXPECT_LT(batch->next_cursor, oldest);
  absl::StatusOr<shmio::Batch> lost = (*early)->Next();
  ASSERT_FALSE(lost.ok());
  EXPECT_TRUE(absl::IsOutOfRange(lost.status())) << lost.status();
  EXPECT_TRUE(absl::StrContains(lost.status().message(), absl::StrCat("oldest position still in the chain is ", oldest)))
      << lost.status();
  ASSERT_TRUE((*early)->Seek(oldest).ok());
  absl::StatusOr<std::vector<ReadFrame>> resumed = ReadAll(**early);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->size(), kept->size());
}

TEST(ChainTest, RetentionByBytesKeepsTheChainUnderTheLimit) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.retain_bytes = 5 * kFileCapacity;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 3000);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Files(dir).size() > 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(Files(dir).size(), 5u);
  // The limit is stored: the next writer keeps applying it.
  absl::StatusOr<shmio::ChainSettings> settings = shmio::ReadChainSettings(dir);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->retain_bytes, 5 * kFileCapacity);
}

TEST(ChainTest, ForeignFilesAreIgnored) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 100);
  shmio_test::WriteFileBytes(dir + "/README.txt", std::vector<uint8_t>{'h', 'i'});
  shmio_test::WriteFileBytes(dir + "/0001.shm", std::vector<uint8_t>(300, 0));
  writer.reset();
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(dir);
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->foreign, (std::vector<std::string>{"0001.shm", "README.txt"}));
  ChainOptions options;
  options.directory = dir;
  EXPECT_NE(OpenOrDie(options), nullptr);
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  EXPECT_EQ(ReadAll(**consumer)->size(), 100u);
}

// A chain of several files, its writer closed, for damaging.
std::string ClosedChain() {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  if (writer != nullptr) AppendFrames(*writer, 0, 400);
  return dir;
}

// Opening `dir` for writing fails with `code` and a message holding each of
// `words`; nothing in the directory changes. A reader from the beginning
// fails too, or stops with an error before the damage.
void ExpectRefused(const std::string& dir, absl::StatusCode code,
                   const std::vector<std::string>& words) {
  const auto before = Snapshot(dir);
  ChainOptions options;
  options.directory = dir;
  absl::StatusOr<std::unique_ptr<ChainWriter>> writer = ChainWriter::Open(options);
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), code) << writer.status();
  for (const std::string& word : words) {
    EXPECT_TRUE(absl::StrContains(writer.status().message(), word))
        << "'" << word << "' not in: " << writer.status();
  }
  EXPECT_EQ(Snapshot(dir), before) << "a refused open changed the directory";
}

TEST(ChainTest, AGapIsReportedWithTheMissingPositions) {
  const std::string dir = ClosedChain();
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_GT(files.size(), 4u);
  ASSERT_EQ(unlink(files[2].path.c_str()), 0);
  ExpectRefused(dir, absl::StatusCode::kDataLoss,
                {files[1].path, absl::StrCat("positions ", files[2].base_position, " to ",
                                             files[3].base_position, " are missing")});
  // A reader stops where the chain breaks, naming the missing file.
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_TRUE(consumer.ok());
  absl::StatusOr<std::vector<ReadFrame>> frames = ReadAll(**consumer);
  ASSERT_FALSE(frames.ok());
  EXPECT_TRUE(absl::StrContains(frames.status().message(),
                                shmio::ChainFileName(files[2].base_position)))
      << frames.status();
}

// Where each frame of `dir`'s chain lies, walked forward from position 0
// to `to` (payloads are not kept: they point into mappings the walk
// releases); `status` is what stopped the walk.
struct WalkedFrame {
  uint64_t position;
  uint64_t offset;  // in its file
};
struct Walk {
  std::vector<WalkedFrame> frames;
  absl::Status status;
};
Walk WalkForward(const std::string& dir, uint64_t to) {
  Walk walk;
  absl::StatusOr<std::shared_ptr<shmio::ChainFiles>> files = shmio::ChainFiles::Open(dir, false);
  if (!files.ok()) {
    walk.status = files.status();
    return walk;
  }
  shmio::ChainFrameRange range(*files, 0, to);
  for (const shmio::ChainFrame& frame : range) walk.frames.push_back({frame.position, frame.offset});
  walk.status = range.status();
  return walk;
}

// A forward walk over a damaged frame delivers every frame before it and
// stops with DataLoss naming the file and the offset: at a file's first
// frame (just after the walk moves to it) and in the middle of a file.
TEST(ChainTest, ADamagedFrameStopsAForwardWalkNamingTheFileAndOffset) {
  for (const int index_in_file : {0, 5}) {
    SCOPED_TRACE(index_in_file);
    const std::string dir = ClosedChain();
    const std::vector<shmio::ChainFileEntry> files = Files(dir);
    ASSERT_GT(files.size(), 4u);
    const uint64_t end = PositionAfter(400);
    const Walk whole = WalkForward(dir, end);
    ASSERT_TRUE(whole.status.ok()) << whole.status;
    ASSERT_EQ(whole.frames.size(), 400u);
    // The index_in_file-th frame of file 2, and how many frames come before it.
    size_t victim = 0;
    while (whole.frames[victim].position < files[2].base_position) ++victim;
    victim += index_in_file;
    ASSERT_LT(whole.frames[victim].position, files[3].base_position);
    const uint64_t offset = whole.frames[victim].offset;

    std::vector<uint8_t> bytes = shmio_test::ReadFileBytes(files[2].path);
    bytes[offset] = 0xff;  // a leading size of 0xffff runs past the file's end
    bytes[offset + 1] = 0xff;
    shmio_test::WriteFileBytes(files[2].path, bytes);

    const Walk damaged = WalkForward(dir, end);
    EXPECT_EQ(damaged.status.code(), absl::StatusCode::kDataLoss) << damaged.status;
    EXPECT_TRUE(absl::StrContains(damaged.status.message(),
                                  absl::StrCat(files[2].path, " is damaged at offset ", offset)))
        << damaged.status;
    ASSERT_EQ(damaged.frames.size(), victim);
    for (size_t k = 0; k < victim; ++k) {
      ASSERT_EQ(damaged.frames[k].position, whole.frames[k].position) << k;
    }
  }
}

TEST(ChainTest, TwoFilesClaimingTheSamePositionsAreReported) {
  const std::string dir = ClosedChain();
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_GT(files.size(), 4u);
  // A file whose name says it starts inside file 2's positions.
  const uint64_t inside = files[2].base_position + 8;
  const std::string copy = shmio::ChainPath(dir, shmio::ChainFileName(inside));
  shmio_test::CopyFile(files[2].path, copy);
  ExpectRefused(dir, absl::StatusCode::kDataLoss,
                {files[2].path, copy,
                 absl::StrCat("positions ", inside, " to ", files[3].base_position,
                              " are in both")});
}

TEST(ChainTest, AFileUnderAnotherNameIsReported) {
  const std::string dir = ClosedChain();
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  const std::string renamed = shmio::ChainPath(dir, shmio::ChainFileName(8));
  ASSERT_EQ(rename(files[0].path.c_str(), renamed.c_str()), 0);
  ExpectRefused(dir, absl::StatusCode::kDataLoss,
                {renamed, "says its first frame is at position 0, its name says 8"});
}

TEST(ChainTest, AFileOfAnotherChainIsReported) {
  const std::string dir = ClosedChain();
  const std::string other = ClosedChain();
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  const std::vector<shmio::ChainFileEntry> theirs = Files(other);
  ASSERT_EQ(files.size(), theirs.size());
  shmio_test::CopyFile(theirs[2].path, files[2].path);
  ExpectRefused(dir, absl::StatusCode::kDataLoss, {files[2].path, "chain id"});
}

TEST(ChainTest, AFileThatIsNotALogIsReported) {
  const std::string dir = ClosedChain();
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  shmio_test::WriteFileBytes(files[1].path, std::vector<uint8_t>(kFileCapacity, 0x5a));
  const auto before = Snapshot(dir);
  ChainOptions options;
  options.directory = dir;
  absl::StatusOr<std::unique_ptr<ChainWriter>> writer = ChainWriter::Open(options);
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(absl::StrContains(writer.status().message(), files[1].path)) << writer.status();
  EXPECT_EQ(Snapshot(dir), before);
}

TEST(ChainTest, ADirectoryThatIsNotAChainIsReported) {
  const std::string dir = TempPath("plain-dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ChainOptions options;
  options.directory = dir;
  absl::StatusOr<std::unique_ptr<ChainWriter>> writer = ChainWriter::Open(options);
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(absl::StrContains(writer.status().message(), "is not a shmio chain")) << writer.status();
  EXPECT_TRUE(absl::StrContains(writer.status().message(), "--chain")) << writer.status();
  auto consumer = ChainConsumer::Open(dir);
  ASSERT_FALSE(consumer.ok());
  EXPECT_TRUE(absl::StrContains(consumer.status().message(), dir)) << consumer.status();
  EXPECT_TRUE(Snapshot(dir).empty()) << "nothing is left in a directory that is not a chain";
}

TEST(ChainTest, BadOptionsAreRefusedBeforeAnythingIsTouched) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.file_capacity = 100;
  absl::StatusOr<std::unique_ptr<ChainWriter>> writer = ChainWriter::Open(options);
  EXPECT_TRUE(absl::IsInvalidArgument(writer.status())) << writer.status();
  struct stat st;
  EXPECT_NE(stat(dir.c_str(), &st), 0) << "nothing is created";
  options.file_capacity = 0;
  writer = ChainWriter::Open(options);
  EXPECT_TRUE(absl::IsInvalidArgument(writer.status())) << writer.status();
  EXPECT_NE(stat(dir.c_str(), &st), 0) << "nothing is created";
}

}  // namespace

// Recycling (ChainOptions::recycle_files, SharedMemory::Recycle): the files
// retention removes become the chain's next files when no reader has them
// open, so a long-running chain writes into pages the kernel made once.

TEST(ChainRecyclingTest, RemovedFilesBecomeTheNextFilesAndReadExactly) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.retain_files = 3;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  // Frames of varied sizes, so a reused file's old frames lie at other
  // offsets than its new ones: a reader that looked past `committed` or
  // trusted a stale frame would read them. After each roll the writer
  // waits for the preparer (retention, then the next file), so which files
  // come back is certain: files 0-3 are new, and from the roll to file 3
  // on, each roll's retention removes the oldest file, which becomes the
  // file after the next.
  for (uint64_t i = 0; i < 3000; ++i) {
    const uint64_t rolls = writer->rolls();
    ASSERT_TRUE(writer->Append(PayloadOf(i)).ok()) << i;
    ASSERT_TRUE(writer->Commit().ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (writer->rolls() != rolls && !writer->next_file_ready() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  EXPECT_GT(writer->rolls(), 30u);
  EXPECT_EQ(writer->files_recycled(), writer->rolls() - 2);
  const std::vector<shmio::ChainFileEntry> files = Files(dir);
  ASSERT_EQ(files.size(), 3u);
  auto reader = ChainConsumer::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<ReadFrame>> frames = ReadAll(**reader);
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_FALSE(frames->empty());
  // Find the first frame kept by its position, then check every frame on.
  uint64_t first = 0;
  while (PositionAfter(first) < files.front().base_position) ++first;
  ASSERT_EQ(PositionAfter(first), files.front().base_position);
  ExpectFrames(*frames, first, files.front().base_position);
  EXPECT_EQ(first + frames->size(), 3000u);
  // Closing leaves nothing of the files in transit.
  writer.reset();
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(dir);
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->recycling.empty());
  EXPECT_TRUE(listing->foreign.empty());
  // The next writer continues the chain, reusing as it goes.
  options.create = false;
  writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 3000, 4000);
  reader = ChainConsumer::Open(dir);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->Seek(Files(dir).front().base_position).ok());
  frames = ReadAll(**reader);
  ASSERT_TRUE(frames.ok()) << frames.status();
  EXPECT_EQ(frames->back().payload, PayloadOf(3999));
}

// Page faults this process has taken so far (all its threads).
int64_t MinorFaults() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Page faults per roll of a writer of 256 KiB files (64 pages, prefaulted)
// once its retention window (2 files) is full, over 20 rolls; with
// `recycle`, every one of those rolls must reuse a file.
int64_t FaultsPerRoll(bool recycle) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.file_capacity = 256 << 10;
  options.retain_files = 2;
  options.recycle_files = recycle;
  options.prefault = true;
  auto writer = OpenOrDie(options);
  if (writer == nullptr) return -1;
  const std::vector<uint8_t> payload(1000, 0x5a);
  // Rolls `n` times, waiting after each for the preparer (retention, then
  // the next file), so the counts are the rolls' own.
  auto roll = [&](uint64_t n) {
    const uint64_t target = writer->rolls() + n;
    while (writer->rolls() < target) {
      EXPECT_TRUE(writer->Append(payload).ok());
      EXPECT_TRUE(writer->Commit().ok());
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!writer->next_file_ready() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  };
  roll(6);  // fills the window; from here on every new file may be a reused one
  const uint64_t recycled_before = writer->files_recycled();
  const int64_t faults_before = MinorFaults();
  constexpr uint64_t kRolls = 20;
  for (uint64_t i = 0; i < kRolls; ++i) roll(1);
  const int64_t faults = MinorFaults() - faults_before;
  EXPECT_EQ(writer->files_recycled() - recycled_before, recycle ? kRolls : 0);
  return faults / int64_t{kRolls};
}

// A file the writer itself retired is reused with its mapping: a roll maps
// and populates no page again. Prefaulting a new file faults in its 64
// pages; a reused mapping faults none (a few go to the bookkeeping of a
// roll, and a sanitizer's shadow memory adds its own to both).
TEST(ChainRecyclingTest, AReusedFileKeepsTheWritersMapping) {
  const int64_t fresh = FaultsPerRoll(/*recycle=*/false);
  const int64_t reused = FaultsPerRoll(/*recycle=*/true);
  ASSERT_GE(fresh, 64) << "a new prefaulted file faults in each of its pages";
  EXPECT_LT(reused, fresh - 32) << "a reused file was mapped and populated again (" << reused
                                << " faults per roll, a new file " << fresh << ")";
}

TEST(ChainRecyclingTest, AFileAReaderHasOpenIsNeverReused) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.retain_files = 2;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 40);
  // A reader in another process opens the first file and keeps it.
  const std::string first = Files(dir).front().path;
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    shmio::Options held_open;
    held_open.path = first;
    absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
        shmio::SharedMemory::Open(held_open);
    char c = shm.ok() ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);  // hold it until the parent is done
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  struct stat held;
  ASSERT_EQ(stat(first.c_str(), &held), 0);
  // Its bytes once it is sealed (the writer has rolled past it), before
  // retention (which keeps 2 files) may remove it.
  uint64_t i = 40;
  for (; writer->rolls() == 0; ++i) {
    ASSERT_TRUE(writer->Append(PayloadOf(i)).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  const std::vector<uint8_t> before = shmio_test::ReadFileBytes(first);
  AppendFrames(*writer, i, 2000);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Files(dir).size() > 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GT(writer->files_recycled(), 0u);  // others were reused
  // The held file left the directory by unlink: no file there now is it,
  // and its bytes, read through the reader's own mapping's file, are as
  // they were (checked through /proc: the child still has it open).
  for (const shmio::ChainFileEntry& file : Files(dir)) {
    struct stat st;
    ASSERT_EQ(stat(file.path.c_str(), &st), 0);
    EXPECT_FALSE(st.st_ino == held.st_ino && st.st_dev == held.st_dev) << file.path;
  }
  bool found = false;
  const std::string fds = absl::StrCat("/proc/", child, "/fd");
  DIR* d = opendir(fds.c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    const std::string fd_path = fds + "/" + e->d_name;
    struct stat st;
    if (stat(fd_path.c_str(), &st) == 0 && st.st_ino == held.st_ino && st.st_dev == held.st_dev) {
      EXPECT_EQ(shmio_test::ReadFileBytes(fd_path), before);
      found = true;
    }
  }
  closedir(d);
  EXPECT_TRUE(found);
  ASSERT_EQ(write(done[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
}

TEST(ChainRecyclingTest, WithRecyclingOffEveryFileIsNew) {
  const std::string dir = TempPath("chain");
  ChainOptions options = NewChain(dir);
  options.retain_files = 2;
  options.recycle_files = false;
  auto writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 2000);
  EXPECT_GT(writer->rolls(), 20u);
  EXPECT_EQ(writer->files_recycled(), 0u);
}

TEST(ChainRecyclingTest, AReaderOpeningAFileBeingReusedFindsItGone) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 10);
  const std::string path = Files(dir).front().path;
  // What SharedMemory::Recycle holds while it takes a file: the reader
  // lock's byte, exclusively (format.h, kReaderLockOffset).
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(shmio::format::kReaderLockOffset);
  lock.l_len = 1;
  ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &lock), 0);
  shmio::Options read;
  read.path = path;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(read);
  ASSERT_FALSE(shm.ok());
  EXPECT_TRUE(absl::IsNotFound(shm.status())) << shm.status();
  EXPECT_TRUE(absl::StrContains(shm.status().message(), path)) << shm.status();
  close(fd);
  EXPECT_TRUE(shmio::SharedMemory::Open(read).ok());
}

TEST(ChainRecyclingTest, SharedMemoryRecycleRefusesAFileAReaderHolds) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 200);  // several files
  writer.reset();
  const std::string path = Files(dir).front().path;
  const std::string temp = dir + "/" + shmio::kRecyclingFilePrefix + "test.shm";
  shmio::Options file;
  file.capacity = kFileCapacity;
  shmio::Options read;
  read.path = path;
  auto reader = shmio::SharedMemory::Open(read);
  ASSERT_TRUE(reader.ok());
  const std::map<std::string, std::vector<uint8_t>> before = Snapshot(dir);
  auto refused = shmio::SharedMemory::Recycle(path, temp, file);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "a reader has it open"))
      << refused.status();
  EXPECT_EQ(Snapshot(dir), before);  // nothing changed
  // A file of another size is refused too, also with nothing changed.
  reader->reset();
  shmio::Options other = file;
  other.capacity = 2 * kFileCapacity;
  refused = shmio::SharedMemory::Recycle(path, temp, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "4096 bytes")) << refused.status();
  EXPECT_EQ(Snapshot(dir), before);
  // Unheld, it leaves the chain's names and comes back empty, unnamed
  // until linked; destroyed unlinked, it is gone.
  auto reused = shmio::SharedMemory::Recycle(path, temp, file);
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  EXPECT_EQ((*reused)->ReadHeader().format, shmio::FileFormat::kEmpty);
  reused->reset();
  EXPECT_NE(access(temp.c_str(), F_OK), 0);
}

TEST(ChainRecyclingTest, AKilledWritersFileInTransitIsRemovedByTheNextWriter) {
  const std::string dir = TempPath("chain");
  auto writer = OpenOrDie(NewChain(dir));
  ASSERT_NE(writer, nullptr);
  AppendFrames(*writer, 0, 10);
  writer.reset();
  const std::string leftover = dir + "/" + shmio::kRecyclingFilePrefix + "00000000000000000000.shm";
  shmio_test::WriteFileBytes(leftover, std::vector<uint8_t>(kFileCapacity, 7));
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(dir);
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->foreign.empty());  // ours, not foreign
  EXPECT_EQ(listing->recycling, std::vector<std::string>{leftover});
  ChainOptions options;
  options.directory = dir;
  writer = OpenOrDie(options);
  ASSERT_NE(writer, nullptr);
  EXPECT_NE(access(leftover.c_str(), F_OK), 0);
}
