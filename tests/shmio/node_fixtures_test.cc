// Files written by the original Node.js library read correctly, and can be
// continued by a shmio writer that is given their geometry.
//
// tests/fixtures/node-shmio/basic.shm was written by the original with
// {size 4096, num 4, overlap 512}; basic.json describes it: 153 committed
// frames (3 crossing a segment boundary inside the overlap) and 3 appended
// but uncommitted frames after the committed size. Payload i has length
// ((i*37) % 200) + 1 and bytes (i*31 + j*7) & 0xFF. Abseil has no SHA-256,
// so the payloads are checked byte for byte against that generating rule,
// and the offsets and lengths against the manifest's own arrays.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Consumer;
using ::shmio::FrameRange;
using ::shmio::ReverseFrameRange;
using ::shmio::SharedMemory;
using ::shmio_test::CopyNodeFixture;
using ::shmio_test::ReadFileBytes;
using ::shmio_test::RunfilePath;
using ::testing::HasSubstr;

std::string FixturePath(absl::string_view name) {
  return RunfilePath(absl::StrCat("tests/fixtures/node-shmio/", name));
}

// The manifest's numbers, found by key in basic.json. The file is flat
// enough that "key": <number> and "key": [<numbers>] are unambiguous for the
// keys used here (each appears once).
class Manifest {
 public:
  Manifest()
      : json_([] {
          std::vector<uint8_t> bytes = ReadFileBytes(FixturePath("basic.json"));
          return std::string(bytes.begin(), bytes.end());
        }()) {}

  uint64_t Number(absl::string_view key) const {
    absl::string_view rest = After(key);
    size_t end = rest.find_first_of(",}\n");
    uint64_t value = 0;
    EXPECT_TRUE(absl::SimpleAtoi(
        absl::StripAsciiWhitespace(rest.substr(0, end)), &value))
        << "manifest key " << key;
    return value;
  }

  std::vector<uint64_t> Numbers(absl::string_view key) const {
    absl::string_view rest = After(key);
    EXPECT_TRUE(absl::ConsumePrefix(&rest, "[")) << "manifest key " << key;
    rest = rest.substr(0, rest.find(']'));
    std::vector<uint64_t> values;
    for (absl::string_view item : absl::StrSplit(rest, ',')) {
      uint64_t value = 0;
      EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(item), &value))
          << "manifest key " << key << " item '" << item << "'";
      values.push_back(value);
    }
    return values;
  }

 private:
  // The text after `"key":`, leading whitespace removed.
  absl::string_view After(absl::string_view key) const {
    std::string needle = absl::StrCat("\"", key, "\":");
    size_t at = json_.find(needle);
    EXPECT_NE(at, std::string::npos) << "manifest has no key " << key;
    if (at == std::string::npos) return "";
    return absl::StripLeadingAsciiWhitespace(
        absl::string_view(json_).substr(at + needle.size()));
  }

  std::string json_;
};

// The original fixture writer's payload i.
std::vector<uint8_t> NodePayload(uint64_t i) {
  std::vector<uint8_t> payload(((i * 37) % 200) + 1);
  for (uint64_t j = 0; j < payload.size(); ++j) {
    payload[j] = static_cast<uint8_t>((i * 31 + j * 7) & 0xFF);
  }
  return payload;
}

std::unique_ptr<SharedMemory> MustOpen(shmio::Options options) {
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open(options);
  EXPECT_TRUE(shm.ok()) << shm.status();
  return shm.ok() ? *std::move(shm) : nullptr;
}

class NodeFixturesTest : public ::testing::Test {
 protected:
  Manifest manifest_;
  const uint64_t committed_size_ = manifest_.Number("committed_size");
  const uint64_t committed_frames_ = manifest_.Number("committed_frames");
  const std::vector<uint64_t> offsets_ = manifest_.Numbers("frame_offsets");
  const std::vector<uint64_t> lengths_ = manifest_.Numbers("payload_lengths");
};

TEST_F(NodeFixturesTest, TheManifestDescribesTheRuleThisTestChecks) {
  ASSERT_EQ(committed_frames_, 153u);
  ASSERT_EQ(committed_size_, 16025u);
  ASSERT_EQ(offsets_.size(), 153u);
  ASSERT_EQ(lengths_.size(), 153u);
  for (uint64_t i = 0; i < 153; ++i) {
    EXPECT_EQ(lengths_[i], NodePayload(i).size()) << "frame " << i;
  }
}

