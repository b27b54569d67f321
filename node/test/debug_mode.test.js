'use strict'
// SHMIO_DEBUG=true turns on the original's debug checks (leading ==
// trailing size, and the writer's check of its last frame), with errors
// that say "[DEBUG]"; without it the same damage goes unnoticed by these
// checks (zero cost), as in the original.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { SharedMemory, Pool } = require('..')
const { logPath, runNode } = require('./helpers')

const PROGRAM = path.join(__dirname, 'programs', 'debug_check.js')

function damagedLog() {
  const file = logPath('debug')
  const shm = new SharedMemory({ path: file, capacity: 4096, writable: true })
  const pool = new Pool(null, shm)
  pool.sliceSize(6).write('abcdef')
  pool.sliceSize(3).write('xyz')
  pool.commit()
  shm.close()
  const bytes = fs.readFileSync(file)
  bytes.writeUInt16LE(99, 256 + 8)  // the first frame's trailing size
  fs.writeFileSync(file, bytes)
  return file
}

test('with SHMIO_DEBUG=true, readers and the writer report mismatched frame sizes with [DEBUG]', async () => {
  const result = await runNode(PROGRAM, [damagedLog(), logPath('debug-writer')], { env: { SHMIO_DEBUG: 'true' } })
  assert.equal(result.code, 0, result.stderr)
  const { getData, nextBatch, commit } = JSON.parse(result.stdout)
  assert.match(getData.error, /^\[DEBUG\].*offset 256.*leading size 10 but trailing size 99/)
  assert.equal(getData.code, 'ERR_SHM_DATA_LOSS')
  assert.match(nextBatch.error, /\[DEBUG\]/)
  assert.equal(nextBatch.code, 'ERR_SHM_FRAME_CORRUPT')
  assert.match(commit.error, /\[DEBUG\]/)
})

test('without SHMIO_DEBUG the same reads and commit go through', async () => {
  const result = await runNode(PROGRAM, [damagedLog(), logPath('plain-writer')], { env: { SHMIO_DEBUG: '' } })
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(JSON.parse(result.stdout),
    { getData: { ok: 2 }, nextBatch: { ok: 2 }, commit: { ok: 'committed' } })
})
