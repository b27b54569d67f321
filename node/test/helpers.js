'use strict'
// Shared by the package's tests: unique log paths, the bendec schemas of
// the seed README (with bendec 0.51's primitive types declared), child
// processes, and waiting on events instead of sleeping.
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawn } = require('child_process')
const { once } = require('events')

const PACKAGE = path.join(__dirname, '..')

let counter = 0
// A fresh path in /dev/shm, removed when the process exits.
function logPath(name) {
  const p = `/dev/shm/shmio-node-test-${process.pid}-${counter++}-${name}`
  try { fs.unlinkSync(p) } catch (err) { /* not there */ }
  created.push(p)
  return p
}
const created = []
const createdDirs = []
process.on('exit', () => {
  for (const p of created) {
    try { fs.unlinkSync(p) } catch (err) { /* gone */ }
  }
  for (const p of createdDirs) fs.rmSync(p, { recursive: true, force: true })
})

// A fresh chain directory path in /dev/shm (not created), removed with its
// files when the process exits.
function chainPath(name) {
  const p = `/dev/shm/shmio-node-test-${process.pid}-${counter++}-${name}`
  fs.rmSync(p, { recursive: true, force: true })
  createdDirs.push(p)
  return p
}

// bendec 0.51 knows no primitive by itself: declare them, and read/write
// u64 as BigInt. `message: string` of the README is a fixed char array.
function makeBendec(extraTypes = []) {
  const { Bendec } = require('bendec')
  const types = [
    { name: 'u8', size: 1 },
    { name: 'u16', size: 2 },
    { name: 'u32', size: 4 },
    { name: 'u64', size: 8 },
    { name: 'char', size: 1 },
    {
      name: 'LogEvent',
      fields: [
        { name: 'timestamp', type: 'u64' },
        { name: 'level', type: 'u8' },
        { name: 'message', type: 'char', length: 48 },
      ],
    },
    ...extraTypes,
  ]
  const readers = { u64: (index) => [`buffer.readBigUInt64LE(${index})`, index + 8] }
  const writers = { u64: (index, _length, p = 'v') => [`buffer.writeBigUInt64LE(${p}, ${index})`, index + 8] }
  return new Bendec({ types, readers, writers })
}

// The text in a fixed char field (bytes up to the first NUL).
function text(buffer) {
  const end = buffer.indexOf(0)
  return buffer.subarray(0, end === -1 ? buffer.length : end).toString()
}

// Runs `script` (a file) in a new node process; resolves with its exit code,
// stdout and stderr. `onLine` sees stdout lines as they come.
function runNode(script, args = [], { env = {}, onLine, input } = {}) {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return collect(child, { onLine, input })
}

function run(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: process.env })
  return collect(child, options)
}

function collect(child, { onLine, input } = {}) {
  let stdout = ''
  let stderr = ''
  let partial = ''
  child.stdout.on('data', chunk => {
    stdout += chunk
    partial += chunk
    let newline
    while ((newline = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, newline)
      partial = partial.slice(newline + 1)
      if (onLine) onLine(line, child)
    }
  })
  child.stderr.on('data', chunk => { stderr += chunk })
  if (input !== undefined) child.stdin.end(input)
  const done = once(child, 'close').then(([code, signal]) => ({ code, signal, stdout, stderr }))
  done.child = child
  return done
}

// The `shmio` CLI built by Bazel (//tools:shmio): SHMIO_CLI, or the
// checkout's bazel-bin when run with npm test.
function cli() {
  const p = process.env.SHMIO_CLI || path.join(PACKAGE, '..', 'bazel-bin', 'tools', 'shmio')
  if (!fs.existsSync(p)) {
    throw new Error(`the shmio CLI is not at ${p}: ./bazelw build //tools:shmio, or set SHMIO_CLI`)
  }
  return p
}

// Resolves with the first value of `observable`-like next() calls for
// which `predicate` is true, via a callback registration function.
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

module.exports = { PACKAGE, logPath, chainPath, makeBendec, text, runNode, run, cli, deferred, tmpdir: os.tmpdir }