TEST_F(NodeFixturesTest, HeaderReadsAsANodeLogWithTheManifestValues) {
  std::unique_ptr<SharedMemory> shm =
      MustOpen({.path = FixturePath("basic.shm")});
  ASSERT_NE(shm, nullptr);
  EXPECT_EQ(shm->capacity(), manifest_.Number("file_bytes"));
  shmio::HeaderSnapshot header = shm->ReadHeader();
  EXPECT_EQ(header.format, shmio::FileFormat::kNode);
  EXPECT_EQ(header.header_size, 24u);
  EXPECT_EQ(header.data_offset, manifest_.Number("dataOffset"));
  EXPECT_EQ(header.committed, committed_size_);
  EXPECT_FALSE(header.geometry.has_value()) << "a Node file has no extension";

  Consumer consumer(shm.get());
  absl::StatusOr<uint64_t> committed = consumer.Committed();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, committed_size_);
}

TEST_F(NodeFixturesTest, EveryCommittedPayloadMatchesTheManifest) {
  std::string path = FixturePath("basic.shm");
  std::vector<uint8_t> before = ReadFileBytes(path);
  std::unique_ptr<SharedMemory> shm = MustOpen({.path = path});
  ASSERT_NE(shm, nullptr);

  std::vector<shmio_test::CopiedFrame> frames =
      shmio_test::ReadCommittedFrames(*shm);
  ASSERT_EQ(frames.size(), committed_frames_);
  for (uint64_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].offset, offsets_[i]) << "frame " << i;
    EXPECT_EQ(frames[i].payload.size(), lengths_[i]) << "frame " << i;
    EXPECT_EQ(frames[i].payload, NodePayload(i)) << "frame " << i;
  }
  shm.reset();
  EXPECT_EQ(ReadFileBytes(path), before) << "a reader changed the fixture";
}

TEST_F(NodeFixturesTest, TheUncommittedTailIsNeverReturned) {
  std::unique_ptr<SharedMemory> shm =
      MustOpen({.path = FixturePath("basic.shm")});
  ASSERT_NE(shm, nullptr);
  Consumer consumer(shm.get());
  uint64_t frames = 0;
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next({.max_frames = 100});
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (const shmio::Frame& frame : batch->frames) {
      EXPECT_LE(frame.end(), committed_size_) << "frame at " << frame.offset;
      ++frames;
    }
  }
  EXPECT_EQ(frames, committed_frames_);
  EXPECT_EQ(consumer.cursor(), committed_size_);

  absl::StatusOr<FrameRange> data = consumer.GetData(24);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->to(), committed_size_);
  uint64_t counted = 0;
  for (const shmio::Frame& frame : *data) {
    (void)frame;
    ++counted;
  }
  EXPECT_EQ(counted, committed_frames_);
}

TEST_F(NodeFixturesTest, ReverseIterationGivesTheSameFramesBackwards) {
  std::unique_ptr<SharedMemory> shm =
      MustOpen({.path = FixturePath("basic.shm")});
  ASSERT_NE(shm, nullptr);
  ReverseFrameRange frames(*shm, 24, committed_size_);
  int64_t i = static_cast<int64_t>(committed_frames_) - 1;
  for (const shmio::Frame& frame : frames) {
    ASSERT_GE(i, 0) << "more frames backwards than forwards";
    EXPECT_EQ(frame.offset, offsets_[i]) << "frame " << i;
    EXPECT_EQ(std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()),
              NodePayload(i))
        << "frame " << i;
    --i;
  }
  EXPECT_TRUE(frames.status().ok()) << frames.status();
  EXPECT_EQ(i, -1) << "fewer frames backwards than forwards";
}

TEST_F(NodeFixturesTest, CrossingFramesLieWithinTheOriginalsSegmentViews) {
  std::unique_ptr<SharedMemory> shm =
      MustOpen({.path = FixturePath("basic.shm"),
                .size = 4096,
                .num = 4,
                .overlap = 512});
  ASSERT_NE(shm, nullptr);
  std::vector<absl::Span<const uint8_t>> views = shm->GetBuffers();
  ASSERT_EQ(views.size(), 4u);
  // The manifest's crossing frames (i = 40, 78, 116) start in segment k and
  // end in its overlap.
  for (uint64_t i : {40u, 78u, 116u}) {
    uint64_t start = offsets_[i];
    uint64_t end = start + lengths_[i] + 4;
    uint64_t k = start / 4096;
    ASSERT_GT(end, (k + 1) * 4096) << "frame " << i << " crosses a boundary";
    const uint8_t* view_begin = views[k].data();
    const uint8_t* view_end = view_begin + views[k].size();
    EXPECT_LE(shm->data() + end, view_end) << "frame " << i;
    std::vector<uint8_t> in_view(shm->data() + start + 2,
                                 shm->data() + end - 2);
    EXPECT_EQ(in_view, NodePayload(i)) << "frame " << i;
  }
}

