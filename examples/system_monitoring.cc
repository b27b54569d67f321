// System monitoring: a logger process writes log entries to a log in
// /dev/shm; a monitor process, on a libuv loop, prints each entry as it
// arrives. The monitor starts the logger with uv_spawn (this same program,
// run as `system_monitoring logger PATH`), as a supervisor would.
//
//   ./bazelw run //examples:system_monitoring
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "examples/events.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace {

using examples::Level;
using examples::LogEntry;

uint64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

// Appends one entry: the LogEntry struct, then its text, in one frame.
bool Log(shmio::Pool& pool, Level level, const std::string& text) {
  auto frame = pool.SliceSize(sizeof(LogEntry) + text.size());
  if (!frame.ok()) return false;
  LogEntry entry{{examples::MsgType::kLogEntry, NowNs()}, level,
                 static_cast<uint16_t>(text.size())};
  std::memcpy(frame->data(), &entry, sizeof entry);
  std::memcpy(frame->data() + sizeof entry, text.data(), text.size());
  return pool.Commit().ok();  // one entry per commit: readers see it now
}

// The logger process.
int RunLogger(const std::string& path) {
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return 1;
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return 1;
  bool ok = Log(**pool, Level::kInfo, "service started");
  for (int i = 1; i <= 5; ++i) {
    ok &= Log(**pool, Level::kDebug, absl::StrFormat("heartbeat %d", i));
  }
  ok &= Log(**pool, Level::kWarn, "disk 91% full");
  ok &= Log(**pool, Level::kError, "lost connection to db-1");
  ok &= Log(**pool, Level::kInfo, "service stopping");
  auto* end = *(*pool)->Wrap<examples::EndOfStream>();
  end->header = {examples::MsgType::kEndOfStream, NowNs()};
  return ok && (*pool)->Commit().ok() ? 0 : 1;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO ";
    case Level::kWarn: return "WARN ";
    case Level::kError: return "ERROR";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "logger") == 0) return RunLogger(argv[2]);

  // The monitor. The logger must not create the log while we watch for it,
  // so create it empty first (a zero file is a fresh log for the writer).
  std::string path = absl::StrFormat("/dev/shm/shmio-monitor-%d", getpid());
  {
    shmio::Options options;
    options.path = path;
    options.capacity = 1 << 20;
    options.writable = true;
    auto shm = shmio::SharedMemory::Open(options);  // creates, then unlocks
    if (!shm.ok()) return 1;
    auto pool = shmio::Pool::Create(shm->get());   // writes the header
    if (!pool.ok()) return 1;
  }

  uv_loop_t* loop = uv_default_loop();
  int entries = 0;
  uvwatch::Subscription* monitor = nullptr;
  auto subscription = uvwatch::Subscription::Open(
      loop, path, uvwatch::Options{},
      [&](const shmio::Batch& batch) {
        for (const shmio::Frame& frame : batch.frames) {
          const uint8_t* p = frame.payload.data();
          if (examples::TypeOf(p) == examples::MsgType::kEndOfStream) {
            monitor->Close();
            return;
          }
          auto* entry = reinterpret_cast<const LogEntry*>(p);
          std::printf("[%s] %.*s\n", LevelName(entry->level),
                      static_cast<int>(entry->text_length),
                      reinterpret_cast<const char*>(p + sizeof(LogEntry)));
          ++entries;
        }
        std::fflush(stdout);  // a monitor's reader sees each batch now
      },
      [](const absl::Status& error) {
        std::fprintf(stderr, "monitor: %s\n", error.ToString().c_str());
      });
  if (!subscription.ok()) return 1;
  monitor = *subscription;
  std::printf("monitor: watching %s (%s mode)\n", path.c_str(),
              uvwatch::ModeName(monitor->mode()));

  // Start the logger as a child process.
  char exe[4096];
  size_t exe_size = sizeof exe;
  if (uv_exepath(exe, &exe_size) != 0) return 1;
  char logger_arg[] = "logger";
  char* args[] = {exe, logger_arg, path.data(), nullptr};
  uv_process_options_t spawn = {};
  spawn.file = exe;
  spawn.args = args;
  int logger_status = -1;
  spawn.exit_cb = [](uv_process_t* process, int64_t status, int signal) {
    *static_cast<int*>(process->data) = static_cast<int>(status);
    uv_close(reinterpret_cast<uv_handle_t*>(process), nullptr);
  };
  uv_process_t logger;
  if (uv_spawn(loop, &logger, &spawn) != 0) return 1;
  logger.data = &logger_status;  // read by exit_cb, which runs in uv_run

  uv_run(loop, UV_RUN_DEFAULT);  // until the logger exited and we closed
  std::printf("monitor: %d entries, logger exited with %d\n", entries,
              logger_status);
  int closed = uv_loop_close(loop);
  unlink(path.c_str());
  return entries == 9 && logger_status == 0 && closed == 0 ? 0 : 1;
}
