#!/usr/bin/env bash
# Runs node/bench/bench.js with the addon and native_loops Bazel built.
set -euo pipefail
runfiles="${RUNFILES_DIR:-$0.runfiles}"
export SHMIO_ADDON="$runfiles/shmio/node/shmio.node"
export SHMIO_NATIVE_LOOPS="$runfiles/shmio/node/bench/native_loops"
exec node "$runfiles/shmio/node/bench/bench.js" "$@"
