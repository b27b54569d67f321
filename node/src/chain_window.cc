#include "node/src/chain_window.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "shmio/format.h"

namespace shmio_node {
namespace {

template <typename T>
void FinalizeHolder(napi_env env, void* data, void* hint) {
  delete static_cast<std::shared_ptr<T>*>(hint);
}

absl::Status TooLarge(uint64_t size, const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(
      path, " is ", size, " bytes, more than one Node.js Buffer can cover (",
      kMaxChainWindowBytes, "); read this chain from C++, or give it smaller files"));
}

// Makes the external Buffer over [data, data + size) whose finalizer
// deletes `holder`; deletes it itself on failure.
template <typename T>
absl::StatusOr<napi_value> External(napi_env env, uint8_t* data, uint64_t size,
                                    std::shared_ptr<T>* holder, const std::string& path) {
  napi_value buffer = nullptr;
  if (napi_create_external_buffer(env, size, data, FinalizeHolder<T>, holder, &buffer) !=
      napi_ok) {
    delete holder;
    return absl::InternalError(
        absl::StrCat("could not make a Buffer of ", size, " bytes over ", path));
  }
  return buffer;
}

}  // namespace

absl::StatusOr<napi_value> ReaderWindow(napi_env env,
                                        std::shared_ptr<const shmio::SharedMemory> file) {
  if (file == nullptr) return absl::InternalError("a chain batch came without its file");
  if (file->capacity() > kMaxChainWindowBytes) return TooLarge(file->capacity(), file->path());
  // The memory is read-only (PROT_READ): the Buffer is for reading.
  auto* data = const_cast<uint8_t*>(file->data());
  const uint64_t size = file->capacity();
  const std::string path = file->path();
  return External(env, data, size,
                  new std::shared_ptr<const shmio::SharedMemory>(std::move(file)), path);
}

absl::StatusOr<std::shared_ptr<WriterView>> WriterView::Map(const shmio::SharedMemory& file) {
  if (file.capacity() > kMaxChainWindowBytes) return TooLarge(file.capacity(), file.path());
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", file.fd());
  int fd = open(self, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("reopening ", file.path(), " (", self,
                                                   ") for the Node.js writer's view failed"));
  }
  // A reader's lock on the new descriptor (shmio/reader_lock.h): the JS
  // writer's Buffers may outlive the roll past this file, and while they
  // do, retention must unlink the file rather than reuse its pages for a
  // new file (ChainOptions::recycle_files). It lasts as long as the
  // mapping, which holds the open file description.
  struct flock reader_lock = {};
  reader_lock.l_type = F_RDLCK;
  reader_lock.l_whence = SEEK_SET;
  reader_lock.l_start = static_cast<off_t>(shmio::format::kReaderLockOffset);
  reader_lock.l_len = 1;
  if (fcntl(fd, F_OFD_SETLK, &reader_lock) != 0 && errno != EINVAL) {
    int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat("taking a reader's lock on ", file.path(),
                                                   " for the Node.js writer's view failed"));
  }
  void* base = mmap(nullptr, file.capacity(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int error = errno;
    close(fd);
    return absl::ErrnoToStatus(error, absl::StrCat("mmap of ", file.capacity(), " bytes of ",
                                                   file.path(), " for the Node.js writer failed"));
  }
  return std::shared_ptr<WriterView>(
      new WriterView(static_cast<uint8_t*>(base), file.capacity(), fd));
}

WriterView::~WriterView() {
  munmap(base_, length_);
  ReleaseDescriptor();
}

void WriterView::ReleaseDescriptor() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::StatusOr<napi_value> WriterWindow(napi_env env, std::shared_ptr<WriterView> view) {
  uint8_t* data = view->data();
  const uint64_t size = view->size();
  return External(env, data, size, new std::shared_ptr<WriterView>(std::move(view)),
                  "the chain writer's file");
}

}  // namespace shmio_node
