#include "tests/reliability/file_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace shmio_reliability {

bool FileState::operator==(const FileState& other) const {
  return exists == other.exists && is_directory == other.is_directory &&
         mode == other.mode && size == other.size && bytes == other.bytes;
}

FileState Snapshot(const std::string& path) {
  FileState state;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return state;
  state.exists = true;
  state.is_directory = S_ISDIR(st.st_mode);
  state.mode = st.st_mode;
  state.size = static_cast<uint64_t>(st.st_size);
  if (!S_ISREG(st.st_mode)) return state;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) std::abort();  // the test runs as root and made the file
  state.bytes.resize(state.size);
  size_t done = 0;
  while (done < state.size) {
    ssize_t n = pread(fd, state.bytes.data() + done, state.size - done,
                      static_cast<off_t>(done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  state.bytes.resize(done);
  close(fd);
  return state;
}

std::ostream& operator<<(std::ostream& out, const FileState& state) {
  if (!state.exists) return out << "(missing)";
  return out << (state.is_directory ? "directory" : "file") << " mode 0"
             << std::oct << (state.mode & 07777) << std::dec << ", "
             << state.size << " bytes";
}

void WriteU64At(const std::string& path, uint64_t offset, uint64_t value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || pwrite(fd, &value, sizeof value, static_cast<off_t>(offset)) !=
                    static_cast<ssize_t>(sizeof value)) {
    std::abort();
  }
  close(fd);
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 ||
      write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    std::abort();
  }
  close(fd);
}

}  // namespace shmio_reliability
