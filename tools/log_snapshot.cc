#include "tools/log_snapshot.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/sigbus_guard.h"

namespace shmio::cli {
namespace {

// How long a re-read waits; short against kDamageConfirmMs so a torn value
// is retried many times before the Consumer calls it damage.
constexpr absl::Duration kRereadPause = absl::Milliseconds(1);

// Settles the committed value through the Consumer (see the header).
absl::StatusOr<uint64_t> SettleCommitted(const std::string& path,
                                         const SharedMemory& shm,
                                         Consumer& consumer) {
  absl::Time deadline = absl::Now() + absl::Milliseconds(kSettleDeadlineMs);
  uint64_t first_raw = shm.LoadCommitted();
  bool raw_changed = false;
  while (true) {
    uint64_t raw_before = shm.LoadCommitted();
    absl::StatusOr<uint64_t> validated = consumer.Committed();
    if (!validated.ok()) return validated.status();
    uint64_t raw_after = shm.LoadCommitted();
    raw_changed = raw_changed || raw_before != first_raw || raw_after != first_raw;
    // The Consumer answers with the value it just validated or, when it must
    // re-read, the last good one (genuine, but possibly hiding damage). A
    // value the header held around the call is the current one, validated.
    if (*validated == raw_before || *validated == raw_after) return *validated;
    if (absl::Now() > deadline) {
      if (raw_changed) {
        // A writer keeps moving the value; *validated was genuine when read.
        return *validated;
      }
      return absl::DataLossError(absl::StrFormat(
          "%s: committed value %d stayed invalid for %d ms (file is %d bytes, "
          "last good value %d): the header is damaged",
          path, raw_after, kSettleDeadlineMs, shm.capacity(), *validated));
    }
    absl::SleepFor(kRereadPause);
  }
}

}  // namespace

absl::StatusOr<LogSnapshot> OpenLogSnapshot(const std::string& path,
                                            bool debug) {
  GuardAgainstShrinkingFile(path);
  // Open() refuses what is not a log (a directory, a file shorter than the
  // header, a damaged header) and already re-reads a torn committed value
  // for Consumer::kDamageConfirmMs before it calls it damage.
  Options options;
  options.path = path;
  options.debug_checks = debug;
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();

  LogSnapshot snapshot;
  snapshot.shm = *std::move(shm);
  snapshot.consumer = std::make_unique<Consumer>(snapshot.shm.get());
  snapshot.header = snapshot.shm->ReadHeader();
  if (snapshot.empty_log()) return snapshot;  // no writer yet: no frames

  snapshot.data_offset = snapshot.header.data_offset;
  absl::StatusOr<uint64_t> committed =
      SettleCommitted(path, *snapshot.shm, *snapshot.consumer);
  if (!committed.ok()) return committed.status();
  snapshot.committed = *committed;
  return snapshot;
}

}  // namespace shmio::cli
