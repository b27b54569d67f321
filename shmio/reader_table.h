// Named readers of a chain: DIR/readers.shm, a small shared table in which
// each named reader keeps its acknowledged position, so that it resumes
// there after a restart or a crash, and the chain's writer knows how far
// behind each reader is (retention never removes a file a named reader
// still needs, unless a limit says to drop the reader; chain_writer.h).
//
// Layout (little-endian; ReaderTable::kFileSize bytes):
//   0    8   magic "SHMIORDR"
//   8    4   version = 1
//   12   4   slot count = kSlots
//   16   8   chain id (the chain's, chain.conf)
//   128 + 128*i: slot i
//     0    4   state: 0 free, 1 named, 2 dropped (atomic; see below)
//     4    4   name length (1..64)
//     8    64  name
//     72   8   pid of the reader that last held the slot (informational)
//     80   8   acknowledged position (atomic: the reader stores it, release)
//     88   8   when it was acknowledged (CLOCK_REALTIME ns; stored before
//              the position, so an acquire load of the position sees it)
//     96   8   dropped: the position the reader had (lost from here)
//     104  8   dropped: the oldest position still in the chain then
//
// Who writes what: a slot's position and ack time are written by its
// reader only. Claiming, removing and resetting a slot, and the writer's
// marking it dropped, happen under the table lock (an OFD write lock on
// bytes 0..7), so they never interleave.
//
// Liveness is a lock, not a timeout: a reader holds an OFD write lock on
// its slot's first byte for as long as it lives (on a descriptor of its
// own, so two readers with one name conflict in one process too); the
// kernel drops it when the reader dies.
//
// Thread safety: a ReaderTable may be used from any thread; a ReaderSlot
// by one thread at a time.
#ifndef SHMIO_READER_TABLE_H_
#define SHMIO_READER_TABLE_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shmio/chain_directory.h"

namespace shmio {

// What a table says about one named reader.
struct NamedReaderInfo {
  std::string name;
  bool alive = false;     // its process holds the slot's lock now
  uint64_t pid = 0;       // of the process that last held it
  uint64_t position = 0;  // acknowledged: everything before it is done
  uint64_t acked_at_ns = 0;
  bool dropped = false;   // the writer dropped it (its frames were removed)
  uint64_t dropped_at = 0;  // with dropped: the position it had
  uint64_t resume_at = 0;   // with dropped: the oldest position left then
};

class ReaderSlot;

class ReaderTable : public std::enable_shared_from_this<ReaderTable> {
 public:
  static constexpr uint32_t kSlots = 64;
  static constexpr size_t kMaxNameLength = 64;
  static constexpr uint64_t kFileSize = 128 + 128 * uint64_t{kSlots};

  // Opens DIR/readers.shm of the chain with id `chain_id`; with `create`,
  // makes it when missing (readers do; the writer and `shmio readers` do
  // not). NotFound when missing and not created; DataLoss naming the file
  // and the field when it is damaged or of another chain.
  static absl::StatusOr<std::shared_ptr<ReaderTable>> Open(const std::string& directory,
                                                           uint64_t chain_id, bool create);
  ~ReaderTable();
  ReaderTable(const ReaderTable&) = delete;
  ReaderTable& operator=(const ReaderTable&) = delete;

  // Every named reader, in slot order. DataLoss for a damaged slot.
  absl::StatusOr<std::vector<NamedReaderInfo>> List() const;

  // Takes the slot named `name` for this process (making it, at
  // `start_position`, when there is none) and holds its lock until the
  // ReaderSlot dies. FailedPrecondition naming the other reader's pid when
  // a live reader has the name; InvalidArgument for a bad name;
  // ResourceExhausted when every slot is taken.
  absl::StatusOr<std::unique_ptr<ReaderSlot>> Claim(absl::string_view name,
                                                    uint64_t start_position);

  // `shmio readers --remove` / `--reset`: only for a reader that is not
  // running (FailedPrecondition naming its pid otherwise); NotFound for an
  // unknown name. Reset also clears a drop.
  absl::Status Remove(absl::string_view name);
  absl::Status Reset(absl::string_view name, uint64_t position);

  // The writer's: marks `name` dropped, recording that it had `position`
  // and that the chain now starts at `resume_at`.
  absl::Status Drop(absl::string_view name, uint64_t position, uint64_t resume_at);

  const std::string& path() const { return path_; }

 private:
  friend class ReaderSlot;
  ReaderTable(std::string path, int fd, uint8_t* base)
      : path_(std::move(path)), fd_(fd), base_(base) {}
  uint8_t* slot(uint32_t i) const { return base_ + 128 + 128 * uint64_t{i}; }
  // The slot holding `name`, or -1; DataLoss for a damaged slot.
  absl::StatusOr<int> Find(absl::string_view name) const;
  // The slot of `name`, which must exist and not be running (for Remove
  // and Reset): NotFound, or FailedPrecondition naming its pid.
  absl::StatusOr<uint32_t> FindStopped(absl::string_view name) const;
  absl::StatusOr<NamedReaderInfo> Read(uint32_t i) const;
  // Whether a process holds slot i's liveness lock.
  absl::StatusOr<bool> Alive(uint32_t i) const;

  std::string path_;
  int fd_;
  uint8_t* base_;
};

// A named reader's hold on its slot: its lock, and its position.
class ReaderSlot {
 public:
  ~ReaderSlot();  // releases the lock: the reader is no longer alive
  ReaderSlot(const ReaderSlot&) = delete;
  ReaderSlot& operator=(const ReaderSlot&) = delete;

  // Stores `position` as acknowledged (release, after its time).
  void Ack(uint64_t position);
  uint64_t position() const;
  // The writer dropped this reader (acquire: then dropped_at/resume_at are
  // set); one load.
  bool dropped() const;
  NamedReaderInfo info() const;
  // Clears a drop and acknowledges `position` (a reader that chose to go
  // on from where the chain now starts).
  absl::Status Resume(uint64_t position);

  const std::string& name() const { return name_; }
  const std::string& table_path() const { return table_->path(); }

 private:
  friend class ReaderTable;
  ReaderSlot(std::shared_ptr<ReaderTable> table, uint32_t index, int lock_fd, std::string name)
      : table_(std::move(table)), index_(index), lock_fd_(lock_fd), name_(std::move(name)) {}

  std::shared_ptr<ReaderTable> table_;
  uint32_t index_;
  int lock_fd_;
  std::string name_;
};

}  // namespace shmio

#endif  // SHMIO_READER_TABLE_H_
