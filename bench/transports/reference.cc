#include "bench/transports/reference.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_format.h"
#include "bench/message.h"
#include "bench/micro/reference_log.h"
#include "bench/transports/shmio_files.h"

namespace bench {
namespace {

// A whole log file mapped shared and prefaulted; unmapped on destruction.
class RawMapping {
 public:
  static absl::StatusOr<RawMapping> Open(const std::string& path, bool writable) {
    const int fd = open(path.c_str(), writable ? O_RDWR : O_RDONLY);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
    struct stat st;
    if (fstat(fd, &st) != 0) {
      const int error = errno;
      close(fd);
      return absl::ErrnoToStatus(error, absl::StrCat("fstat ", path));
    }
    const size_t size = static_cast<size_t>(st.st_size);
    void* p = mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                   MAP_SHARED | MAP_POPULATE, fd, 0);
    const int error = errno;
    close(fd);
    if (p == MAP_FAILED) {
      return absl::ErrnoToStatus(error, absl::StrFormat("mmap %d bytes of %s", size, path));
    }
    return RawMapping(static_cast<uint8_t*>(p), size);
  }
  RawMapping(RawMapping&& other) noexcept
      : base_(std::exchange(other.base_, nullptr)), size_(other.size_) {}
  ~RawMapping() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  uint8_t* base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  RawMapping(uint8_t* base, uint64_t size) : base_(base), size_(size) {}
  uint8_t* base_;
  uint64_t size_;
};

uint64_t LoadCommitted(const uint8_t* base) {
  // Acquire: pairs with the writer's release store in RefWriter::Commit, so
  // the frames below the value are visible.
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(base + kRefCommittedOffset),
                         __ATOMIC_ACQUIRE);
}

// A writer continuing the log created by CreateEmptyLog (header set by
// shmio, so frames start at its data offset).
RefWriter WriterFor(const RawMapping& mapping) {
  return RefWriter{mapping.base(), mapping.size(), LoadCommitted(mapping.base())};
}

// Spins until `committed` moves past `*cursor`, then checks the one new
// frame at *cursor is message `sequence` and moves the cursor past it.
absl::Status AwaitFrame(const uint8_t* base, uint64_t* cursor, size_t n,
                        uint64_t sequence, SpinGuard& guard) {
  uint64_t committed;
  while ((committed = LoadCommitted(base)) == *cursor) {
    if (guard.Expired()) {
      return absl::DeadlineExceededError(
          absl::StrFormat("reference: no message %d", sequence));
    }
  }
  absl::Status status;
  const uint64_t end = RefForEachForward(
      base, *cursor, committed, [&](const uint8_t* payload, size_t size) {
        status = VerifyMessage(absl::MakeConstSpan(payload, size), n, sequence);
      });
  if (end != committed) return absl::DataLossError("reference: damaged frame");
  *cursor = committed;
  return status;
}

}  // namespace

ReferenceTransport::ReferenceTransport(std::string dir, uint64_t max_log_bytes)
    : dir_(std::move(dir)), max_log_bytes_(max_log_bytes) {}

uint64_t ReferenceTransport::ThroughputMessages(size_t payload_bytes,
                                                uint64_t budget) const {
  return std::min(budget, (max_log_bytes_ - kRefDataOffset) / (payload_bytes + 4));
}

absl::Status ReferenceTransport::PrepareThroughput(const ThroughputSpec& spec) {
  data_path_ = UniqueLogPath(dir_, "ref-throughput");
  return CreateEmptyLog(data_path_, LogCapacityFor(spec.messages, spec.payload_bytes));
}

absl::Status ReferenceTransport::ThroughputWriter(const ThroughputSpec& spec,
                                                  SharedControl* control) {
  absl::StatusOr<RawMapping> mapping = RawMapping::Open(data_path_, true);
  if (!mapping.ok()) return mapping.status();
  RefWriter writer = WriterFor(*mapping);
  const MessageMaker maker(spec.payload_bytes);
  std::vector<uint8_t> message(spec.payload_bytes);
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  RecordWriterStart(control);
  for (uint64_t i = 0; i < spec.messages; ++i) {
    // Filled in place, like the shmio writer's slice.
    if (writer.capacity - writer.position < spec.payload_bytes + 4) {
      return absl::ResourceExhaustedError("reference log full");
    }
    maker.Fill(i, writer.base + writer.position + 2);
    const uint16_t total = static_cast<uint16_t>(spec.payload_bytes + 4);
    std::memcpy(writer.base + writer.position, &total, 2);
    std::memcpy(writer.base + writer.position + 2 + spec.payload_bytes, &total, 2);
    writer.position += total;
    writer.Commit();
  }
  return absl::OkStatus();
}