TEST_F(NodeFixturesTest, WritingWithoutAGeometryIsRefusedAndTouchesNothing) {
  std::string copy = CopyNodeFixture("basic.shm");
  std::vector<uint8_t> before = ReadFileBytes(copy);
  absl::StatusOr<shmio_test::Writer> writer =
      shmio_test::OpenWriter({.path = copy});
  ASSERT_FALSE(writer.ok()) << "a Node file was opened for writing without "
                               "its geometry";
  EXPECT_TRUE(absl::IsFailedPrecondition(writer.status())) << writer.status();
  EXPECT_THAT(absl::AsciiStrToLower(writer.status().message()),
              HasSubstr("geometry"))
      << writer.status();
  EXPECT_THAT(std::string(writer.status().message()), HasSubstr(copy));
  EXPECT_EQ(ReadFileBytes(copy), before);
}

TEST_F(NodeFixturesTest, AGeometryThatDoesNotMatchTheFileNamesBothSizes) {
  std::string copy = CopyNodeFixture("basic.shm");
  std::vector<uint8_t> before = ReadFileBytes(copy);
  absl::StatusOr<shmio_test::Writer> writer = shmio_test::OpenWriter(
      {.path = copy, .size = 4096, .num = 2, .overlap = 512});
  ASSERT_FALSE(writer.ok());
  EXPECT_THAT(std::string(writer.status().message()), HasSubstr("8192"))
      << writer.status();
  EXPECT_THAT(std::string(writer.status().message()), HasSubstr("16384"))
      << writer.status();
  EXPECT_EQ(ReadFileBytes(copy), before);
}

TEST_F(NodeFixturesTest, WithItsGeometryACopyContinuesExactlyAsTheOriginal) {
  std::string copy = CopyNodeFixture("basic.shm");
  // Wipe the original's uncommitted tail, so that the bytes compared below
  // can only have come from our writer.
  shmio_test::TruncateTo(copy, committed_size_);
  shmio_test::TruncateTo(copy, 16384);

  {
    absl::StatusOr<shmio_test::Writer> w = shmio_test::OpenWriter(
        {.path = copy, .size = 4096, .num = 4, .overlap = 512});
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->pool->GetSize().committed, committed_size_);
    EXPECT_EQ(w->pool->GetStatus().segment, 3u);
    EXPECT_EQ(w->pool->GetStatus().offset, committed_size_ - 3 * 4096);
    // The original wrote frames 153..155 here and then ran out of room at
    // frame 156 ("cannot allocate 173 bytes"); so do we.
    for (uint64_t i = 153; i < 156; ++i) {
      ASSERT_TRUE(w->pool->Append(NodePayload(i)).ok()) << "frame " << i;
    }
    absl::Status full = w->pool->Append(NodePayload(156));
    EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
    EXPECT_THAT(std::string(full.message()),
                HasSubstr("Shared memory exhausted"));
    ASSERT_TRUE(w->pool->Commit().ok());
  }

  // The file is byte for byte the original's, with `committed` moved past
  // the three frames; the writer added no extension.
  std::vector<uint8_t> expected = ReadFileBytes(FixturePath("basic.shm"));
  const uint64_t end = manifest_.Number("end");
  ASSERT_EQ(end, 16334u);
  for (int b = 0; b < 8; ++b) {
    expected[16 + b] = static_cast<uint8_t>(end >> (8 * b));
  }
  EXPECT_EQ(ReadFileBytes(copy), expected);

  std::unique_ptr<SharedMemory> shm = MustOpen({.path = copy});
  ASSERT_NE(shm, nullptr);
  EXPECT_EQ(shm->ReadHeader().format, shmio::FileFormat::kNode);
  std::vector<std::vector<uint8_t>> payloads =
      shmio_test::ReadCommittedPayloads(*shm);
  ASSERT_EQ(payloads.size(), 156u);
  for (uint64_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(payloads[i], NodePayload(i)) << "frame " << i;
  }
}

}  // namespace
