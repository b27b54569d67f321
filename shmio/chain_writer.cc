#include "shmio/chain_writer.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_format.h"
#include "shmio/chain_file_preparer.h"
#include "shmio/chain_files.h"
#include "shmio/iterator.h"
#include "shmio/reader_table.h"
#include "shmio/writer_lock.h"

namespace shmio {
namespace {

absl::Status ValidateChainOptions(const ChainOptions& o) {
  if (o.directory.empty()) {
    return absl::InvalidArgumentError("ChainOptions.directory is empty: name the chain's directory");
  }
  if (o.file_capacity != 0 &&
      o.file_capacity < format::kExtendedDataOffset + format::kFrameOverhead) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a file capacity of %d bytes is too small: each file takes a %d-byte "
        "header and at least one %d-byte frame",
        o.directory, o.file_capacity, format::kExtendedDataOffset, format::kFrameOverhead));
  }
  if (o.file_capacity > (uint64_t{1} << 46)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a file capacity of %d bytes is larger than a chain file can be (2^46)",
        o.directory, o.file_capacity));
  }
  return absl::OkStatus();
}

uint64_t NewChainId() {
  std::random_device random;
  uint64_t id = 0;
  while (id == 0) id = (uint64_t{random()} << 32) | random();
  return id;
}

// Makes the chain's directory and chain.conf when `create` asks for them;
// reads the settings of an existing chain, with new retention limits
// applied (*rewrite: chain.conf is to be rewritten with them, once the
// chain is known to be whole).
absl::StatusOr<ChainSettings> SettleSettings(const ChainOptions& o, bool* rewrite) {
  *rewrite = false;
  absl::StatusOr<ChainSettings> settings = ReadChainSettings(o.directory);
  const bool retention_given = o.retain_files != 0 || o.retain_bytes != 0 ||
                               o.retain_seconds != 0 || o.max_reader_lag != 0 ||
                               o.drop_slow_readers;
  if (settings.ok()) {
    if (o.file_capacity != 0 && o.file_capacity != settings->file_capacity) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s was created with a file capacity of %d bytes, not %d; open it "
          "without one, or with the one it has",
          o.directory, settings->file_capacity, o.file_capacity));
    }
    if (retention_given) {
      settings->retain_files = o.retain_files;
      settings->retain_bytes = o.retain_bytes;
      settings->retain_seconds = o.retain_seconds;
      settings->max_reader_lag = o.max_reader_lag;
      settings->drop_slow_readers = o.drop_slow_readers ? 1 : 0;
      *rewrite = true;
    }
    return settings;
  }
  if (!absl::IsNotFound(settings.status())) return settings.status();
  if (!o.create) {
    return absl::NotFoundError(absl::StrFormat(
        "%s is not a shmio chain (no %s): create it with `shmio append %s --create "
        "--chain --file-capacity=BYTES` (ChainOptions::create)",
        o.directory, kChainSettingsFileName, o.directory));
  }
  if (o.file_capacity == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: creating a chain needs the capacity of its files (file_capacity)", o.directory));
  }
  ChainSettings fresh;
  fresh.chain_id = NewChainId();
  fresh.file_capacity = o.file_capacity;
  fresh.retain_files = o.retain_files;
  fresh.retain_bytes = o.retain_bytes;
  fresh.retain_seconds = o.retain_seconds;
  fresh.max_reader_lag = o.max_reader_lag;
  fresh.drop_slow_readers = o.drop_slow_readers ? 1 : 0;
  absl::Status written = WriteChainSettings(o.directory, fresh, o.create_mode);
  if (!written.ok()) return written;
  return fresh;
}

