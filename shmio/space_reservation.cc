#include "shmio/space_reservation.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace shmio {
namespace internal {
namespace {

// The file systems logs usually live on, by statfs(2) f_type.
const char* FileSystemTypeName(int64_t type) {
  switch (type) {
    case TMPFS_MAGIC:
      return "tmpfs";
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
      return "ext4";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlayfs";
    case NFS_SUPER_MAGIC:
      return "nfs";
  }
  return nullptr;
}

// The mount point and type /proc/self/mountinfo gives for device `dev`
// (fields: id parent major:minor root mount-point options ... - type ...).
bool FindMount(dev_t dev, std::string* mount_point, std::string* type) {
  std::ifstream mounts("/proc/self/mountinfo");
  const std::string wanted = absl::StrFormat("%d:%d", major(dev), minor(dev));
  std::string line;
  while (std::getline(mounts, line)) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 5 || fields[2] != wanted) continue;
    *mount_point = std::string(fields[4]);
    for (size_t i = 5; i + 1 < fields.size(); ++i) {
      if (fields[i] == "-") {
        *type = std::string(fields[i + 1]);
        break;
      }
    }
    return true;
  }
  return false;
}

}  // namespace

std::string DescribeFileSystem(int fd) {
  std::string type;
  struct statfs fs;
  if (fstatfs(fd, &fs) == 0) {
    const char* name = FileSystemTypeName(static_cast<int64_t>(fs.f_type));
    type = name != nullptr ? name : absl::StrFormat("type 0x%x", fs.f_type);
  }
  std::string mount_point;
  struct stat st;
  std::string mount_type;
  if (fstat(fd, &st) == 0 && FindMount(st.st_dev, &mount_point, &mount_type)) {
    if (!mount_type.empty()) type = mount_type;  // "ext3" rather than "ext4"
    return absl::StrFormat("%s mounted at %s", type.empty() ? "?" : type,
                           mount_point);
  }
  return type.empty() ? "an unknown file system" : type;
}

absl::Status ReserveSpace(int fd, const std::string& path, uint64_t capacity) {
  auto exhausted = [&](uint64_t free_bytes) {
    const std::string fs = DescribeFileSystem(fd);
    const bool tmpfs = fs.rfind("tmpfs", 0) == 0;
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cannot reserve %d bytes for %s: its file system (%s) has %d bytes "
        "free%s; ask for less or free space",
        capacity, path, fs, free_bytes,
        tmpfs ? " (a tmpfs is limited by its size= mount option)" : ""));
  };
  // Unknown (statvfs failed): let posix_fallocate find out.
  uint64_t free_before = UINT64_MAX;
  struct statvfs vfs;
  if (fstatvfs(fd, &vfs) == 0) {
    free_before = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (capacity > free_before) return exhausted(free_before);
  }
  int err = posix_fallocate(fd, 0, static_cast<off_t>(capacity));
  if (err == 0) return absl::OkStatus();
  if (err == ENOSPC || err == EFBIG) {
    // Someone else took the space meanwhile. The caller drops the file,
    // which gives back what was reserved. Measured now, the free space would
    // read 0 (our own partial reservation): report what was free before.
    return exhausted(free_before == UINT64_MAX ? 0 : free_before);
  }
  return absl::ErrnoToStatus(
      err, absl::StrFormat("cannot reserve %d bytes for %s (posix_fallocate)",
                           capacity, path));
}

}  // namespace internal
}  // namespace shmio
