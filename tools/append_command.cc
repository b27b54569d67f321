#include "tools/append_command.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/output_format.h"
#include "tools/sigbus_guard.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"create", false}, {"capacity", true}, {"size", true},
    {"num", true},     {"overlap", true},  {"batch", true},
    {"format", true},  {"permissions", true},
    // Chains (shmio/chain_writer.h): DIR instead of FILE.
    {"chain", false},  {"file-capacity", true}, {"retain-files", true},
    {"retain-bytes", true},
};

// --permissions=OCTAL: the mode bits of a file --create makes (0644 when
// not given, minus the umask).
absl::StatusOr<mode_t> ParsePermissions(const std::string& text) {
  bool octal = !text.empty() && text.size() <= 4 &&
               text.find_first_not_of("01234567") == std::string::npos;
  if (!octal) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--permissions=%s: expected octal permission bits such as 0600 or 0644",
        text));
  }
  return static_cast<mode_t>(std::strtoul(text.c_str(), nullptr, 8));
}

// What the command line asks for, checked before anything touches disk.
struct AppendRequest {
  std::string path;
  Options options;
  bool create = false;
  bool has_size = false;  // --capacity or --size/--num given
  uint64_t batch = 1;
  OutputFormat format = OutputFormat::kHex;
  // --chain, --file-capacity, --retain-files, --retain-bytes.
  bool chain = false;
  bool has_chain_flags = false;  // any of the three numbers given
  ChainOptions chain_options;
};

// Turns the flags into a request; InvalidArgument is a usage error.
absl::StatusOr<AppendRequest> ParseRequest(const ParsedArgs& parsed) {
  AppendRequest request;
  absl::StatusOr<std::string> path = parsed.File();
  if (!path.ok()) return path.status();
  request.path = *path;
  request.create = parsed.Has("create");

  absl::StatusOr<OutputFormat> format =
      ParseOutputFormat(parsed.Value("format").value_or("hex"));
  if (!format.ok()) return format.status();
  if (*format == OutputFormat::kJson) {
    return absl::InvalidArgumentError("append reads --format=hex or text");
  }
  request.format = *format;

  uint64_t* targets[] = {&request.options.capacity, &request.options.size,
                         &request.options.num, &request.options.overlap,
                         &request.batch};
  const char* names[] = {"capacity", "size", "num", "overlap", "batch"};
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<std::optional<uint64_t>> value = parsed.Uint(names[i]);
    if (!value.ok()) return value.status();
    if (value->has_value()) *targets[i] = **value;
  }
  if (request.batch == 0) {
    return absl::InvalidArgumentError("--batch must be at least 1");
  }
  bool geometry = parsed.Has("size") || parsed.Has("num") || parsed.Has("overlap");
  if (parsed.Has("capacity") && geometry) {
    return absl::InvalidArgumentError(
        "give either --capacity or --size/--num/--overlap, not both");
  }
  if (geometry && !(parsed.Has("size") && parsed.Has("num"))) {
    return absl::InvalidArgumentError(
        "a geometry needs --size and --num (and optionally --overlap)");
  }
  request.has_size = parsed.Has("capacity") || geometry;

  request.chain = parsed.Has("chain");
  uint64_t* chain_targets[] = {&request.chain_options.file_capacity,
                               &request.chain_options.retain_files,
                               &request.chain_options.retain_bytes};
  const char* chain_names[] = {"file-capacity", "retain-files", "retain-bytes"};
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::optional<uint64_t>> value = parsed.Uint(chain_names[i]);
    if (!value.ok()) return value.status();
    if (value->has_value()) {
      *chain_targets[i] = **value;
      request.has_chain_flags = true;
    }
  }
  if (request.has_chain_flags && request.has_size) {
    return absl::InvalidArgumentError(
        "--capacity/--size/--num/--overlap size a log file, --file-capacity and "
        "--retain-* a chain: give one kind");
  }
  if (std::optional<std::string> permissions = parsed.Value("permissions")) {
    absl::StatusOr<mode_t> mode = ParsePermissions(*permissions);
    if (!mode.ok()) return mode.status();
    request.options.create_mode = *mode;
  }
  request.options.path = request.path;
  request.options.writable = true;
  request.options.debug_checks = DebugFromEnvironment();
  request.chain_options.directory = request.path;
  request.chain_options.create = request.create;
  request.chain_options.create_mode = request.options.create_mode;
  request.chain_options.debug_checks = request.options.debug_checks;
  return request;
}

// Reads stdin line by line into `Writer`, a Pool (a log file) or a
// ChainWriter (a chain), which share Append() and Commit(); see the header
// for the rules.
template <typename Writer>
class LineAppender {
 public:
  LineAppender(const CommandIo& io, const AppendRequest& request, Writer* pool)
      : io_(io), request_(request), pool_(pool) {}

  // Appends every line; OK at the end of input (everything committed), or
  // the error for the first line that failed (earlier lines committed).
  absl::Status Run() {
    char* buffer = nullptr;
    size_t buffer_size = 0;
    absl::Status status = RunWith(&buffer, &buffer_size);
    std::free(buffer);
    return status;
  }

