// //bench:ipc --quick must keep working: every transport runs, the reader
// verifies every message, the output has its stable form, and the CSV and
// the plot are written. A skipped message must make the run fail. No timing
// is asserted: the numbers of a quick run on a busy machine mean nothing.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/bench/run_program.h"

namespace bench_test {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

double Number(const std::string& line, const std::string& key) {
  double value = -1;
  EXPECT_TRUE(absl::SimpleAtod(Field(line, key), &value))
      << "no number for " << key << " in: " << line;
  return value;
}

// Runs //bench:ipc with `args`. Under ThreadSanitizer, libzmq's internal
// synchronisation is invisible (an uninstrumented library), so the
// suppressions file silences reports from inside it only.
ProgramResult RunIpc(const std::vector<std::string>& args) {
  const char* tsan = std::getenv("TSAN_OPTIONS");
  std::vector<std::string> command = {
      absl::StrCat("TSAN_OPTIONS=", tsan != nullptr ? tsan : "",
                   ":suppressions=",
                   RunfilePath("tests/bench/tsan_suppressions.txt")),
      RunfilePath("bench/ipc")};
  command.insert(command.end(), args.begin(), args.end());
  return RunProgram("env", command);
}

// On machines with one CPU both processes share it.
std::string ReaderCpu() {
  return sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0";
}

TEST(IpcSmokeTest, QuickRunMeasuresEveryTransportAndVerifiesEveryMessage) {
  const std::string csv = TempDir() + "/ipc.csv";
  const std::string png = TempDir() + "/ipc.png";
  ProgramResult run = RunIpc(
      {"--quick", "--csv=" + csv, "--plot=" + png, "--reader_cpu=" + ReaderCpu()});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_TRUE(LinesStartingWith(run.out, "error ").empty()) << run.out;

  std::set<std::string> throughput;
  for (const std::string& line : LinesStartingWith(run.out, "transport=")) {
    if (Field(line, "measure") != "throughput") continue;
    throughput.insert(Field(line, "transport") + "/" + Field(line, "payload"));
    EXPECT_GT(Number(line, "msgs_per_s"), 0) << line;
    EXPECT_GT(Number(line, "mb_per_s"), 0) << line;
    EXPECT_GT(Number(line, "messages"), 0) << line;
  }
  EXPECT_EQ(throughput,
            (std::set<std::string>{"shmio/32", "shmio/1024", "shmio-chain/32",
                                   "shmio-chain/1024", "pipe/32",
                                   "pipe/1024", "uds/32", "uds/1024", "zmq/32",
                                   "zmq/1024", "reference/32",
                                   "reference/1024"}))
      << run.out;

  std::set<std::string> latency;
  for (const std::string& line : LinesStartingWith(run.out, "transport=")) {
    if (Field(line, "measure") != "latency") continue;
    latency.insert(Field(line, "transport"));
    const double p50 = Number(line, "p50_ns"), p99 = Number(line, "p99_ns"),
                 p999 = Number(line, "p999_ns"), max = Number(line, "max_ns");
    EXPECT_GT(p50, 0) << line;
    EXPECT_LE(p50, p99) << line;
    EXPECT_LE(p99, p999) << line;
    EXPECT_LE(p999, max) << line;
  }
  EXPECT_EQ(latency, (std::set<std::string>{"shmio", "shmio-chain", "shmio-inotify",
                                            "shmio-timer", "pipe", "uds", "zmq",
                                            "floor", "reference"}))
      << run.out;

  EXPECT_FALSE(LinesStartingWith(run.out, "ratio measure=throughput payload=32 shmio_vs=uds").empty());
  EXPECT_FALSE(LinesStartingWith(run.out, "ratio measure=latency payload=32 shmio_vs=floor").empty());
  // shmio-chain against shmio, with the rolls its writers did.
  for (const char* prefix :
       {"chain measure=throughput payload=32 chain_vs=shmio metric=msgs_per_s",
        "chain measure=throughput payload=1024 chain_vs=shmio metric=msgs_per_s",
        "chain measure=latency payload=32 chain_vs=shmio metric=p99_ns"}) {
    const std::vector<std::string> lines = LinesStartingWith(run.out, prefix);
    ASSERT_EQ(lines.size(), 1u) << prefix << "\n" << run.out;
    EXPECT_GT(Number(lines[0], "value"), 0) << lines[0];
    EXPECT_GT(Number(lines[0], "rolls"), 0) << lines[0];
  }
  const std::vector<std::string> targets = LinesStartingWith(run.out, "target ");
  EXPECT_EQ(targets.size(), 7u) << run.out;
  for (const std::string& line : targets) {
    const std::string result = Field(line, "result");
    EXPECT_TRUE(result == "PASS" || result == "MISS") << line;
  }

  const std::string csv_text = ReadFile(csv);
  EXPECT_EQ(csv_text.rfind("kind,transport,measure,payload,metric,", 0), 0u) << csv_text;
  EXPECT_NE(csv_text.find("result,shmio,throughput,32,msgs_per_s,"), std::string::npos);
  EXPECT_NE(csv_text.find("result,floor,latency,32,p50_ns,"), std::string::npos);
  EXPECT_EQ(ReadFile(png).substr(0, 4), "\x89PNG");
}

// Both busy-poll transports share one reader loop; each must still report
// the loss (for the chain, message 1000 is in a later file than the first).
class LostMessageTest : public testing::TestWithParam<std::string> {};

TEST_P(LostMessageTest, ALostMessageFailsTheRun) {
  const std::string transport = GetParam();
  ProgramResult run = RunIpc(
      {"--quick", "--transports=" + transport, "--latency_payloads=",
       "--throughput_payloads=32", "--test_only_skip_message=1000",
       "--reader_cpu=" + ReaderCpu()});
  EXPECT_EQ(run.exit_code, 1) << run.out;
  const std::vector<std::string> errors = LinesStartingWith(run.out, "error ");
  ASSERT_EQ(errors.size(), 1u) << run.out;
  EXPECT_NE(errors[0].find("transport=" + transport + " "), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[0].find("expected message 1000, got 1001"), std::string::npos)
      << errors[0];
  EXPECT_TRUE(LinesStartingWith(run.out,
                                "transport=" + transport + " measure=throughput")
                  .empty())
      << run.out;
}

INSTANTIATE_TEST_SUITE_P(BusyPoll, LostMessageTest,
                         testing::Values("shmio", "shmio-chain"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param == "shmio" ? std::string("Shmio")
                                                        : std::string("ShmioChain");
                         });

}  // namespace
}  // namespace bench_test
