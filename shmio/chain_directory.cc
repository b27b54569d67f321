#include "shmio/chain_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace shmio {
namespace {

constexpr absl::string_view kSuffix = ".shm";
constexpr size_t kDigits = 20;

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

}  // namespace

std::string ChainFileName(uint64_t base_position) {
  return absl::StrFormat("%020d%s", base_position, kSuffix);
}

std::optional<uint64_t> ParseChainFileName(absl::string_view name) {
  if (name.size() != kDigits + kSuffix.size() || !absl::EndsWith(name, kSuffix)) {
    return std::nullopt;
  }
  absl::string_view digits = name.substr(0, kDigits);
  if (digits.find_first_not_of("0123456789") != absl::string_view::npos) {
    return std::nullopt;
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(digits, &value)) return std::nullopt;  // > 2^64 - 1
  return value;
}

std::string ChainPath(const std::string& directory, absl::string_view name) {
  return absl::StrFormat("%s/%s", directory, name);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::StatusOr<ChainListing> ListChain(const std::string& directory) {
  struct stat st;
  if (stat(directory.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrFormat("%s does not exist", directory));
    }
    return absl::ErrnoToStatus(err, absl::StrFormat("cannot stat %s", directory));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s is not a directory, so not a chain", directory));
  }
  std::unique_ptr<DIR, DirCloser> dir(opendir(directory.c_str()));
  if (dir == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrFormat("cannot list %s", directory));
  }
  ChainListing listing;
  bool has_settings = false;
  errno = 0;
  while (dirent* entry = readdir(dir.get())) {
    absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (std::optional<uint64_t> base = ParseChainFileName(name)) {
      listing.files.push_back({*base, ChainPath(directory, name)});
    } else if (name == kChainSettingsFileName) {
      has_settings = true;
    } else if (absl::StartsWith(name, kRecyclingFilePrefix)) {
      listing.recycling.push_back(ChainPath(directory, name));
    } else if (name != kChainLockFileName && name != kReaderTableFileName) {
      listing.foreign.emplace_back(name);
    }
    errno = 0;
  }
  if (errno != 0) {
    return absl::ErrnoToStatus(errno, absl::StrFormat("cannot list %s", directory));
  }
  if (!has_settings) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is not a shmio chain: it has no %s (create one with `shmio append "
        "%s --create --chain --file-capacity=BYTES`)",
        directory, kChainSettingsFileName, directory));
  }
  std::sort(listing.files.begin(), listing.files.end(),
            [](const ChainFileEntry& a, const ChainFileEntry& b) {
              return a.base_position < b.base_position;
            });
  std::sort(listing.foreign.begin(), listing.foreign.end());
  return listing;
}

absl::Status RemoveChain(const std::string& directory) {
  absl::StatusOr<ChainListing> listing = ListChain(directory);
  if (!listing.ok()) return listing.status();
  for (const ChainFileEntry& file : listing->files) unlink(file.path.c_str());
  for (const std::string& path : listing->recycling) unlink(path.c_str());
  for (const char* name : {kChainSettingsFileName, kChainLockFileName, kReaderTableFileName}) {
    unlink(ChainPath(directory, name).c_str());
  }
  if (listing->foreign.empty() && rmdir(directory.c_str()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrFormat("cannot remove %s", directory));
  }
  return absl::OkStatus();
}

absl::StatusOr<ChainSettings> ReadChainSettings(const std::string& directory) {
  const std::string path = ChainPath(directory, kChainSettingsFileName);
  std::ifstream in(path);
  if (!in) {
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
      return absl::NotFoundError(absl::StrFormat(
          "%s is not a shmio chain: %s is missing", directory, path));
    }
    return absl::PermissionDeniedError(absl::StrFormat("cannot read %s", path));
  }
  ChainSettings settings;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(text, absl::MaxSplits('=', 1));
    uint64_t value = 0;
    bool number_ok = !kv.second.empty() &&
                     kv.second.find_first_not_of("0123456789") == absl::string_view::npos &&
                     absl::SimpleAtoi(kv.second, &value);
    uint64_t* field = kv.first == "chain_id"         ? &settings.chain_id
                      : kv.first == "file_capacity"  ? &settings.file_capacity
                      : kv.first == "retain_files"   ? &settings.retain_files
                      : kv.first == "retain_bytes"   ? &settings.retain_bytes
                      : kv.first == "retain_seconds" ? &settings.retain_seconds
                      : kv.first == "max_reader_lag" ? &settings.max_reader_lag
                      : kv.first == "drop_slow_readers" ? &settings.drop_slow_readers
                                                     : nullptr;
    if (field == nullptr || !number_ok) {
      return absl::DataLossError(absl::StrFormat(
          "%s line %d is not a setting shmio writes: \"%s\" (expected key=number "
          "with key one of chain_id, file_capacity, retain_files, retain_bytes, "
          "retain_seconds, max_reader_lag, drop_slow_readers)",
          path, number, text));
    }
    *field = value;
  }
  if (settings.chain_id == 0 || settings.file_capacity == 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s has no chain_id or no file_capacity: it was not written by shmio", path));
  }
  return settings;
}

absl::Status WriteChainSettings(const std::string& directory,
                                const ChainSettings& settings, unsigned mode) {
  const std::string path = ChainPath(directory, kChainSettingsFileName);
  const std::string temp = absl::StrFormat("%s.tmp-%d", path, getpid());
  std::string text = absl::StrFormat(
      "# shmio chain settings: written by `shmio append DIR --create --chain`\n"
      "# and by a writer given new retention limits. One key=value per line.\n"
      "chain_id=%d\nfile_capacity=%d\nretain_files=%d\nretain_bytes=%d\n"
      "retain_seconds=%d\nmax_reader_lag=%d\ndrop_slow_readers=%d\n",
      settings.chain_id, settings.file_capacity, settings.retain_files,
      settings.retain_bytes, settings.retain_seconds, settings.max_reader_lag,
      settings.drop_slow_readers);
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrFormat("cannot write %s", temp));
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!written || rename(temp.c_str(), path.c_str()) != 0) {
    if (written) err = errno;
    unlink(temp.c_str());
    return absl::ErrnoToStatus(err, absl::StrFormat("cannot write %s", path));
  }
  return absl::OkStatus();
}

}  // namespace shmio
