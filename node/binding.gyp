# node-gyp build of the addon (npm install runs it through scripts/install.js).
# It compiles the C++ core (../shmio) and uvwatch (../uvwatch) from this
# repository together with src/, against the Node headers node-gyp uses, so
# uvwatch sees Node's own uv.h and libuv comes from the node process (no
# -luv). Abseil is Debian's libabsl-dev (shared libraries).
{
  "targets": [{
    "target_name": "shmio",
    # Every .cc of the addon, the core and uvwatch (listed by the shell, in
    # this file's folder), so a new source file needs no edit here.
    "sources": ["<!@(ls src/*.cc ../shmio/*.cc ../uvwatch/*.cc)"],
    "include_dirs": [".."],
    "cflags_cc": ["-std=c++20", "-O2", "-Wno-unused-parameter", "-Wno-unused-result"],
    "cflags_cc!": ["-std=gnu++17", "-std=gnu++14"],
    "libraries": [
      "-labsl_statusor", "-labsl_status", "-labsl_strerror", "-labsl_str_format_internal",
      "-labsl_cord", "-labsl_cordz_info", "-labsl_cord_internal", "-labsl_cordz_functions",
      "-labsl_cordz_handle", "-labsl_hash", "-labsl_city", "-labsl_bad_variant_access",
      "-labsl_low_level_hash", "-labsl_raw_hash_set", "-labsl_bad_optional_access",
      "-labsl_hashtablez_sampler", "-labsl_exponential_biased", "-labsl_synchronization",
      "-labsl_graphcycles_internal", "-labsl_stacktrace", "-labsl_symbolize",
      "-labsl_debugging_internal", "-labsl_demangle_internal", "-labsl_malloc_internal",
      "-labsl_time", "-labsl_civil_time", "-labsl_strings", "-labsl_strings_internal",
      "-labsl_base", "-labsl_spinlock_wait", "-labsl_int128", "-labsl_throw_delegate",
      "-labsl_raw_logging_internal", "-labsl_log_severity", "-labsl_time_zone", "-lpthread"
    ]
  }]
}
