// FileState: everything about a path that a failed open must leave alone
// (whether it exists, its type, mode, size and every byte), read with plain
// POSIX calls so that the check does not depend on shmio's own code.
#ifndef TESTS_RELIABILITY_FILE_STATE_H_
#define TESTS_RELIABILITY_FILE_STATE_H_

#include <sys/types.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace shmio_reliability {

struct FileState {
  bool exists = false;
  bool is_directory = false;
  mode_t mode = 0;
  uint64_t size = 0;
  std::vector<uint8_t> bytes;  // regular files only

  bool operator==(const FileState& other) const;
};

// Reads the state of `path` now (a missing path is a valid state).
FileState Snapshot(const std::string& path);

// Prints a short description for gtest messages (not the bytes).
std::ostream& operator<<(std::ostream& out, const FileState& state);

// Small byte surgery with pread/pwrite.
void WriteU64At(const std::string& path, uint64_t offset, uint64_t value);
void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_FILE_STATE_H_
