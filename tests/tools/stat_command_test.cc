// `shmio stat`: the header, committed size, frame count, format and
// geometry of real log files.
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

TEST(StatCommandTest, NodeFixtureReportsTheManifestsValues) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");

  CliResult result = RunShmio({"stat", path});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  std::map<std::string, std::string> stat = ParseKeyValues(result.out);
  EXPECT_EQ(stat["header_size"], "24");
  EXPECT_EQ(stat["data_offset"], absl::StrCat(manifest.data_offset));
  EXPECT_EQ(stat["committed"], absl::StrCat(manifest.committed_size));
  EXPECT_EQ(stat["capacity"], absl::StrCat(manifest.file_bytes));
  EXPECT_EQ(stat["frames"], absl::StrCat(manifest.committed_frames));
  EXPECT_EQ(stat["used_percent"],
            absl::StrFormat("%.2f", 100.0 *
                                        (manifest.committed_size - manifest.data_offset) /
                                        (manifest.file_bytes - manifest.data_offset)));
  EXPECT_EQ(stat["format"], "node");
  EXPECT_EQ(stat["writer"], "none");
  // A Node-created file records no geometry.
  EXPECT_EQ(stat.count("size"), 0u);
  EXPECT_EQ(stat.count("num"), 0u);
  EXPECT_EQ(stat.count("overlap"), 0u);
}

TEST(StatCommandTest, NodeFixtureValuesMatchTheManifestsFacts) {
  // The manifest's own numbers agree with each other and with the rule the
  // tests use, so a wrong manifest reading cannot pass unnoticed.
  NodeManifest manifest = LoadNodeManifest();
  ASSERT_EQ(manifest.committed_frames, 153u);
  ASSERT_EQ(manifest.committed_size, 16025u);
  ASSERT_EQ(manifest.frame_offsets.size(), manifest.committed_frames);
  ASSERT_EQ(manifest.payload_lengths.size(), manifest.committed_frames);
  for (uint64_t i = 0; i < manifest.committed_frames; ++i) {
    EXPECT_EQ(NodePayload(i).size(), manifest.payload_lengths[i]) << "frame " << i;
  }
}

TEST(StatCommandTest, JsonIsOneObjectWithTheSameValues) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");

  CliResult result = RunShmio({"stat", path, "--json"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(
      result.out,
      absl::StrFormat("{\"header_size\":24,\"data_offset\":%d,\"committed\":%d,"
                      "\"capacity\":%d,\"frames\":%d,\"used_percent\":%.2f,"
                      "\"format\":\"node\",\"writer\":null}\n",
                      manifest.data_offset, manifest.committed_size,
                      manifest.file_bytes, manifest.committed_frames,
                      100.0 * (manifest.committed_size - manifest.data_offset) /
                          (manifest.file_bytes - manifest.data_offset)));
}

TEST(StatCommandTest, ShmioFileReportsFormatAndGeometry) {
  std::string path = TempPath("log.shm");
  CliResult appended = RunShmio(
      {"append", path, "--create", "--size=4096", "--num=2", "--overlap=256"},
      "01\n0203\n\n");
  ASSERT_EQ(appended.exit_code, 0) << appended.Describe();

  CliResult result = RunShmio({"stat", path});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  std::map<std::string, std::string> stat = ParseKeyValues(result.out);
  EXPECT_EQ(stat["format"], "shmio-v1");
  EXPECT_EQ(stat["capacity"], "8192");
  EXPECT_EQ(stat["frames"], "3");
  EXPECT_EQ(stat["size"], "4096");
  EXPECT_EQ(stat["num"], "2");
  EXPECT_EQ(stat["overlap"], "256");
  EXPECT_EQ(stat["writer"], "none");
  // Three frames of 1, 2 and 0 payload bytes plus 4 each follow the data
  // offset, and append printed the same committed size.
  uint64_t data_offset = std::stoull(stat["data_offset"]);
  EXPECT_EQ(stat["committed"], absl::StrCat(data_offset + 5 + 6 + 4));
  EXPECT_EQ(appended.out, absl::StrCat(stat["committed"], "\n"));
}

TEST(StatCommandTest, CapacityOnlyFileHasNoGeometryKeys) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "").exit_code, 0);

  CliResult result = RunShmio({"stat", path});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  std::map<std::string, std::string> stat = ParseKeyValues(result.out);
  EXPECT_EQ(stat["format"], "shmio-v1");
  EXPECT_EQ(stat["frames"], "0");
  EXPECT_EQ(stat["committed"], stat["data_offset"]);
  EXPECT_EQ(stat["used_percent"], "0.00");
  EXPECT_EQ(stat.count("size"), 0u);
}

}  // namespace
}  // namespace shmio::cli_test
