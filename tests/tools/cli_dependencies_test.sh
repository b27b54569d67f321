#!/usr/bin/env bash
# //tests/tools:cli_dependencies_test: the `shmio` CLI links only what its
# commands need. `ldd` of tools/shmio lists no ZeroMQ and no Google Benchmark
# (`shmio bench` runs tools/shmio-bench instead), and does list libuv (for
# `tail`), so the check reads real ldd output; tools/shmio-bench does link
# ZeroMQ, so a benchmark linked back into the CLI would be seen.
set -euo pipefail

fail() {
  echo "cli_dependencies_test: FAIL: $*" >&2
  exit 1
}

root="$TEST_SRCDIR/$TEST_WORKSPACE"
# The libraries' names, one a line ("libuv.so.1"), from ldd's "name => path".
needed() {
  ldd "$1" | awk '{ print $1 }'
}

cli="$(needed "$root/tools/shmio")"
echo "ldd tools/shmio:"
echo "$cli" | sed 's/^/  /'
grep -q '^libuv\.so' <<< "$cli" || fail "ldd tools/shmio lists no libuv: not the CLI, or not ldd output"
if grep -E '^lib(zmq|benchmark)' <<< "$cli"; then
  fail "tools/shmio links ZeroMQ or Google Benchmark (above); keep them in tools/shmio-bench"
fi
echo "tools/shmio: no libzmq, no libbenchmark"

bench="$(needed "$root/tools/shmio-bench")"
grep -q '^libzmq\.so' <<< "$bench" || fail "tools/shmio-bench links no libzmq: the check above would prove nothing"
echo "tools/shmio-bench: links $(grep '^libzmq' <<< "$bench")"
