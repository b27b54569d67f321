#include "bench/transports/shmio_busy.h"

#include <unistd.h>

#include <utility>

namespace bench {

absl::Status SingleFileLog::Create(const std::string& path, uint64_t bytes) {
  return CreateEmptyLog(path, bytes);
}

absl::StatusOr<SingleFileLog::Writer> SingleFileLog::OpenWriter(
    const std::string& path) {
  absl::StatusOr<LogWriter> log = OpenLogWriter(path);
  if (!log.ok()) return log.status();
  return Writer{*std::move(log)};
}

absl::StatusOr<SingleFileLog::Reader> SingleFileLog::OpenReader(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      OpenLogReader(path);
  if (!shm.ok()) return shm.status();
  Reader reader;
  reader.shm = *std::move(shm);
  reader.consumer = std::make_unique<shmio::Consumer>(reader.shm.get());
  return reader;
}

void SingleFileLog::Remove(const std::string& path) { unlink(path.c_str()); }

template class BusyPollTransport<SingleFileLog>;

}  // namespace bench
