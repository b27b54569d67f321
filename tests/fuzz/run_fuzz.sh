#!/usr/bin/env bash
# Usage: tests/fuzz/run_fuzz.sh [SECONDS]   (default 60)
#
# Builds //tests/fuzz:log_fuzzer with clang + libFuzzer + ASan/UBSan
# (--config=fuzz) and fuzzes it for SECONDS over a scratch copy of
# tests/fuzz/corpus (new inputs stay in the copy; the committed seeds are
# never changed). Any crash, timeout, leak or out-of-memory input is copied
# into tests/fuzz/regressions/, where //tests/fuzz:fuzz_regression_test
# replays it on every `bazel test`: fix the bug, then commit the input.
#
# Exit status: 0 when the run found nothing, 1 when it found an input.
# SHMIO_BAZEL_STARTUP_OPTIONS (e.g. --output_base=...) goes before the
# Bazel command.
set -euo pipefail

seconds="${1:-60}"
cd "$(dirname "$0")/../.."
root="$PWD"

# shellcheck disable=SC2086
./bazelw ${SHMIO_BAZEL_STARTUP_OPTIONS:-} build --config=fuzz //tests/fuzz:log_fuzzer
# shellcheck disable=SC2086
bin="$(./bazelw ${SHMIO_BAZEL_STARTUP_OPTIONS:-} info --config=fuzz bazel-bin 2>/dev/null)"
fuzzer="$bin/tests/fuzz/log_fuzzer"

work="$(mktemp -d "${TMPDIR:-/tmp}/shmio-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp tests/fuzz/corpus/* "$work/corpus/"

echo "run_fuzz.sh: fuzzing $fuzzer for ${seconds}s over a copy of tests/fuzz/corpus"
status=0
# -timeout: one input must not take 10 s (a hang is a bug: readers never
# wait indefinitely on a damaged file). -max_len covers basic.shm (16 KiB).
"$fuzzer" "$work/corpus" \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -max_len=20000 \
  -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" || status=$?

found=("$work"/artifacts/*)
if [[ -e "${found[0]}" ]]; then
  for input in "${found[@]}"; do
    cp "$input" "$root/tests/fuzz/regressions/"
    echo "run_fuzz.sh: kept $(basename "$input") in tests/fuzz/regressions/"
  done
  exit 1
fi
if [[ "$status" -ne 0 ]]; then
  echo "run_fuzz.sh: the fuzzer exited with status $status" >&2
  exit 1
fi
echo "run_fuzz.sh: no crash in ${seconds}s"
