#include "tools/log_snapshot.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "shmio/iterator.h"
#include "tools/sigbus_guard.h"

namespace shmio::cli {
namespace {

// How long to wait between two looks at a value that did not validate.
constexpr absl::Duration kRereadPause = absl::Milliseconds(1);

// Settles the committed value through the Consumer (see the header).
absl::StatusOr<uint64_t> SettleCommitted(Consumer& consumer) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(kSettleDeadlineMs);
  while (true) {
    absl::StatusOr<uint64_t> validated = consumer.Committed();
    if (!validated.ok()) return validated.status();
    // The value in the header now is genuine (a writer may have moved it
    // past *validated meanwhile: that is a later state, equally fine).
    absl::Status problem = consumer.CommittedProblem();
    if (problem.ok()) return *validated;
    if (absl::Now() >= deadline) return problem;
    absl::SleepFor(kRereadPause);
  }
}

}  // namespace

absl::StatusOr<LogSnapshot> OpenLogSnapshot(const std::string& path,
                                            bool debug) {
  GuardAgainstShrinkingFile(path);
  // Open() refuses what is not a log (a directory, a FIFO, a file shorter
  // than the header, a damaged header); the committed value is the
  // Consumer's to validate.
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
  absl::StatusOr<uint64_t> committed = SettleCommitted(*snapshot.consumer);
  if (!committed.ok()) return committed.status();
  snapshot.committed = *committed;
  return snapshot;
}

absl::Status CheckCursorOutsideHeader(const HeaderSnapshot& header,
                                      const char* flag, uint64_t cursor) {
  if (header.format == FileFormat::kEmpty) {
    if (cursor == 0) return absl::OkStatus();
    return absl::OutOfRangeError(absl::StrFormat(
        "--%s=%d: cursor %d is past the end of an empty log (all-zero header)",
        flag, cursor, cursor));
  }
  if (cursor < header.data_offset) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s=%d: cursor %d is inside the header; the first frame is at %d "
        "(--from=begin names it)",
        flag, cursor, cursor, header.data_offset));
  }
  return absl::OkStatus();
}

absl::Status CheckCursor(LogSnapshot& log, const char* flag, uint64_t cursor) {
  absl::Status status = CheckCursorOutsideHeader(log.header, flag, cursor);
  if (!status.ok() || log.empty_log()) return status;
  status = log.consumer->Seek(cursor);
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrFormat("--%s=%d: %s", flag, cursor,
                                                     status.message()));
}

FrameWalk WalkFrames(const SharedMemory& shm, uint64_t from, uint64_t limit, bool debug) {
  FrameWalk walk;
  uint64_t position = from;
  while (position < limit) {
    Frame frame;
    if (!TryReadFrameAt(shm.data(), position, limit, debug, &frame)) {
      walk.bad_offset = position;
      walk.status = FrameDamageAt(shm.data(), position, limit, debug, shm.path());
      return walk;
    }
    ++walk.frames;
    position = frame.end();
  }
  return walk;
}

}  // namespace shmio::cli
