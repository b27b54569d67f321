#!/usr/bin/env bash
# Usage: tests/packaging/bazel_consumer.sh
#
# Builds and runs examples/consumer as what it is: a Bazel workspace of its
# own whose WORKSPACE declares this tree as @shmio (local_repository, then
# load("@shmio//:deps.bzl", "shmio_dependencies") and shmio_dependencies()),
# the way a user's project depends on shmio. A nested Bazel cannot run
# inside `bazel test`, so .ci/run runs this script as a stage of its own.
#
# Checks, printing each:
#   1. `bazel build //:log_roundtrip //:follow_log` there succeeds: deps.bzl
#      declares what shmio needs, and shmio's BUILD files (@shmio//shmio,
#      @shmio//uvwatch, their //third_party wrappers) work from outside;
#   2. log_roundtrip (@shmio//shmio) writes 1000 frames and reads them back;
#   3. follow_log (@shmio//uvwatch) follows a log on a uv loop, woken in
#      inotify mode, and gets every frame in order.
#
# Bounded: each Bazel command is killed after SHMIO_CONSUMER_TIMEOUT seconds
# (default 600), and the consumer's Bazel server exits when done (and after
# 60 idle seconds if this script is killed). The consumer has its own output
# base; with shmio's user.bazelrc (a disk cache) it shares that cache, so a
# repeated run rebuilds nothing. SHMIO_BAZEL_STARTUP_OPTIONS (e.g.
# --output_base=...) goes before the Bazel command.
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/../.."
root="$PWD"
consumer="$root/examples/consumer"
limit="${SHMIO_CONSUMER_TIMEOUT:-600}"

fail() {
  echo "bazel_consumer: FAIL: $*" >&2
  exit 1
}

# shellcheck disable=SC2206  # startup options are words
startup=(${SHMIO_BAZEL_STARTUP_OPTIONS:-} --max_idle_secs=60)
if [[ -f "$root/user.bazelrc" ]]; then
  # In place of ~/.bazelrc: shmio's own settings (the shared disk cache).
  startup+=(--bazelrc="$root/user.bazelrc")
fi
# No bazel-* symlinks inside shmio's tree (they would point into the
# consumer's output base from inside @shmio).
flags=(--symlink_prefix=/)

work="$(mktemp -d "${TMPDIR:-/tmp}/shmio-bazel-consumer.XXXXXX")"
cleanup() {
  (cd "$consumer" && "$root/bazelw" "${startup[@]}" shutdown) > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Runs Bazel in the consumer workspace, bounded in time.
consumer_bazel() {
  (cd "$consumer" && timeout --kill-after=10 "$limit" "$root/bazelw" "${startup[@]}" "$@")
}

echo "bazel_consumer: 1. bazel build in examples/consumer (WORKSPACE: @shmio = $root)"
SECONDS=0
consumer_bazel build "${flags[@]}" //:log_roundtrip //:follow_log 2> "$work/build.log" ||
  fail "the consumer workspace does not build (${SECONDS}s):
$(tail -40 "$work/build.log")"
grep -E '^INFO: (Elapsed time|[0-9]+ processes)' "$work/build.log" | sed 's/^/  /' || true
echo "  built in ${SECONDS}s"

# Runs one consumer program through `bazel run` and checks what it prints.
run_program() {
  local target="$1" want="$2" out
  out="$(consumer_bazel run "${flags[@]}" "$target" -- "$work/${target#//:}.shm" \
    2> "$work/run.log")" || fail "bazel run $target failed:
$out
$(tail -20 "$work/run.log")"
  echo "  $ bazel run $target"
  echo "$out" | sed 's/^/    /'
  [[ "$out" == *"$want"* ]] || fail "$target did not print '$want'"
}

echo "bazel_consumer: 2. a program on @shmio//shmio writes and reads a log"
run_program //:log_roundtrip "wrote 1000 frames, read back 1000, all intact"

echo "bazel_consumer: 3. a program on @shmio//uvwatch follows a log on a uv loop"
run_program //:follow_log "followed 50 of 50 frames in inotify mode"

echo "bazel_consumer: all checks passed in ${SECONDS}s"