// Checks that the files of `listing` make one whole chain: each is a file
// of the chain at the position its name says, numbered in order, and every
// one but the last ends where the next begins. Nothing is written.
absl::Status CheckChain(const ChainFiles& files, const ChainListing& listing) {
  for (size_t i = 0; i < listing.files.size(); ++i) {
    absl::StatusOr<ChainFile> file = files.OpenFile(listing.files[i].base_position);
    if (!file.ok()) return file.status();
    if (i + 1 == listing.files.size()) break;
    const uint64_t next_base = listing.files[i + 1].base_position;
    const uint64_t sealed_end = file->LoadSealedEnd();
    // Acquire in LoadCommitted: the value a dead writer left.
    const uint64_t end = file->PositionOf(sealed_end != 0 ? sealed_end : file->shm->LoadCommitted());
    if (end != next_base) {
      return absl::DataLossError(absl::StrFormat(
          "%s: the chain is not whole: %s ends at position %d but the next file, "
          "%s, starts at %d (%s); move the file that does not belong out of the "
          "directory",
          files.directory(), listing.files[i].path, end, listing.files[i + 1].path, next_base,
          end < next_base ? absl::StrFormat("positions %d to %d are missing", end, next_base)
                          : absl::StrFormat("positions %d to %d are in both", next_base, end)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChainWriter>> ChainWriter::Open(ChainOptions options) {
  absl::Status valid = ValidateChainOptions(options);
  if (!valid.ok()) return valid;
  const std::string& dir = options.directory;
  // Refused before anything is made: a directory that is not a chain stays
  // as it was (no writer.lock left in it).
  const bool is_chain = IsDirectory(dir) && access(ChainPath(dir, kChainSettingsFileName).c_str(), F_OK) == 0;
  if (!is_chain && options.create && options.file_capacity == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: creating a chain needs the capacity of its files (file_capacity, "
        "--file-capacity=BYTES)",
        dir));
  }
  if (!is_chain && !options.create && IsDirectory(dir)) {
    return absl::NotFoundError(absl::StrFormat(
        "%s is not a shmio chain (no %s): create it with `shmio append %s --create "
        "--chain --file-capacity=BYTES` (ChainOptions::create)",
        dir, kChainSettingsFileName, dir));
  }
  if (!IsDirectory(dir)) {
    struct stat st;
    if (stat(dir.c_str(), &st) == 0) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s is not a directory, so it cannot be a chain", dir));
    }
    if (!options.create) {
      return absl::NotFoundError(absl::StrFormat(
          "%s does not exist: create the chain with `shmio append %s --create --chain "
          "--file-capacity=BYTES` (ChainOptions::create)",
          dir, dir));
    }
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::ErrnoToStatus(errno, absl::StrFormat("cannot create the chain directory %s", dir));
    }
  }
  // One writer for the whole chain: the lock file's writer lock.
  const std::string lock_path = ChainPath(dir, kChainLockFileName);
  int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, options.create_mode);
  if (lock_fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrFormat("cannot open %s", lock_path));
  }
  absl::Status locked = internal::AcquireWriterLock(lock_fd, absl::StrFormat("the chain %s", dir));
  if (!locked.ok()) {
    close(lock_fd);
    return locked;
  }
  bool rewrite_settings = false;
  absl::StatusOr<ChainSettings> settings = SettleSettings(options, &rewrite_settings);
  if (!settings.ok()) {
    close(lock_fd);
    return settings.status();
  }
  std::unique_ptr<ChainWriter> writer(new ChainWriter(options, *settings, lock_fd));
  absl::StatusOr<std::shared_ptr<ChainFiles>> files = ChainFiles::Open(dir, options.debug_checks);
  if (!files.ok()) return files.status();
  absl::StatusOr<ChainListing> listing = (*files)->List();
  if (!listing.ok()) return listing.status();
  absl::Status whole = CheckChain(**files, *listing);
  if (!whole.ok()) return whole;
  // What a killed writer left of a file it was reusing (we hold the
  // writer lock, so no one else is reusing one): a leftover only wastes its
  // space, so failing to unlink it is not an error.
  for (const std::string& path : listing->recycling) unlink(path.c_str());
  if (rewrite_settings) {
    absl::Status written = WriteChainSettings(dir, *settings, options.create_mode);
    if (!written.ok()) return written;
  }
  absl::Status current = writer->OpenCurrent(*listing);
  if (!current.ok()) return current;
  writer->preparer_->Request();  // the next file, ahead of need
  return writer;
}