absl::Status ReferenceTransport::ThroughputReader(const ThroughputSpec& spec,
                                                  SharedControl* control) {
  absl::StatusOr<RawMapping> mapping = RawMapping::Open(data_path_, false);
  if (!mapping.ok()) return mapping.status();
  const uint8_t* base = mapping->base();
  uint64_t cursor = LoadCommitted(base);
  SpinGuard guard(control, spec.timeout_seconds);
  SignalChildReady(control);
  uint64_t verified = 0;
  absl::Status status;
  while (verified < spec.messages) {
    const uint64_t committed = LoadCommitted(base);
    if (committed == cursor) {
      if (guard.Expired()) {
        return absl::DeadlineExceededError(absl::StrFormat(
            "reference: verified %d of %d messages", verified, spec.messages));
      }
      continue;
    }
    const uint64_t end = RefForEachForward(
        base, cursor, committed, [&](const uint8_t* payload, size_t size) {
          if (!status.ok()) return;
          status = VerifyMessage(absl::MakeConstSpan(payload, size),
                                 spec.payload_bytes, verified);
          ++verified;
        });
    if (!status.ok()) return status;
    if (end != committed) return absl::DataLossError("reference: damaged frame");
    cursor = committed;
  }
  RecordReaderDone(control, verified);
  return absl::OkStatus();
}

absl::Status ReferenceTransport::PrepareLatency(const LatencySpec& spec) {
  const uint64_t capacity = LogCapacityFor(
      spec.warmup_round_trips + spec.round_trips, spec.payload_bytes);
  data_path_ = UniqueLogPath(dir_, "ref-ping");
  pong_path_ = UniqueLogPath(dir_, "ref-pong");
  absl::Status status = CreateEmptyLog(data_path_, capacity);
  if (!status.ok()) return status;
  return CreateEmptyLog(pong_path_, capacity);
}

absl::Status ReferenceTransport::LatencyInitiator(
    const LatencySpec& spec, SharedControl* control,
    std::vector<int64_t>* one_way_ns) {
  absl::StatusOr<RawMapping> ping = RawMapping::Open(data_path_, true);
  if (!ping.ok()) return ping.status();
  absl::StatusOr<RawMapping> pong = RawMapping::Open(pong_path_, false);
  if (!pong.ok()) return pong.status();
  RefWriter writer = WriterFor(*ping);
  uint64_t cursor = LoadCommitted(pong->base());
  const size_t n = spec.payload_bytes;
  const MessageMaker maker(n);
  std::vector<uint8_t> message(n);
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  SpinGuard guard(control, spec.timeout_seconds);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    const int64_t start = NowNs();
    maker.Fill(i, message.data());
    if (!writer.Append(message.data(), n)) {
      return absl::ResourceExhaustedError("reference ping log full");
    }
    writer.Commit();
    status = AwaitFrame(pong->base(), &cursor, n, i, guard);
    if (!status.ok()) return status;
    const int64_t end = NowNs();
    if (i >= spec.warmup_round_trips) one_way_ns->push_back((end - start) / 2);
  }
  return absl::OkStatus();
}

absl::Status ReferenceTransport::LatencyEchoer(const LatencySpec& spec,
                                               SharedControl* control) {
  absl::StatusOr<RawMapping> pong = RawMapping::Open(pong_path_, true);
  if (!pong.ok()) return pong.status();
  absl::StatusOr<RawMapping> ping = RawMapping::Open(data_path_, false);
  if (!ping.ok()) return ping.status();
  RefWriter writer = WriterFor(*pong);
  uint64_t cursor = LoadCommitted(ping->base());
  const size_t n = spec.payload_bytes;
  const MessageMaker maker(n);
  std::vector<uint8_t> message(n);
  SpinGuard guard(control, spec.timeout_seconds);
  SignalChildReady(control);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  for (uint64_t i = 0; i < total; ++i) {
    absl::Status status = AwaitFrame(ping->base(), &cursor, n, i, guard);
    if (!status.ok()) return status;
    maker.Fill(i, message.data());
    if (!writer.Append(message.data(), n)) {
      return absl::ResourceExhaustedError("reference pong log full");
    }
    writer.Commit();
  }
  RecordReaderDone(control, total);
  return absl::OkStatus();
}

void ReferenceTransport::Cleanup() {
  if (!data_path_.empty()) unlink(data_path_.c_str());
  if (!pong_path_.empty()) unlink(pong_path_.c_str());
  data_path_.clear();
  pong_path_.clear();
}

}  // namespace bench
