#include "tools/chain_snapshot.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "tools/log_snapshot.h"

namespace shmio::cli {
namespace {

// Says what to do about a chain file that could not be read as a log.
absl::Status ExplainUnreadable(const absl::Status& status, const ChainFileEntry& entry,
                               const std::string& directory) {
  std::string what_to_do;
  if (absl::IsPermissionDenied(status)) {
    what_to_do = "give this user read access to it";
  } else if (absl::IsDataLoss(status) || absl::IsFailedPrecondition(status)) {
    what_to_do = absl::StrFormat("if it is not a file of the chain, move it out of %s",
                                 directory);
  } else {
    return status;
  }
  std::string message(status.message());
  if (!absl::StrContains(message, entry.path)) message = entry.path + ": " + message;
  return absl::Status(status.code(),
                      absl::StrFormat("%s (its name makes it the chain's file at position %d); %s",
                                      message, entry.base_position, what_to_do));
}

// Where `next` must start, given the file before it.
absl::Status CheckFollows(const ChainFileFacts& prev, const ChainFileFacts& next,
                          const std::string& directory) {
  if (prev.end != next.base) {
    const bool gap = prev.end < next.base;
    return absl::DataLossError(absl::StrFormat(
        "%s: the chain is not whole: %s (%s) ends at position %d but the next file, %s, "
        "starts at %d: %s; %s",
        directory, prev.path, prev.sealed ? "sealed" : "not sealed", prev.end, next.path,
        next.base,
        gap ? absl::StrFormat("positions %d to %d are missing (a gap)", prev.end, next.base)
            : absl::StrFormat("positions %d to %d are in both files (an overlap)", next.base,
                              prev.end),
        gap ? "restore the missing file, or move the files after the gap out of the "
              "directory"
            : "one of the two does not belong: move it out of the directory"));
  }
  if (next.sequence != prev.sequence + 1) {
    return absl::DataLossError(absl::StrFormat(
        "%s is file %d of the chain in %s, but follows file %d (%s): a file was "
        "replaced; move the one that does not belong out of the directory",
        next.path, next.sequence, directory, prev.sequence, prev.path));
  }
  if (!prev.sealed) {
    return absl::DataLossError(absl::StrFormat(
        "%s (positions %d to %d) is not sealed, but %s follows it: its writer died "
        "while rolling to the next file; opening the chain with its writer (`shmio "
        "append %s` with no input) seals it",
        prev.path, prev.base, prev.end, next.path, directory));
  }
  return absl::OkStatus();
}

// Opens and checks one file; `prev` is the file before it, if any.
absl::Status CheckFile(const ChainSnapshot& chain, const ChainFileEntry& entry,
                       const ChainFileFacts* prev, ChainSnapshotOptions options,
                       ChainFileFacts* facts, std::optional<BadChainFrame>* bad_frame) {
  absl::StatusOr<LogSnapshot> log = OpenLogSnapshot(entry.path, options.debug);
  if (!log.ok()) return ExplainUnreadable(log.status(), entry, chain.directory);
  // The chain id and the base position in its header (the log is open, so
  // this finds the same file unless it was replaced in between).
  absl::StatusOr<ChainFile> file = chain.files->OpenFile(entry.base_position);
  if (!file.ok()) return file.status();

  facts->path = entry.path;
  facts->name = entry.path.substr(chain.directory.size() + 1);
  facts->base = entry.base_position;
  facts->sequence = file->sequence;
  facts->data_offset = file->data_offset;
  facts->end = file->PositionOf(log->committed);
  const uint64_t sealed_end = file->LoadSealedEnd();
  facts->sealed = sealed_end != 0;
  if (facts->sealed && sealed_end != log->committed) {
    return absl::DataLossError(absl::StrFormat(
        "%s is sealed at offset %d (position %d) but its committed value is %d (position "
        "%d): the file is damaged",
        entry.path, sealed_end, file->PositionOf(sealed_end), log->committed, facts->end));
  }
  if (prev != nullptr) {
    absl::Status follows = CheckFollows(*prev, *facts, chain.directory);
    if (!follows.ok()) return follows;
  }
  if (options.walk_frames) {
    FrameWalk walk = WalkFrames(*log->shm, facts->data_offset, log->committed, options.debug);
    facts->frames = walk.frames;
    if (!walk.status.ok()) {
      const uint64_t position = file->PositionOf(walk.bad_offset);
      *bad_frame = BadChainFrame{entry.path, walk.bad_offset, position,
                                 std::string(walk.status.message())};
      return absl::DataLossError(absl::StrFormat("%s: bad frame at offset %d (position %d): %s",
                                                 entry.path, walk.bad_offset, position,
                                                 walk.status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t ChainSnapshot::frames() const {
  uint64_t total = 0;
  for (const ChainFileFacts& file : chain_files) total += file.frames;
  return total;
}

absl::StatusOr<ChainSnapshot> OpenChainSnapshot(const std::string& directory,
                                                ChainSnapshotOptions options) {
  absl::StatusOr<std::shared_ptr<ChainFiles>> files = ChainFiles::Open(directory, options.debug);
  if (!files.ok()) return files.status();
  absl::StatusOr<ChainSettings> settings = ReadChainSettings(directory);
  if (!settings.ok()) return settings.status();
  absl::StatusOr<ChainListing> listing = (*files)->List();
  if (!listing.ok()) return listing.status();

  ChainSnapshot chain;
  chain.directory = directory;
  chain.settings = *settings;
  chain.files = *std::move(files);
  chain.foreign = std::move(listing->foreign);
  for (const ChainFileEntry& entry : listing->files) {
    ChainFileFacts facts;
    const ChainFileFacts* prev = chain.chain_files.empty() ? nullptr : &chain.chain_files.back();
    absl::Status checked = CheckFile(chain, entry, prev, options, &facts, &chain.bad_frame);
    // Retention removed the oldest files between the listing and now.
    if (absl::IsNotFound(checked) && prev == nullptr) continue;
    if (!checked.ok()) {
      chain.problem = checked;
      break;
    }
    chain.chain_files.push_back(std::move(facts));
  }
  return chain;
}

absl::Status CheckChainPosition(const ChainSnapshot& chain, const char* flag,
                                uint64_t position, bool debug) {
  const std::string range =
      absl::StrFormat("the chain %s holds positions %d to %d", chain.directory,
                      chain.begin(), chain.end());
  if (chain.chain_files.empty()) {
    if (position == 0) return absl::OkStatus();
    return absl::OutOfRangeError(absl::StrFormat(
        "--%s=%d: the chain %s has no file yet, so no position %d", flag, position,
        chain.directory, position));
  }
  if (position < chain.begin()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "--%s=%d: position %d is no longer in the chain (retention removed the files "
        "before %d); %s",
        flag, position, position, chain.begin(), range));
  }
  if (position > chain.end()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "--%s=%d: position %d is past the committed end; %s", flag, position, position,
        range));
  }
  // The last file starting at or before it (at a file's end: the next).
  auto after = std::upper_bound(
      chain.chain_files.begin(), chain.chain_files.end(), position,
      [](uint64_t p, const ChainFileFacts& file) { return p < file.base; });
  const ChainFileFacts& file = *(after - 1);
  const uint64_t offset = file.data_offset + (position - file.base);
  absl::StatusOr<LogSnapshot> log = OpenLogSnapshot(file.path, debug);
  if (!log.ok()) return log.status();
  absl::Status boundary = log->consumer->Seek(offset);
  if (boundary.ok()) return boundary;
  // The consumer's message starts with the path, which ours names already.
  absl::string_view why = absl::StripPrefix(boundary.message(), file.path + ": ");
  return absl::Status(boundary.code(),
                      absl::StrFormat("--%s=%d: position %d is offset %d of %s: %s", flag,
                                      position, position, offset, file.path, why));
}

}  // namespace shmio::cli
