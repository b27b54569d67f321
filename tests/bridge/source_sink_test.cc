// The log source and sink of //bridge over single files: positions start at
// 0 whatever the file's dataOffset (24 for a Node.js file, 256 for ours),
// a source starts exactly at a frame's position and refuses anything else,
// and a sink appends only at its end and resumes at its committed end.
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "bridge/log_sink.h"
#include "bridge/log_source.h"
#include "bridge/stream_id.h"
#include "gtest/gtest.h"
#include "shmio/shared_memory.h"
#include "tests/bridge/bridge_test_support.h"

namespace bridge_test {
namespace {

absl::Span<const uint8_t> Bytes(const std::string& text) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

std::string CopyNodeFixture() {
  std::string from = absl::StrCat(std::getenv("TEST_SRCDIR"), "/", std::getenv("TEST_WORKSPACE"),
                                  "/tests/fixtures/node-shmio/basic.shm");
  std::string to = TempDir("basic.shm");
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out << in.rdbuf();
  return to;
}

// Opens a source at `position`, runs the loop until its first batch, and
// returns that batch's positions (or the error from opening it).
absl::StatusOr<std::vector<uint64_t>> FirstBatch(const std::string& path, uint64_t position) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<uint64_t> positions;
  bool got = false;
  absl::StatusOr<bridge::LogSource*> source = bridge::OpenLogSource(
      &loop, path, position, {},
      [&](absl::Span<const bridge::LogFrame> frames) {
        for (const bridge::LogFrame& frame : frames) positions.push_back(frame.position);
        got = true;
      },
      [&](const absl::Status&) { got = true; });
  if (source.ok()) {
    while (!got) uv_run(&loop, UV_RUN_ONCE);
    (*source)->Close();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
  if (!source.ok()) return source.status();
  return positions;
}

TEST(SourceSinkTest, ANodeFilesFirstFrameIsAtPositionZero) {
  std::string path = CopyNodeFixture();
  absl::StatusOr<std::vector<Entry>> entries = ReadLog(path);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 153u);  // basic.json: committed_frames
  EXPECT_EQ((*entries)[0].position, 0u);   // offset 24 - dataOffset 24
  EXPECT_EQ((*entries)[1].position, 5u);   // offset 29: a 1-byte payload before it
  EXPECT_EQ((*entries)[2].position, 47u);  // offset 71
  for (size_t i = 1; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].position,
              bridge::NextPosition((*entries)[i - 1].position, (*entries)[i - 1].payload.size()));
  }
}

TEST(SourceSinkTest, AShmioFilesFirstFrameIsAtPositionZeroToo) {
  std::string path = ShmPath("log");
  auto writer = OpenSingleFileWriter(path, 1 << 20);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(3, 3).ok());
  absl::StatusOr<std::vector<Entry>> entries = ReadLog(path);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].position, 0u);  // offset 256 - dataOffset 256
  EXPECT_EQ((*entries)[0].payload, NumberedPayload(0));
  EXPECT_EQ((*writer)->end_position(),
            bridge::NextPosition((*entries)[2].position, (*entries)[2].payload.size()));
}

TEST(SourceSinkTest, ASourceStartsAtTheFrameOfItsPosition) {
  std::string path = ShmPath("log");
  auto writer = OpenSingleFileWriter(path, 1 << 20);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(10, 10).ok());
  absl::StatusOr<std::vector<Entry>> all = ReadLog(path);
  ASSERT_TRUE(all.ok());
  absl::StatusOr<std::vector<uint64_t>> from_fifth = FirstBatch(path, (*all)[5].position);
  ASSERT_TRUE(from_fifth.ok()) << from_fifth.status();
  ASSERT_EQ(from_fifth->size(), 5u);
  EXPECT_EQ(from_fifth->front(), (*all)[5].position);
}

TEST(SourceSinkTest, ASourceRefusesAPositionInsideAFrameOrPastTheEnd) {
  std::string path = ShmPath("log");
  auto writer = OpenSingleFileWriter(path, 1 << 20);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(10, 10).ok());
  absl::StatusOr<std::vector<uint64_t>> inside = FirstBatch(path, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(inside.status())) << inside.status();
  EXPECT_TRUE(absl::StrContains(inside.status().message(), "no frame at position 1"));
  absl::StatusOr<std::vector<uint64_t>> past = FirstBatch(path, (*writer)->end_position() + 100);
  EXPECT_TRUE(absl::IsOutOfRange(past.status())) << past.status();
  EXPECT_TRUE(absl::StrContains(past.status().message(), path));
}

TEST(SourceSinkTest, AnEmptyLogHoldsOnlyPositionZero) {
  std::string path = ShmPath("empty");
  int fd = open(path.c_str(), O_CREAT | O_RDWR, 0644);
  ASSERT_EQ(ftruncate(fd, 1 << 16), 0);  // all-zero header: no writer yet
  close(fd);
  absl::StatusOr<std::vector<uint64_t>> later = FirstBatch(path, 9);
  EXPECT_TRUE(absl::IsOutOfRange(later.status())) << later.status();
  EXPECT_TRUE(absl::StrContains(later.status().message(), "empty log"));
  absl::StatusOr<std::vector<Entry>> entries = ReadLog(path);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_TRUE(entries->empty());
}

