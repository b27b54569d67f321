#include "bridge/stream_id.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace bridge {
namespace {

static_assert(kFrameOverhead == shmio::format::kFrameOverhead);
constexpr uint64_t kMaxPayload = shmio::format::kMaxPayload;

bool ParseDecimal(absl::string_view text, uint64_t* value) {
  // SimpleAtoi accepts a sign and spaces; an ID part is digits only.
  return !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos &&
         absl::SimpleAtoi(text, value);
}

}  // namespace

std::string StreamId::ToString() const { return absl::StrCat(ms, "-", seq); }

absl::StatusOr<StreamId> ParseStreamId(absl::string_view text) {
  size_t dash = text.find('-');
  StreamId id;
  if (dash == absl::string_view::npos || !ParseDecimal(text.substr(0, dash), &id.ms) ||
      !ParseDecimal(text.substr(dash + 1), &id.seq)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not a stream ID (ms-seq, two decimal numbers)", text));
  }
  return id;
}

std::string EntryIdForPosition(uint64_t position) {
  return absl::StrCat(position, "-", kEntrySeq);
}

std::string ReadStartForPosition(uint64_t position) { return absl::StrCat(position, "-0"); }

std::string NotWrittenByShmio(absl::string_view stream, absl::string_view id,
                              absl::string_view what) {
  return absl::StrFormat(
      "stream %s: entry %s was not written by shmio (%s; shmio writes ID "
      "<position>-1 with the fields pos=<position> and data); publish to a "
      "stream of its own",
      stream, id, what);
}

absl::StatusOr<StreamEntry> DecodeEntry(absl::string_view stream, absl::string_view id,
                                        absl::string_view field1, absl::string_view value1,
                                        absl::string_view field2, absl::string_view value2) {
  absl::StatusOr<StreamId> parsed = ParseStreamId(id);
  if (!parsed.ok()) {
    return absl::FailedPreconditionError(NotWrittenByShmio(stream, id, "a malformed ID"));
  }
  if (parsed->seq != kEntrySeq) {
    return absl::FailedPreconditionError(
        NotWrittenByShmio(stream, id, absl::StrCat("its sequence part is ", parsed->seq)));
  }
  if (field1 != kPosField || field2 != kDataField) {
    return absl::FailedPreconditionError(NotWrittenByShmio(
        stream, id, absl::StrFormat("its fields are '%s' and '%s'", field1, field2)));
  }
  uint64_t pos = 0;
  if (!ParseDecimal(value1, &pos) || pos != parsed->ms) {
    return absl::FailedPreconditionError(NotWrittenByShmio(
        stream, id, absl::StrFormat("its pos field is '%s'", value1)));
  }
  if (value2.size() > kMaxPayload) {
    return absl::FailedPreconditionError(NotWrittenByShmio(
        stream, id,
        absl::StrFormat("its data is %d bytes, over a frame's %d", value2.size(), kMaxPayload)));
  }
  return StreamEntry{pos, value2};
}

}  // namespace bridge
