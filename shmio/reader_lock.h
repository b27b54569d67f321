// The reader lock: how a chain writer knows that no reader has a retired
// file open, so that it may reuse the file's pages for a new file instead of
// unlinking it and making the kernel allocate and zero fresh ones.
//
// One byte-range lock far past the end of any real file (format.h,
// kReaderLockOffset), never written. Every read-only SharedMemory holds an
// open-file-description (OFD) read lock on it from before it reads the
// header until it closes the file (the kernel drops it with the descriptor's
// last reference, so a killed reader never pins a file). A recycler takes
// the OFD write lock, which only succeeds while no reader holds the file.
// A reader that finds the write lock held is opening a file that retention
// has just removed: it gets NotFound, as if the file were already gone.
// Linux-only (F_OFD_*): a port replaces this file.
#ifndef SHMIO_READER_LOCK_H_
#define SHMIO_READER_LOCK_H_

#include <string>

#include "absl/status/status.h"

namespace shmio {
namespace internal {

// Takes the reader lock on `fd` (any access mode). NotFound naming `path`
// when a recycler holds the file; OK (unlocked) on a file system without
// OFD locks, where nothing can recycle either.
absl::Status HoldReaderLock(int fd, const std::string& path);

// Takes the recycler's lock on `fd` (opened O_RDWR): FailedPrecondition
// naming `path` while any reader holds the file, or when the file system
// cannot lock (then nobody can tell, so nothing may be recycled).
absl::Status ExcludeReaders(int fd, const std::string& path);

// Drops the recycler's lock taken by ExcludeReaders() on `fd`.
void AdmitReaders(int fd);

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_READER_LOCK_H_
