#!/usr/bin/env bash
# Usage: tests/fuzz/run_fuzz.sh [SECONDS]   (default 60)
#
# Builds the fuzzers with clang + libFuzzer + ASan/UBSan (--config=fuzz) and
# fuzzes each for SECONDS over a scratch copy of its seeds: log_fuzzer over
# tests/fuzz/corpus (any bytes as a log file), reader_table_fuzzer over
# tests/fuzz/reader_corpus (any bytes as a chain's readers.shm). New inputs
# stay in the copy; the committed seeds are never changed. Any crash,
# timeout, leak or out-of-memory input is copied into tests/fuzz/regressions/
# (the reader-table fuzzer's with a "reader-table-" prefix), where
# //tests/fuzz:fuzz_regression_test replays it on every `bazel test`: fix
# the bug, then commit the input.
#
# Exit status: 0 when the run found nothing, 1 when it found an input.
# SHMIO_BAZEL_STARTUP_OPTIONS (e.g. --output_base=...) goes before the
# Bazel command.
set -euo pipefail

seconds="${1:-60}"
cd "$(dirname "$0")/../.."
root="$PWD"

# shellcheck disable=SC2086
./bazelw ${SHMIO_BAZEL_STARTUP_OPTIONS:-} build --config=fuzz \
  //tests/fuzz:log_fuzzer //tests/fuzz:reader_table_fuzzer
# shellcheck disable=SC2086
bin="$(./bazelw ${SHMIO_BAZEL_STARTUP_OPTIONS:-} info --config=fuzz bazel-bin 2>/dev/null)"

work="$(mktemp -d "${TMPDIR:-/tmp}/shmio-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# fuzz NAME SEEDS PREFIX MAX_LEN: fuzzes NAME for $seconds with its output in
# $work/NAME/log; returns 0 when it found nothing, 1 when it found an input.
fuzz() {
  local name="$1" seeds="$2" prefix="$3" max_len="$4"
  local fuzzer="$bin/tests/fuzz/$name"
  mkdir "$work/$name" "$work/$name/corpus" "$work/$name/artifacts"
  cp "tests/fuzz/$seeds"/* "$work/$name/corpus/"
  echo "run_fuzz.sh: fuzzing $fuzzer for ${seconds}s over a copy of tests/fuzz/$seeds"
  local status=0
  # -timeout: one input must not take 10 s (a hang is a bug: readers never
  # wait indefinitely on a damaged file).
  "$fuzzer" "$work/$name/corpus" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -max_len="$max_len" \
    -print_final_stats=1 \
    -artifact_prefix="$work/$name/artifacts/$prefix" \
    >"$work/$name/log" 2>&1 || status=$?
  local found=("$work/$name"/artifacts/*)
  if [[ -e "${found[0]}" ]]; then
    for input in "${found[@]}"; do
      cp "$input" "$root/tests/fuzz/regressions/"
      echo "run_fuzz.sh: kept $(basename "$input") in tests/fuzz/regressions/"
    done
    return 1
  elif [[ "$status" -ne 0 ]]; then
    echo "run_fuzz.sh: $name exited with status $status" >&2
    return 1
  fi
}

# Both fuzzers at once, one per core (CI has two): each gets its full
# $seconds and the stage takes half the time. Their outputs are printed
# after both finish, not interleaved: the last lines (final stats) of a
# clean run, all of a failed one.
# -max_len covers basic.shm (16 KiB) and a reader table (8320 bytes).
declare -A pid_of
fuzz log_fuzzer corpus "" 20000 &
pid_of[log_fuzzer]=$!
fuzz reader_table_fuzzer reader_corpus "reader-table-" 9000 &
pid_of[reader_table_fuzzer]=$!
found_any=0
for name in log_fuzzer reader_table_fuzzer; do
  if wait "${pid_of[$name]}"; then
    echo "run_fuzz.sh: $name found nothing; the end of its output:"
    tail -n 15 "$work/$name/log"
  else
    echo "run_fuzz.sh: $name failed; its output:"
    cat "$work/$name/log"
    found_any=1
  fi
done
if [[ "$found_any" -ne 0 ]]; then
  exit 1
fi
echo "run_fuzz.sh: no crash in ${seconds}s of each fuzzer"
