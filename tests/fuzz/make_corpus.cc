// make_corpus: writes the library-made seeds of tests/fuzz/corpus/ with the
// public API (basic.shm there is the Node.js fixture, copied as it is):
//
//   fresh.shm        a writer opened it and wrote no frame
//   few_frames.shm   six frames (one empty) in two commits, plus one
//                    appended but never committed
//   geometry.shm     size 512, num 4, overlap 128: frames cross segment
//                    boundaries inside the overlap; committed near full
//   zero_header.shm  512 zero bytes: created, never initialised
//   damaged.shm      few_frames.shm with one trailing size overwritten
//
// Run: ./bazelw run //tests/fuzz:make_corpus -- $PWD/tests/fuzz/corpus
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace {

bool Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", what,
                 status.ToString().c_str());
  }
  return status.ok();
}

// Opens a new log at `path`, lets `fill` write to it, and closes it.
template <typename Fill>
bool MakeLog(const std::string& path, shmio::Options options, Fill fill) {
  unlink(path.c_str());
  options.path = path;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!Check(shm.status(), path.c_str())) return false;
  auto pool = shmio::Pool::Create(shm->get());
  if (!Check(pool.status(), path.c_str())) return false;
  return fill(pool->get());
}

std::vector<uint8_t> Payload(size_t length, uint8_t seed) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  std::string dir = argv[1];

  shmio::Options small;
  small.capacity = 1024;
  bool ok = MakeLog(absl::StrCat(dir, "/fresh.shm"), small,
                    [](shmio::Pool*) { return true; });

  std::string few = absl::StrCat(dir, "/few_frames.shm");
  ok = ok && MakeLog(few, small, [](shmio::Pool* pool) {
    const size_t lengths[] = {0, 1, 17, 64, 3, 100};
    uint8_t seed = 1;
    for (size_t i = 0; i < 6; ++i) {
      if (!Check(pool->Append(Payload(lengths[i], seed++)), "append")) {
        return false;
      }
      if (i == 2 && !Check(pool->Commit(), "commit")) return false;
    }
    if (!Check(pool->Commit(), "commit")) return false;
    return Check(pool->Append(Payload(40, 99)), "append uncommitted");
  });

  shmio::Options geometry;
  geometry.size = 512;
  geometry.num = 4;
  geometry.overlap = 128;
  ok = ok && MakeLog(absl::StrCat(dir, "/geometry.shm"), geometry,
                     [](shmio::Pool* pool) {
    for (uint8_t i = 0;; ++i) {
      absl::Status status = pool->Append(Payload(20 + (i * 13) % 90, i));
      if (!status.ok()) break;  // full (or a frame would cross too far)
      if (i % 3 == 2 && !Check(pool->Commit(), "commit")) return false;
    }
    return Check(pool->Commit(), "commit");
  });

  std::string zero = absl::StrCat(dir, "/zero_header.shm");
  int fd = open(zero.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ok = ok && fd >= 0 && ftruncate(fd, 512) == 0;
  if (fd >= 0) close(fd);

  // damaged.shm: the third frame's trailing size (few_frames: frames at 256,
  // 260, 265 with 17 payload bytes, so its trailing size is at 265+2+17).
  std::string damaged = absl::StrCat(dir, "/damaged.shm");
  int in = open(few.c_str(), O_RDONLY);
  int out = open(damaged.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ok = ok && in >= 0 && out >= 0;
  if (ok) {
    std::vector<uint8_t> bytes(1024);
    ok = pread(in, bytes.data(), bytes.size(), 0) == 1024;
    bytes[265 + 2 + 17] ^= 0x5a;
    ok = ok && pwrite(out, bytes.data(), bytes.size(), 0) == 1024;
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  if (!ok) return 1;
  std::printf("wrote the seeds in %s\n", dir.c_str());
  return 0;
}