ChainWriter::ChainWriter(ChainOptions options, ChainSettings settings, int lock_fd)
    : options_(std::move(options)), settings_(settings), lock_fd_(lock_fd) {
  Options file_options;
  file_options.capacity = settings_.file_capacity;
  file_options.prefault = options_.prefault;
  file_options.debug_checks = options_.debug_checks;
  file_options.create_mode = options_.create_mode;
  preparer_ = std::make_unique<internal::ChainFilePreparer>(options_.directory, file_options,
                                                               options_.recycle_files);
  struct statfs fs;
  on_tmpfs_ = statfs(options_.directory.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

ChainWriter::~ChainWriter() {
  preparer_.reset();  // joins its thread first
  pool_.reset();
  shm_.reset();
  close(lock_fd_);  // the chain's lock goes last
}

absl::Status ChainWriter::OpenCurrent(const ChainListing& listing) {
  if (listing.files.empty()) return StartFile(options_.first_position, 0);
  // Seal every file before the last that a dead writer left unsealed: it
  // has a successor, so nothing more will come in it.
  for (size_t i = 0; i + 1 < listing.files.size(); ++i) {
    Options options;
    options.path = listing.files[i].path;
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(options);
    if (!shm.ok()) return shm.status();
    if ((*shm)->LoadSealedEnd() != 0) continue;
    options.writable = true;
    shm = SharedMemory::Open(options);
    if (!shm.ok()) return shm.status();
    absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::ContinueChainFile(shm->get());
    if (!pool.ok()) return pool.status();
    absl::Status sealed = (*pool)->Seal();
    if (!sealed.ok()) return sealed;
  }
  Options options;
  options.path = listing.files.back().path;
  options.writable = true;
  options.debug_checks = options_.debug_checks;
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  HeaderSnapshot header = (*shm)->ReadHeader();
  const uint64_t base = header.chain->base_position;
  if ((*shm)->LoadSealedEnd() != 0) {
    // Sealed, so its successor was being made when a writer died: make it.
    const uint64_t end = base + ((*shm)->LoadSealedEnd() - header.data_offset);
    return StartFile(end, header.chain->sequence + 1);
  }
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::ContinueChainFile(shm->get());
  if (!pool.ok()) return pool.status();
  shm_ = *std::move(shm);
  pool_ = *std::move(pool);
  base_ = base;
  sequence_ = header.chain->sequence;
  data_offset_ = header.data_offset;
  return absl::OkStatus();
}

absl::Status ChainWriter::StartFile(uint64_t base, uint64_t sequence) {
  absl::StatusOr<std::unique_ptr<SharedMemory>> next = preparer_->Take();
  if (!next.ok()) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: cannot make the next file of the chain: %s", options_.directory,
        next.status().message()));
  }
  absl::StatusOr<std::unique_ptr<Pool>> pool =
      Pool::CreateChainFile(next->get(), ChainFileInfo{sequence, base, settings_.chain_id});
  if (!pool.ok()) return pool.status();
  // The batch in progress moves with the roll: a reader sees it whole in
  // the next file, or not at all.
  if (pool_ != nullptr) {
    const Pool::Size size = pool_->GetSize();
    const uint8_t* from = shm_->data();
    Frame frame;
    for (uint64_t at = size.committed; at < size.uncommitted; at = frame.end()) {
      // Our own frames, written by this writer: they check out.
      TryReadFrameAt(from, at, size.uncommitted, /*debug=*/false, &frame);
      absl::Status moved = (*pool)->Append(frame.payload);
      if (!moved.ok()) return BatchTooBigError();
    }
  }
  const std::string path = ChainPath(options_.directory, ChainFileName(base));
  absl::Status linked = (*next)->LinkAt(path);
  if (!linked.ok()) {
    return absl::Status(linked.code(), absl::StrFormat(
        "%s: cannot add the next file %s to the chain: %s", options_.directory, path,
        linked.message()));
  }
  if (pool_ != nullptr) {
    // Linked first, sealed after: a reader that finds a file sealed always
    // finds its successor (format.h, "Sealing").
    absl::Status sealed = pool_->Seal();
    if (!sealed.ok()) return sealed;
    pool_.reset();
    if (!on_tmpfs_) unflushed_.push_back(shm_->path());
    preparer_->Retire(std::move(shm_));
    ++rolls_;
  }
  shm_ = *std::move(next);
  pool_ = *std::move(pool);
  base_ = base;
  sequence_ = sequence;
  data_offset_ = format::kExtendedDataOffset;
  // Retention first: the preparer's thread, woken by either call, must see
  // the retention job no later than the request, so that the file retention
  // removes can be the one it makes (the other order lost a reuse now and
  // then: a new file made, the removed one kept spare until the next roll).
  preparer_->Retain(settings_, base_);
  preparer_->Request();
  return absl::OkStatus();
}

absl::Status ChainWriter::Roll() {
  const uint64_t end = base_ + (pool_->GetSize().committed - data_offset_);
  absl::Status protected_readers = ProtectNamedReaders(end);
  if (!protected_readers.ok()) return protected_readers;
  return StartFile(end, sequence_ + 1);
}

