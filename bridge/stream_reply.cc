#include "bridge/stream_reply.h"

#include <hiredis/hiredis.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/redis_connection.h"

namespace bridge {
namespace {

bool IsString(const redisReply* reply) {
  return reply != nullptr &&
         (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

absl::string_view Text(const redisReply* reply) {
  return absl::string_view(reply->str, reply->len);
}

absl::Status Malformed(absl::string_view stream, absl::string_view what) {
  return absl::DataLossError(
      absl::StrFormat("stream %s: the server's reply is not a stream's entries (%s)", stream, what));
}

}  // namespace

absl::StatusOr<std::vector<StreamEntry>> DecodeEntries(absl::string_view stream,
                                                       const redisReply* entries) {
  if (entries == nullptr || entries->type != REDIS_REPLY_ARRAY) {
    return Malformed(stream, "expected an array of entries");
  }
  std::vector<StreamEntry> decoded;
  decoded.reserve(entries->elements);
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (entry == nullptr || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        !IsString(entry->element[0])) {
      return Malformed(stream, "an entry is not [id, fields]");
    }
    absl::string_view id = Text(entry->element[0]);
    const redisReply* fields = entry->element[1];
    if (fields == nullptr || fields->type != REDIS_REPLY_ARRAY) {
      return Malformed(stream, absl::StrCat("entry ", id, " has no field list"));
    }
    if (fields->elements != 4) {
      return absl::FailedPreconditionError(NotWrittenByShmio(
          stream, id, absl::StrCat("it has ", fields->elements / 2, " fields, not 2")));
    }
    for (size_t f = 0; f < 4; ++f) {
      if (!IsString(fields->element[f])) return Malformed(stream, "a field is not a string");
    }
    absl::StatusOr<StreamEntry> decoded_entry =
        DecodeEntry(stream, id, Text(fields->element[0]), Text(fields->element[1]),
                    Text(fields->element[2]), Text(fields->element[3]));
    if (!decoded_entry.ok()) return decoded_entry.status();
    decoded.push_back(*decoded_entry);
  }
  return decoded;
}

absl::StatusOr<std::vector<StreamEntry>> DecodeXreadReply(absl::string_view stream,
                                                          const redisReply* reply) {
  if (reply != nullptr && reply->type == REDIS_REPLY_NIL) return std::vector<StreamEntry>();
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != 2) {
    return Malformed(stream, "XREAD did not answer [[key, entries]]");
  }
  return DecodeEntries(stream, reply->element[0]->element[1]);
}

absl::Status CheckStreamType(absl::string_view stream, const redisReply* reply) {
  if (!IsString(reply)) return ReplyError(absl::StrCat("TYPE of ", stream), reply);
  absl::string_view type = Text(reply);
  if (type == "stream" || type == "none") return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrFormat(
      "key %s holds a %s, not a stream: choose another --stream or delete the key", stream,
      type));
}

std::string StreamAt(absl::string_view stream, const RedisAddress& address) {
  return absl::StrCat("stream ", stream, " at redis ", address.ToString());
}

absl::Status AtRedis(const RedisAddress& address, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("redis ", address.ToString(), ": ", status.message()));
}

absl::Status ReplyError(absl::string_view what, const redisReply* reply) {
  std::string text = DescribeReply(reply);
  if (absl::StartsWith(text, "WRONGTYPE")) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": the key is not a stream (", text, ")"));
  }
  return absl::UnknownError(absl::StrCat(what, ": ", text));
}

}  // namespace bridge
