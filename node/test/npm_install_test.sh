#!/usr/bin/env bash
# //node:npm_install_test: what README.md's "Install" promises, done as a
# user does it. `npm install <repo>/node` in an empty project, offline,
# builds the addon from source with npm's own node-gyp against the running
# node's headers; then the project requires 'shmio', writes a log with the
# 1.x API and reads it back with the seed's API.
#
# npm builds in the package's folder, so the package and the C++ sources
# it compiles (../shmio, ../uvwatch) are copied out of the runfiles first:
# the build must not write into the source tree.
set -euo pipefail
fail() {
  echo "npm_install_test: FAIL: $*" >&2
  exit 1
}
root="$TEST_SRCDIR/$TEST_WORKSPACE"
repo="$TEST_TMPDIR/repo"
project="$TEST_TMPDIR/project"
mkdir -p "$repo" "$project" "$TEST_TMPDIR/home"
for dir in node shmio uvwatch; do
  cp -rL "$root/$dir" "$repo/$dir"
done

# A user's environment, kept inside the test: npm's cache and HOME in
# TEST_TMPDIR, no registry (--offline: the package has no dependencies to
# fetch; its peers are optional), two compile jobs (node-gyp's JOBS).
export HOME="$TEST_TMPDIR/home"
export npm_config_cache="$TEST_TMPDIR/npm-cache"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export JOBS=2
cd "$project"
printf '{ "name": "a-user-project", "version": "1.0.0", "private": true }\n' > package.json
echo "npm_install_test: [${SECONDS}s] npm install --offline <repo>/node"
npm install --offline "$repo/node" > "$TEST_TMPDIR/npm.log" 2>&1 ||
  fail "npm install exited $?: $(tail -40 "$TEST_TMPDIR/npm.log")"
[[ -f "$repo/node/build/Release/shmio.node" ]] ||
  fail "npm install did not build build/Release/shmio.node: $(tail -40 "$TEST_TMPDIR/npm.log")"
echo "npm_install_test: [${SECONDS}s] built $(du -h "$repo/node/build/Release/shmio.node" | cut -f1) shmio.node"

cat > use.js <<'JS'
'use strict'
// Writes 1000 numbered frames with createSharedLog (1.x), reads them back
// with SharedMemory + SharedMemoryConsumer.getData() (0.3), checking each.
const assert = require('assert')
const shmio = require('shmio')
const path = process.argv[2]
const count = 1000
const log = shmio.createSharedLog({ path, writable: true, capacityBytes: 1 << 20 })
for (let i = 0; i < count; i++) log.writer.allocate(8).writeUInt32LE(i, 0)
log.writer.commit()
log.close()
const shm = new shmio.SharedMemory({ path, writable: false })
const frames = [...new shmio.SharedMemoryConsumer(shm).getData()]
assert.strictEqual(frames.length, count)
frames.forEach((frame, i) => assert.strictEqual(frame.readUInt32LE(0), i))
console.log(`wrote ${count} frames with createSharedLog, read ${frames.length} back with getData()`)
JS
out="$(node use.js "$TEST_TMPDIR/log.shm" 2>&1)" || fail "node use.js exited $?: $out"
echo "  $out"
# npm links a folder it installs from: the project's shmio is that copy.
resolved="$(node -e 'console.log(require.resolve("shmio"))')"
[[ "$resolved" == "$(realpath "$repo/node/index.js")" ]] ||
  fail "require('shmio') resolved to $resolved, not the installed $repo/node"
echo "npm_install_test: [${SECONDS}s] all checks passed"
