#include "tests/shmio/log_util.h"

#include <utility>

#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/iterator.h"

namespace shmio_test {

absl::StatusOr<Writer> OpenWriter(shmio::Options options) {
  options.writable = true;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  Writer writer;
  writer.shm = *std::move(shm);
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool =
      shmio::Pool::Create(writer.shm.get());
  if (!pool.ok()) return pool.status();
  writer.pool = *std::move(pool);
  return writer;
}

absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> OpenReader(
    const std::string& path) {
  return shmio::SharedMemory::Open({.path = path});
}

std::vector<CopiedFrame> ReadCommittedFrames(const shmio::SharedMemory& shm) {
  std::vector<CopiedFrame> frames;
  shmio::Consumer consumer(&shm);
  while (true) {
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    if (!batch.ok()) {
      ADD_FAILURE() << "Consumer::Next: " << batch.status();
      break;
    }
    if (batch->empty()) break;
    size_t count = 0;
    for (const shmio::Frame& frame : batch->frames) {
      frames.push_back(
          {frame.offset,
           std::vector<uint8_t>(frame.payload.begin(), frame.payload.end())});
      ++count;
    }
    if (!batch->frames.status().ok()) {
      ADD_FAILURE() << "walking a batch: " << batch->frames.status();
      break;
    }
    EXPECT_EQ(count, batch->frame_count) << "batch frame_count";
  }
  return frames;
}

std::vector<std::vector<uint8_t>> ReadCommittedPayloads(
    const shmio::SharedMemory& shm) {
  std::vector<std::vector<uint8_t>> payloads;
  for (CopiedFrame& frame : ReadCommittedFrames(shm)) {
    payloads.push_back(std::move(frame.payload));
  }
  return payloads;
}

}  // namespace shmio_test
