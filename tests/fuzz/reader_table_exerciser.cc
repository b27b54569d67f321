#include "tests/fuzz/reader_table_exerciser.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/format.h"
#include "shmio/reader_table.h"
#include "tests/fuzz/fuzz_support.h"

namespace shmio_fuzz {
namespace {

// Frames of 16-byte payloads: positions 0, 20, 40, ... in a few files.
constexpr uint64_t kFileCapacity = 4096;
constexpr int kFrames = 400;

std::string ScratchOf(pid_t pid) { return absl::StrCat("/dev/shm/shmio-fuzz-", pid, "-chain"); }

// The scratch chain of this process and its id, made on first use.
struct ScratchChain {
  std::string directory;
  uint64_t chain_id = 0;
  ~ScratchChain() { RemoveReaderTableScratch(getpid()); }
};

const ScratchChain& Scratch() {
  static ScratchChain* chain = [] {
    auto* made = new ScratchChain{ScratchOf(getpid())};
    std::filesystem::remove_all(made->directory);
    shmio::ChainOptions options;
    options.directory = made->directory;
    options.create = true;
    options.file_capacity = kFileCapacity;
    auto writer = shmio::ChainWriter::Open(options);
    EXPECT_PROMISE(writer.ok(), "cannot make the scratch chain: %s", writer.status().ToString());
    const std::vector<uint8_t> payload(16, 0x5a);
    for (int i = 0; i < kFrames; ++i) {
      EXPECT_PROMISE((*writer)->Append(payload).ok() && (*writer)->Commit().ok(),
                     "cannot write the scratch chain");
    }
    auto settings = shmio::ReadChainSettings(made->directory);
    EXPECT_PROMISE(settings.ok(), "%s", settings.status().ToString());
    made->chain_id = settings->chain_id;
    return made;
  }();
  static const std::unique_ptr<ScratchChain> cleanup(chain);  // removed at exit
  return *chain;
}

// An error from a damaged table names the table, and is never Internal.
void CheckError(const absl::Status& status, const std::string& table, const char* api) {
  EXPECT_PROMISE(!absl::IsInternal(status), "%s: %s", api, status.ToString());
  if (absl::IsDataLoss(status)) {
    EXPECT_PROMISE(absl::StrContains(status.message(), table), "%s's DataLoss must name %s: %s",
                   api, table, status.ToString());
  }
}

void ExerciseTable(const ScratchChain& chain, const std::string& table_path, size_t size) {
  auto table = shmio::ReaderTable::Open(chain.directory, chain.chain_id, /*create=*/false);
  if (size != shmio::ReaderTable::kFileSize) {
    EXPECT_PROMISE(!table.ok(), "a %d-byte reader table opened", size);
  }
  if (!table.ok()) {
    CheckError(table.status(), table_path, "ReaderTable::Open");
    return;
  }
  auto readers = (*table)->List();
  if (!readers.ok()) {
    CheckError(readers.status(), table_path, "List");
  } else {
    for (const shmio::NamedReaderInfo& reader : *readers) {
      EXPECT_PROMISE(!reader.name.empty() && reader.name.size() <= shmio::ReaderTable::kMaxNameLength,
                     "List() gave a name of %d bytes", reader.name.size());
      EXPECT_PROMISE(!reader.alive, "reader \"%s\" alive in a table no process holds",
                     reader.name);
    }
    // The writer's and the CLI's calls, on a name the table holds.
    if (!readers->empty()) {
      const shmio::NamedReaderInfo& first = readers->front();
      CheckError((*table)->Drop(first.name, first.position, first.position + 20), table_path,
                 "Drop");
      CheckError((*table)->Reset(first.name, 40), table_path, "Reset");
      if (readers->size() > 1) CheckError((*table)->Remove(readers->back().name), table_path, "Remove");
    }
  }
  auto slot = (*table)->Claim("fuzz", 0);
  if (!slot.ok()) {
    CheckError(slot.status(), table_path, "Claim");
    return;
  }
  (void)(*slot)->dropped();
  (void)(*slot)->info();
  (*slot)->Ack((*slot)->position());
  CheckError((*slot)->Resume(0), table_path, "Resume");
}

void ExerciseNamedConsumer(const ScratchChain& chain, const std::string& table_path) {
  auto consumer = shmio::ChainConsumer::OpenNamed(chain.directory, "fuzz");
  if (!consumer.ok()) {
    CheckError(consumer.status(), table_path, "OpenNamed");
    return;
  }
  auto batch = (*consumer)->Next({64, 1 << 20});
  if (!batch.ok()) {
    // A dropped reader (or one at a position the table made up) goes on
    // from the beginning, as its error says.
    EXPECT_PROMISE(!absl::IsInternal(batch.status()), "Next: %s", batch.status().ToString());
    CheckError((*consumer)->SeekToBeginning(), table_path, "SeekToBeginning");
    return;
  }
  for (const shmio::Frame& frame : batch->frames) {
    EXPECT_PROMISE(frame.payload.size() == 16, "a frame of %d bytes", frame.payload.size());
  }
  EXPECT_PROMISE((*consumer)->Ack().ok(), "Ack() at the cursor failed");
}

}  // namespace

void RemoveReaderTableScratch(pid_t pid) {
  std::error_code ignored;
  std::filesystem::remove_all(ScratchOf(pid), ignored);
}

void ExerciseReaderTableBytes(const uint8_t* data, size_t size) {
  const ScratchChain& chain = Scratch();
  const std::string table_path = shmio::ChainPath(chain.directory, shmio::kReaderTableFileName);
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 24 && std::all_of(bytes.begin() + 16, bytes.begin() + 24, [](uint8_t b) { return b == 0; })) {
    shmio::format::EncodeU64(bytes.data() + 16, chain.chain_id);
  }
  WriteFile(table_path, bytes.data(), bytes.size());
  ExerciseTable(chain, table_path, size);
  ExerciseNamedConsumer(chain, table_path);
}

}  // namespace shmio_fuzz