TEST(SourceSinkTest, ASinkAppendsOnlyAtItsEndAndResumesAtItsCommittedEnd) {
  std::string path = ShmPath("sink");
  {
    absl::StatusOr<std::unique_ptr<bridge::LogSink>> sink = bridge::OpenLogSink({path, 1 << 20});
    ASSERT_TRUE(sink.ok()) << sink.status();
    EXPECT_EQ((*sink)->CommittedEnd(), 0u);
    ASSERT_TRUE((*sink)->Append(0, Bytes("hello")).ok());
    absl::Status repeat = (*sink)->Append(0, Bytes("hello"));
    EXPECT_TRUE(absl::IsFailedPrecondition(repeat)) << repeat;
    EXPECT_TRUE(absl::StrContains(repeat.message(), "already there")) << repeat;
    absl::Status gap = (*sink)->Append(100, Bytes("x"));
    EXPECT_TRUE(absl::StrContains(gap.message(), "missing")) << gap;
    ASSERT_TRUE((*sink)->Append(9, Bytes("world")).ok());
    EXPECT_EQ((*sink)->CommittedEnd(), 0u) << "nothing is committed before Commit()";
    EXPECT_EQ((*sink)->AppendEnd(), 18u);
    ASSERT_TRUE((*sink)->Commit().ok());
    ASSERT_TRUE((*sink)->Append(18, Bytes("lost")).ok());  // never committed
    // A second writer is kept out while this one lives.
    absl::StatusOr<std::unique_ptr<bridge::LogSink>> second = bridge::OpenLogSink({path, 0});
    EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  }
  absl::StatusOr<std::unique_ptr<bridge::LogSink>> reopened = bridge::OpenLogSink({path, 0});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->CommittedEnd(), 18u);
  EXPECT_EQ((*reopened)->AppendEnd(), 18u);
  auto shm = shmio::SharedMemory::Open({.path = path});
  ASSERT_TRUE(shm.ok());
  EXPECT_EQ((*shm)->ReadHeader().data_offset, 256u) << "a file the sink creates is ours";
}

TEST(SourceSinkTest, ASinkNeedsACapacityToCreateAndRecreatesAFileCutShort) {
  std::string path = ShmPath("sink");
  EXPECT_TRUE(absl::IsNotFound(bridge::OpenLogSink({path, 0}).status()));
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  int fd = open(path.c_str(), O_CREAT | O_RDWR, 0644);  // a creation killed early
  close(fd);
  EXPECT_TRUE(absl::IsNotFound(bridge::OpenLogSink({path, 0}).status()));
  absl::StatusOr<std::unique_ptr<bridge::LogSink>> sink = bridge::OpenLogSink({path, 1 << 16});
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ((*sink)->CommittedEnd(), 0u);
}

TEST(SourceSinkTest, ADirectoryThatIsNotAChainIsRefused) {
  EXPECT_TRUE(absl::IsNotFound(bridge::OpenLogSink({TempDir(""), 0}).status()));
  absl::Status source = FirstBatch(TempDir(""), 0).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(source)) << source;
  EXPECT_TRUE(absl::StrContains(source.message(), "is not a shmio chain")) << source;
}

// A chain the sink creates at a later position (a mirror of a trimmed
// stream) numbers its frames from there across rolls, and a source reads
// them back from its oldest frame with the same positions.
TEST(SourceSinkTest, AChainSinkStartsAtItsFirstPositionAndRolls) {
  std::string dir = ShmPath("chain");
  bridge::SinkOptions options;
  options.path = dir;
  options.chain_file_capacity = 4096;
  options.first_position = 1000;
  std::vector<Entry> written;
  {
    absl::StatusOr<std::unique_ptr<bridge::LogSink>> sink = bridge::OpenLogSink(options);
    ASSERT_TRUE(sink.ok()) << sink.status();
    EXPECT_TRUE((*sink)->is_chain());
    EXPECT_EQ((*sink)->CommittedEnd(), 1000u);
    // One commit for all 500 frames (~23 KB): more than a 4 KB file holds,
    // so the sink commits as each file fills.
    for (uint64_t n = 0; n < 500; ++n) {
      std::string payload = NumberedPayload(n);
      uint64_t position = (*sink)->AppendEnd();
      ASSERT_TRUE((*sink)->Append(position, Bytes(payload)).ok());
      written.push_back(Entry{position, payload});
    }
    EXPECT_FALSE((*sink)->Append(0, Bytes("x")).ok());  // not the append end
    ASSERT_TRUE((*sink)->Commit().ok());
  }
  options.chain_file_capacity = 0;  // continue it
  absl::StatusOr<std::unique_ptr<bridge::LogSink>> reopened = bridge::OpenLogSink(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->CommittedEnd(),
            bridge::NextPosition(written.back().position, written.back().payload.size()));
  absl::StatusOr<std::vector<Entry>> read = ReadLog(dir);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(Difference(*read, written), "");
  absl::StatusOr<std::vector<uint64_t>> from = FirstBatch(dir, written[7].position);
  ASSERT_TRUE(from.ok()) << from.status();
  EXPECT_EQ(from->front(), written[7].position);
  EXPECT_FALSE(FirstBatch(dir, 999).ok());  // before the chain's first position
}

}  // namespace
}  // namespace bridge_test