absl::Status ChainWriter::ProtectNamedReaders(uint64_t end) {
  const ChainSettings& s = settings_;
  if (s.retain_files == 0 && s.retain_bytes == 0 && s.retain_seconds == 0) {
    return absl::OkStatus();  // nothing is ever removed: nothing to protect
  }
  absl::StatusOr<std::shared_ptr<ReaderTable>> table =
      ReaderTable::Open(options_.directory, s.chain_id, /*create=*/false);
  if (absl::IsNotFound(table.status())) return absl::OkStatus();  // no named reader
  if (!table.ok()) return table.status();
  absl::StatusOr<std::vector<NamedReaderInfo>> readers = (*table)->List();
  if (!readers.ok()) return readers.status();
  absl::StatusOr<ChainListing> listing = ListChain(options_.directory);
  if (!listing.ok()) return listing.status();
  // What retention will remove once the next file exists: the oldest files
  // past a limit (by count and bytes; by age the preparer decides, and it
  // skips a file a reader needs).
  std::vector<ChainFileEntry> files = listing->files;
  uint64_t count = files.size() + 1;
  uint64_t bytes = count * s.file_capacity;
  size_t removable = 0;
  while (removable < files.size() &&
         ((s.retain_files != 0 && count > s.retain_files) ||
          (s.retain_bytes != 0 && bytes > s.retain_bytes))) {
    ++removable;
    --count;
    bytes -= s.file_capacity;
  }
  if (removable == 0) return absl::OkStatus();
  // The chain will start here once they are gone.
  const uint64_t new_start = removable < files.size() ? files[removable].base_position : end;
  for (const NamedReaderInfo& reader : *readers) {
    if (reader.dropped || reader.position >= new_start) continue;
    const uint64_t lag = end - std::min(end, reader.position);
    const bool too_far = s.max_reader_lag != 0 && lag > s.max_reader_lag;
    if (too_far || s.drop_slow_readers != 0) {
      absl::Status dropped = (*table)->Drop(reader.name, reader.position, new_start);
      if (!dropped.ok()) return dropped;
      continue;
    }
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s: the chain is at its retention limit and reader \"%s\" (pid %d, %s) is "
        "at position %d, %d bytes behind the writer, still needing frames before "
        "position %d that retention would remove; the append waits until it "
        "acknowledges them (try again), or drop slow readers: max_reader_lag, "
        "drop_slow_readers, or `shmio readers %s --remove %s`",
        options_.directory, reader.name, reader.pid, reader.alive ? "running" : "not running",
        reader.position, lag, new_start, options_.directory, reader.name));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Span<uint8_t>> ChainWriter::SliceSizeSlow(size_t n) {
  absl::StatusOr<absl::Span<uint8_t>> in_this_file = pool_->SliceSize(n);
  // Not a full file: the frame, or the pool's error.
  if (!absl::IsResourceExhausted(in_this_file.status())) return in_this_file;
  if (uint64_t{n} + format::kFrameOverhead >
      settings_.file_capacity - format::kExtendedDataOffset) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: a frame of %d bytes does not fit even in an empty file of the chain "
        "(%d bytes, %d after the header); use larger files",
        options_.directory, uint64_t{n} + format::kFrameOverhead, settings_.file_capacity,
        settings_.file_capacity - format::kExtendedDataOffset));
  }
  // With nothing committed in this file, the batch in progress fills it:
  // a roll would move it whole into a file of the same size.
  if (pool_->GetSize().committed == data_offset_) return BatchTooBigError();
  absl::Status rolled = Roll();
  if (!rolled.ok()) return rolled;
  absl::StatusOr<absl::Span<uint8_t>> slice = pool_->SliceSize(n);
  if (absl::IsResourceExhausted(slice.status())) return BatchTooBigError();
  return slice;
}

absl::Status ChainWriter::BatchTooBigError() const {
  const Pool::Size size = pool_->GetSize();
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s: the batch being written (%d bytes appended since the last Commit()) "
      "does not fit in one file of the chain (%d bytes, %d after the header); "
      "commit more often, or use larger files",
      options_.directory, size.uncommitted - size.committed, settings_.file_capacity,
      settings_.file_capacity - data_offset_));
}

absl::Status ChainWriter::Append(absl::Span<const uint8_t> bytes) {
  absl::StatusOr<absl::Span<uint8_t>> slice = SliceSize(bytes.size());
  if (!slice.ok()) return slice.status();
  if (!bytes.empty()) std::memcpy(slice->data(), bytes.data(), bytes.size());
  return absl::OkStatus();
}

absl::Status ChainWriter::Flush() {
  // A sealed file's dirty pages outlive its mapping; fdatasync through any
  // descriptor of the file writes them.
  for (const std::string& path : unflushed_) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // retention removed it: nothing to keep
      return absl::ErrnoToStatus(errno, absl::StrFormat("cannot open %s to flush it", path));
    }
    int synced = fdatasync(fd);
    int err = errno;
    close(fd);
    if (synced != 0) return absl::ErrnoToStatus(err, absl::StrFormat("fdatasync failed for %s", path));
  }
  unflushed_.clear();
  return shm_->Flush();
}

ChainWriter::Size ChainWriter::GetSize() const {
  const Pool::Size size = pool_->GetSize();
  return Size{base_ + (size.committed - data_offset_), base_ + (size.uncommitted - data_offset_)};
}

uint64_t ChainWriter::files_removed() const { return preparer_->removed(); }

uint64_t ChainWriter::files_recycled() const { return preparer_->recycled(); }

bool ChainWriter::next_file_ready() const { return preparer_->ready(); }

}  // namespace shmio