 private:
  absl::Status RunWith(char** buffer, size_t* buffer_size) {
    uint64_t line_number = 0;
    uint64_t pending = 0;
    std::string payload;
    while (true) {
      ssize_t length = ::getline(buffer, buffer_size, io_.in);
      if (length < 0) break;
      ++line_number;
      absl::string_view line(*buffer, static_cast<size_t>(length));
      if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      absl::Status appended = AppendLine(line, &payload);
      if (!appended.ok()) {
        absl::Status committed = pool_->Commit();
        absl::Status error(appended.code(),
                           absl::StrCat("line ", line_number, ": ",
                                        appended.message()));
        if (!committed.ok()) {
          return absl::Status(error.code(),
                              absl::StrCat(error.message(), "; committing the "
                                           "lines before it failed too: ",
                                           committed.message()));
        }
        return error;
      }
      if (++pending == request_.batch) {
        absl::Status committed = pool_->Commit();
        if (!committed.ok()) return committed;
        pending = 0;
      }
    }
    if (std::ferror(io_.in)) {
      int error = errno;
      pool_->Commit().IgnoreError();  // keep the lines read before it
      return absl::ErrnoToStatus(
          error, absl::StrCat("reading stdin after line ", line_number));
    }
    return pool_->Commit();
  }

  absl::Status AppendLine(absl::string_view line, std::string* payload) {
    if (request_.format == OutputFormat::kText) {
      return pool_->Append(absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(line.data()), line.size()));
    }
    absl::Status decoded = DecodeHexLine(line, payload);
    if (!decoded.ok()) return decoded;
    return pool_->Append(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(payload->data()), payload->size()));
  }

  const CommandIo& io_;
  const AppendRequest& request_;
  Writer* pool_;
};

// Appends stdin through `writer` and prints its committed size (a file
// offset, or a chain position) at the end, even after a failed line.
template <typename Writer>
int AppendAndReport(const CommandIo& io, const AppendRequest& request, Writer* writer) {
  absl::Status status = LineAppender<Writer>(io, request, writer).Run();
  absl::FPrintF(io.out, "%d\n", writer->GetSize().committed);
  if (!status.ok()) {
    std::fflush(io.out);
    return ReportFailure(io, kAppendCommand, request.path, status);
  }
  return FinishOutput(io, kAppendCommand, kExitOk);
}

// `append DIR`: creates (--create --chain) or continues the chain in DIR.
int RunChain(const CommandIo& io, const AppendRequest& request) {
  const Command& self = kAppendCommand;
  const std::string& dir = request.path;
  if (request.has_size) {
    // Exit 1, as for every command given a directory where a file was
    // meant: what is wrong is the path on disk, not the command line.
    return ReportFailure(
        io, self, dir,
        absl::InvalidArgumentError(absl::StrCat(
            dir, " is a directory: a file log cannot be made there, and a chain's "
                 "files are sized with --chain --file-capacity=BYTES, not --capacity or a "
                 "geometry")));
  }
  absl::StatusOr<ChainSettings> settings = ReadChainSettings(dir);
  const bool is_chain = settings.ok();
  if (!is_chain && !absl::IsNotFound(settings.status())) {
    return ReportFailure(io, self, dir, settings.status());
  }
  if (!is_chain && !request.chain) {
    // A directory that is no chain: never guess that one was meant.
    return ReportFailure(
        io, self, dir,
        absl::FailedPreconditionError(absl::StrCat(
            dir, " is not a shmio chain (it is a directory with no ",
            kChainSettingsFileName, "): to make a chain there, run `shmio append ", dir,
            " --create --chain --file-capacity=BYTES`; to append to a log file, name "
            "the file")));
  }
  if (!is_chain && request.create && request.chain_options.file_capacity == 0) {
    return ReportUsageError(io, self,
                            absl::StrCat("--create --chain needs --file-capacity=BYTES "
                                         "(the size of each file) to make a chain in ",
                                         dir));
  }
  GuardAgainstShrinkingFile(dir);
  absl::StatusOr<std::unique_ptr<ChainWriter>> chain =
      ChainWriter::Open(request.chain_options);
  if (!chain.ok()) return ReportFailure(io, self, dir, chain.status());
  return AppendAndReport(io, request, chain->get());
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kAppendCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, kFlags);
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<AppendRequest> request = ParseRequest(*parsed);
  if (!request.ok()) return ReportUsageError(io, self, request.status().message());
  const std::string& path = request->path;
  if (request->chain || IsDirectory(path)) return RunChain(io, *request);
  if (request->has_chain_flags) {
    return ReportUsageError(io, self,
                            "--file-capacity and --retain-* are for a chain: add --chain "
                            "(and --create to make one)");
  }

  struct stat info;
  bool exists = ::stat(path.c_str(), &info) == 0;
  if (!exists && errno != ENOENT) {
    int error = errno;
    return ReportFailure(io, self, path,
                         absl::ErrnoToStatus(error, absl::StrCat("cannot open ", path)));
  }
  if (!exists && !request->create) {
    return ReportFailure(
        io, self, path,
        absl::NotFoundError(absl::StrCat(
            path, " does not exist; pass --create with --capacity=N or "
                  "--size=N --num=N --overlap=N to make it")));
  }
  if (!exists && !request->has_size) {
    return ReportUsageError(
        io, self,
        absl::StrCat("--create needs a size to make ", path,
                     ": --capacity=N or --size=N --num=N [--overlap=N]"));
  }

  GuardAgainstShrinkingFile(path);
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open(request->options);
  if (!shm.ok()) return ReportFailure(io, self, path, shm.status());
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(shm->get());
  if (!pool.ok()) return ReportFailure(io, self, path, pool.status());

  return AppendAndReport(io, *request, pool->get());
}

}  // namespace

const Command kAppendCommand = {
    "append",
    "append FILE|DIR [--create] [--capacity=N | --size=N --num=N --overlap=N | "
    "--chain --file-capacity=BYTES] [--retain-files=N] [--retain-bytes=B] "
    "[--permissions=OCTAL] [--batch=N] [--format=hex|text]",
    "append one payload per stdin line to a log file or a chain (DIR); print the "
    "committed size (a chain's: a position)",
    &Run,
};

}  // namespace shmio::cli
