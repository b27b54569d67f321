// Reading a chain (shmio/chain_writer.h) for a one-shot command (stat,
// dump, verify): every file of the directory is opened read-only in
// position order, its committed value settled as OpenLogSnapshot does, and
// checked to be where the chain needs it:
//
//   - a log, readable, of this chain (chain id), at the base position its
//     name says (ChainFiles::OpenFile);
//   - starting where the file before it ends: a lower base is an overlap,
//     a higher one a gap (both named with the positions in question);
//   - numbered one past the file before it;
//   - sealed, unless it is the last, with a sealed end equal to its
//     committed value.
//
// Files are closed once checked (a chain may have more files than the
// process has descriptors); the snapshot keeps only what it learnt.
// Nothing is ever written. Foreign entries are listed, never opened.
#ifndef SHMIO_TOOLS_CHAIN_SNAPSHOT_H_
#define SHMIO_TOOLS_CHAIN_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_files.h"

namespace shmio::cli {

// What one file of a chain holds, as checked.
struct ChainFileFacts {
  std::string name;  // "00000000000000004096.shm"
  std::string path;
  uint64_t base = 0;         // position of its first frame (name == header)
  uint64_t end = 0;          // position just past its last committed frame
  uint64_t sequence = 0;     // its index in the chain
  uint64_t data_offset = 0;  // file offset of its first frame
  bool sealed = false;       // finished: the chain goes on in the next file
  uint64_t frames = 0;       // counted when ChainSnapshotOptions::walk_frames
};

// A frame that failed the walk, where it is.
struct BadChainFrame {
  std::string path;
  uint64_t offset = 0;    // in the file
  uint64_t position = 0;  // in the chain
  std::string message;    // what is wrong with it
};

struct ChainSnapshotOptions {
  bool debug = false;        // leading == trailing size checks
  bool walk_frames = false;  // count every file's frames (and find damage)
};

// A chain as it was when read.
struct ChainSnapshot {
  std::string directory;
  ChainSettings settings;
  std::shared_ptr<ChainFiles> files;  // for walks over positions
  // The files checked, in position order, up to (not including) the first
  // that has a problem.
  std::vector<ChainFileFacts> chain_files;
  std::vector<std::string> foreign;  // other entries' names, ignored
  // OK when the chain is whole; else the first problem, naming the file,
  // the positions and what to do.
  absl::Status problem;
  std::optional<BadChainFrame> bad_frame;  // when the problem is a frame

  // The oldest position still in the chain, and its committed end (both 0
  // for a chain with no file yet).
  uint64_t begin() const { return chain_files.empty() ? 0 : chain_files.front().base; }
  uint64_t end() const { return chain_files.empty() ? 0 : chain_files.back().end; }
  uint64_t frames() const;
};

// Reads the chain in `directory`. Errors (not a chain, unreadable
// directory or chain.conf) are those of ChainFiles::Open; a chain that is
// not whole is a snapshot with `problem` set.
absl::StatusOr<ChainSnapshot> OpenChainSnapshot(const std::string& directory,
                                                ChainSnapshotOptions options);

// Checks a position given on the command line as --`flag` against
// `chain`: within [begin, end] and a frame boundary of the file holding
// it. OutOfRange or InvalidArgument naming the flag, the position, the
// file and the chain's range otherwise.
absl::Status CheckChainPosition(const ChainSnapshot& chain, const char* flag,
                                uint64_t position, bool debug);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_CHAIN_SNAPSHOT_H_
