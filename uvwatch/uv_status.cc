#include "uvwatch/uv_status.h"

#include <uv.h>

#include "absl/strings/str_cat.h"

namespace uvwatch {

absl::Status UvStatus(int uv_code, absl::string_view what) {
  if (uv_code >= 0) return absl::OkStatus();
  // libuv's own codes (UV_EOF and friends) lie beyond every errno; they have
  // no errno meaning, so they map to Unknown.
  constexpr int kLargestErrno = 4000;
  absl::StatusCode code = -uv_code < kLargestErrno
                              ? absl::ErrnoToStatusCode(-uv_code)
                              : absl::StatusCode::kUnknown;
  return absl::Status(code, absl::StrCat(what, ": ", uv_err_name(uv_code), " ",
                                         uv_strerror(uv_code)));
}

}  // namespace uvwatch
