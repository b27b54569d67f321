// Event sourcing: a writer process records typed events (a bank ledger) in
// a log; a consumer on a libuv loop rebuilds the state from the beginning of
// the log, then follows the events the writer keeps recording.
//
//   ./bazelw run //examples:event_sourcing
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "examples/ledger.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace {

using examples::MsgType;
using examples::Record;
using examples::RecordMoves;

// The writer process: a history, then (once the consumer has caught up)
// live batches, then end of stream.
int RunWriter(const std::string& path, int history_written_fd, int go_fd) {
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return 1;
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return 1;
  examples::RecordAccounts(**pool);
  RecordMoves(**pool, 0, 300);
  (void)(*pool)->Commit();
  if (write(history_written_fd, "h", 1) != 1) return 1;  // consumer starts
  char go;
  if (read(go_fd, &go, 1) != 1) return 1;  // it rebuilt the state: go live

  for (int batch = 0; batch < 5; ++batch) {
    RecordMoves(**pool, 300 + batch * 20, 20);
    (void)(*pool)->Commit();
  }
  auto* end = Record<examples::EndOfStream>(**pool, MsgType::kEndOfStream);
  end->frames_sent = 3 + 300 + 5 * 20;
  return (*pool)->Commit().ok() ? 0 : 1;
}

}  // namespace

int main() {
  const std::string path = absl::StrFormat("/dev/shm/shmio-ledger-%d", getpid());
  int history_written[2], go[2];
  if (pipe(history_written) != 0 || pipe(go) != 0) return 1;
  pid_t writer = fork();
  if (writer == 0) {
    close(history_written[0]);
    close(go[1]);
    _exit(RunWriter(path, history_written[1], go[0]));
  }
  close(history_written[1]);
  close(go[0]);
  char byte;
  if (read(history_written[0], &byte, 1) != 1) return 1;  // the log exists

  uv_loop_t* loop = uv_default_loop();
  examples::Ledger ledger;
  int batches = 0;
  uvwatch::Subscription* consumer = nullptr;
  auto subscription = uvwatch::Subscription::Open(
      loop, path, uvwatch::Options{},  // from the beginning, auto mode
      [&](const shmio::Batch& batch) {
        for (const shmio::Frame& frame : batch.frames) ledger.Apply(frame.payload);
        std::printf("%s %zu events; %llu applied so far\n",
                    batches == 0 ? "rebuilt state from" : "followed",
                    batch.frame_count,
                    static_cast<unsigned long long>(ledger.applied));
        if (batches++ == 0 && write(go[1], "g", 1) != 1) consumer->Close();
        if (ledger.ended) consumer->Close();
      },
      [](const absl::Status& error) {
        std::fprintf(stderr, "consumer: %s\n", error.ToString().c_str());
      });
  if (!subscription.ok()) {
    std::fprintf(stderr, "%s\n", subscription.status().ToString().c_str());
    return 1;
  }
  consumer = *subscription;
  uv_run(loop, UV_RUN_DEFAULT);

  int status = 0;
  waitpid(writer, &status, 0);
  ledger.Print();
  bool ok = ledger.ended && ledger.applied == ledger.expected &&
            uv_loop_close(loop) == 0 && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0;
  std::printf("%s: applied %llu of %llu events\n", ok ? "ok" : "FAILED",
              static_cast<unsigned long long>(ledger.applied),
              static_cast<unsigned long long>(ledger.expected));
  unlink(path.c_str());
  return ok ? 0 : 1;
}
