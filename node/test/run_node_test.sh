#!/usr/bin/env bash
# Runs node's built-in test runner over the given test files, with the addon
# Bazel built and the npm test dependencies of @shmio_node_modules.
set -euo pipefail
runfiles="${RUNFILES_DIR:-${TEST_SRCDIR:-$0.runfiles}}"
export SHMIO_ADDON="$runfiles/shmio/node/shmio.node"
modules="$runfiles/shmio_node_modules/node_modules"
[[ -d "$modules" ]] || modules="$runfiles/shmio/external/shmio_node_modules/node_modules"
export NODE_PATH="$modules"
export SHMIO_NODE_MODULES="$modules"
export SHMIO_CLI="$runfiles/shmio/tools/shmio"
# Each test file runs in its own process; one at a time, so the timing
# checks in them do not compete with each other for the 2 cores.
exec node --test --test-concurrency=1 "$@"
