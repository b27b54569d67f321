// What numbered_writer tells its parent through the report pipe: one
// fixed-size record per event. A record is 24 bytes, less than PIPE_BUF, so
// each write() is atomic: a writer SIGKILLed mid-report leaves either the
// whole record in the pipe or none of it.
#ifndef TESTS_RELIABILITY_WRITER_REPORT_H_
#define TESTS_RELIABILITY_WRITER_REPORT_H_

#include <cstdint>

namespace shmio_reliability {

enum class ReportKind : uint64_t {
  // The writer opened the log: `committed` is where it continues and
  // `next_seq` the sequence number it derived from the last committed frame.
  kStarted = 1,
  // Commit() returned OK: `committed` is the value it published and
  // `next_seq` the number of frames now committed.
  kCommitted = 2,
  // The log is full ("Shared memory exhausted"); everything appended was
  // committed first (a kCommitted record precedes this one).
  kFull = 3,
};

struct Report {
  ReportKind kind = ReportKind::kStarted;
  uint64_t committed = 0;
  uint64_t next_seq = 0;
};
static_assert(sizeof(Report) == 24);

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_WRITER_REPORT_H_
