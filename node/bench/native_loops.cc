// The C++ side of node/bench: the same write and read loops the JS
// benchmark runs through the addon, straight on //shmio, so bench.js can
// print the binding's overhead as a ratio. Prints one JSON object.
//
//   native_loops PATH FRAMES PAYLOAD_BYTES
//
// PATH is created (capacity for FRAMES frames, prefaulted) and removed.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "shmio/consumer.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Appends `frames` payloads (each filled with its index's low byte),
// committing every `commit_every`; returns frames per second.
double WriteLoop(const std::string& path, uint64_t frames, size_t payload,
                 uint64_t commit_every) {
  shmio::Options options;
  options.path = path;
  options.capacity = 256 + frames * (payload + 4);
  options.writable = true;
  options.prefault = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) {
    std::fprintf(stderr, "native_loops: %s\n", shm.status().ToString().c_str());
    std::exit(1);
  }
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) {
    std::fprintf(stderr, "native_loops: %s\n", pool.status().ToString().c_str());
    std::exit(1);
  }
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < frames; ++i) {
    auto slice = (*pool)->SliceSize(payload);
    if (!slice.ok()) std::exit(1);
    std::memset(slice->data(), static_cast<int>(i & 0xff), payload);
    if ((i + 1) % commit_every == 0 && !(*pool)->Commit().ok()) std::exit(1);
  }
  if (!(*pool)->Commit().ok()) std::exit(1);
  return frames / Seconds(start);
}

// Iterates every frame of `path` (FrameRange), adding up first bytes so the
// payloads are touched as a JS reader touches them; returns frames/s.
double ReadLoop(const std::string& path, uint64_t frames) {
  shmio::Options options;
  options.path = path;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) std::exit(1);
  shmio::Consumer consumer(shm->get());
  auto start = std::chrono::steady_clock::now();
  auto range = consumer.GetData();
  if (!range.ok()) std::exit(1);
  uint64_t count = 0, sum = 0;
  for (const shmio::Frame& frame : *range) {
    sum += frame.payload[0];
    ++count;
  }
  double rate = count / Seconds(start);
  if (count != frames || !range->status().ok()) {
    std::fprintf(stderr, "native_loops: read %llu of %llu frames (sum %llu)\n",
                 static_cast<unsigned long long>(count),
                 static_cast<unsigned long long>(frames),
                 static_cast<unsigned long long>(sum));
    std::exit(1);
  }
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: native_loops PATH FRAMES PAYLOAD_BYTES\n");
    return 2;
  }
  std::string path = argv[1];
  uint64_t frames = std::strtoull(argv[2], nullptr, 10);
  size_t payload = std::strtoull(argv[3], nullptr, 10);
  unlink(path.c_str());
  double every_frame = WriteLoop(path, frames, payload, 1);
  unlink(path.c_str());
  double every_1000 = WriteLoop(path, frames, payload, 1000);
  double read = ReadLoop(path, frames);
  unlink(path.c_str());
  std::printf("{\"writeCommitEvery1000\": %.0f, \"writeCommitEveryFrame\": %.0f, \"read\": %.0f}\n",
              every_1000, every_frame, read);
  return 0;
}
