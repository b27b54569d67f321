// A ledger that never fills: the event-sourcing ledger written to a chain
// of small files. A writer process records 20,000 events into 8 KiB files
// (the chain rolls to a new file about every 300 events, more than 50 times
// in all) while a consumer on a libuv loop follows the chain with
// uvwatch::Subscription::OpenChain from its first position, across every
// roll, woken by the doorbell of the file it waits on.
//
//   ./bazelw run //examples:chain_ledger
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "examples/ledger.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "uvwatch/subscription.h"

namespace {

using examples::MsgType;

constexpr int kMoves = 20000;
constexpr int kBatch = 50;

// The writer process: accounts, then the moves in batches (each batch is
// one Commit(), seen whole by the reader even when it crosses a roll).
int RunWriter(const std::string& directory, int created_fd) {
  shmio::ChainOptions options;
  options.directory = directory;
  options.create = true;
  options.file_capacity = 8 << 10;
  auto chain = shmio::ChainWriter::Open(options);
  if (!chain.ok()) {
    std::fprintf(stderr, "writer: %s\n", chain.status().ToString().c_str());
    return 1;
  }
  examples::RecordAccounts(**chain);
  if (!(*chain)->Commit().ok()) return 1;
  if (write(created_fd, "c", 1) != 1) return 1;  // the chain exists: follow it
  for (int first = 0; first < kMoves; first += kBatch) {
    examples::RecordMoves(**chain, first, kBatch);
    if (!(*chain)->Commit().ok()) return 1;
    if (first % 2000 == 0) usleep(1000);  // a live writer, not a bulk load
  }
  auto* end = examples::Record<examples::EndOfStream>(**chain, MsgType::kEndOfStream);
  end->frames_sent = 3 + kMoves;
  if (!(*chain)->Commit().ok()) return 1;
  std::printf("writer: %llu rolls\n", static_cast<unsigned long long>((*chain)->rolls()));
  return 0;
}

}  // namespace

int main() {
  const std::string directory = absl::StrFormat("/dev/shm/shmio-chain-ledger-%d", getpid());
  int created[2];
  if (pipe(created) != 0) return 1;
  std::fflush(stdout);
  pid_t writer = fork();
  if (writer == 0) {
    close(created[0]);
    int code = RunWriter(directory, created[1]);
    std::fflush(stdout);
    _exit(code);
  }
  close(created[1]);
  char byte;
  if (read(created[0], &byte, 1) != 1) return 1;

  uv_loop_t* loop = uv_default_loop();
  examples::Ledger ledger;
  uint64_t batches = 0;
  uint64_t last_position = 0;
  uvwatch::Subscription* consumer = nullptr;
  auto subscription = uvwatch::Subscription::OpenChain(
      loop, directory, uvwatch::Options{},  // from the first position, auto mode
      [&](const shmio::Batch& batch) {
        for (const shmio::Frame& frame : batch.frames) ledger.Apply(frame.payload);
        ++batches;
        last_position = batch.next_cursor;  // a chain position: save it to resume
        if (ledger.ended) consumer->Close();
      },
      [&](const absl::Status& error) {
        std::fprintf(stderr, "consumer: %s\n", error.ToString().c_str());
        consumer->Close();
      });
  if (!subscription.ok()) {
    std::fprintf(stderr, "%s\n", subscription.status().ToString().c_str());
    return 1;
  }
  consumer = *subscription;
  uv_run(loop, UV_RUN_DEFAULT);

  int status = 0;
  waitpid(writer, &status, 0);
  auto listing = shmio::ListChain(directory);
  const size_t files = listing.ok() ? listing->files.size() : 0;
  ledger.Print();
  const bool ok = ledger.ended && ledger.applied == ledger.expected && files > 50 &&
                  uv_loop_close(loop) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("%s: applied %llu of %llu events from %zu files in %llu batches, up to position %llu\n",
              ok ? "ok" : "FAILED", static_cast<unsigned long long>(ledger.applied),
              static_cast<unsigned long long>(ledger.expected), files,
              static_cast<unsigned long long>(batches),
              static_cast<unsigned long long>(last_position));
  (void)shmio::RemoveChain(directory);
  return ok ? 0 : 1;
}
