'use strict'
// Logs written by the original Node.js library (tests/fixtures/node-shmio,
// with a JSON manifest) read exactly, through both APIs; the uncommitted
// tail is never returned; a reader leaves the file byte for byte as it was;
// the original's geometry lets our writer continue such a file.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('crypto')
const fs = require('fs')
const path = require('path')
const { SharedMemory, SharedMemoryConsumer, Pool, createSharedLog } = require('..')
const { logPath } = require('./helpers')

const FIXTURES = process.env.SHMIO_FIXTURES ||
  path.join(__dirname, '..', '..', 'tests', 'fixtures', 'node-shmio')
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'basic.json'), 'utf8'))
const file = path.join(FIXTURES, manifest.file)

// The manifest's rule for frame i.
function expectedPayload(i) {
  const length = ((i * 37) % 200) + 1
  const bytes = Buffer.alloc(length)
  for (let j = 0; j < length; j++) bytes[j] = (i * 31 + j * 7) & 0xff
  return bytes
}

const sha256 = bytes => crypto.createHash('sha256').update(bytes).digest('hex')

test('the original API reads every committed frame of a Node-written log, exactly', () => {
  const shm = new SharedMemory({ path: file, ...manifest.config, writable: false })
  assert.deepEqual(shm.getBuffers().map(b => b.length), [4608, 4608, 4608, 4096])
  const frames = [...new SharedMemoryConsumer(shm).getData()]
  assert.equal(frames.length, manifest.committed_frames)
  frames.forEach((frame, i) => {
    assert.deepEqual(frame, expectedPayload(i), `frame ${i}`)
    assert.equal(sha256(frame), manifest.payload_sha256[i])
    assert.equal(frame.length, manifest.payload_lengths[i])
  })
  // Frames crossing a segment boundary come whole, as the original's did.
  for (const crossing of manifest.frames_crossing_a_segment_boundary) {
    assert.equal(frames[crossing.i].length, crossing.payload_len)
  }
  shm.close()
  assert.equal(sha256(fs.readFileSync(file)), manifest.file_sha256, 'reading changed nothing')
})

test('the 1.x API reads the same frames with cursors relative to dataOffset 24', () => {
  const log = createSharedLog({ path: file, writable: false })
  assert.equal(log.header.dataOffset, 24n)
  assert.equal(log.header.size, BigInt(manifest.committed_size))
  const iterator = log.createIterator()
  const frames = []
  for (let batch; (batch = iterator.nextBatch({ maxMessages: 50 })).length > 0;) frames.push(...batch)
  assert.equal(frames.length, manifest.committed_frames)
  frames.forEach((frame, i) => assert.deepEqual(frame, expectedPayload(i)))
  assert.equal(iterator.cursor(), BigInt(manifest.committed_size - 24))
  const at = manifest.frame_offsets[100]
  iterator.seek(BigInt(at - 24))
  assert.deepEqual(iterator.next(), expectedPayload(100))
  log.close()
})

test('getAll on a Node-written log polls (the original never rings) and delivers exactly the committed frames', async () => {
  const { firstValueFrom } = require('rxjs')
  const shm = new SharedMemory({ path: file })
  const frames = [...await firstValueFrom(new SharedMemoryConsumer(shm).getAll(5))]
  assert.equal(frames.length, manifest.committed_frames, 'the uncommitted tail is never returned')
  shm.close()
})

test('our writer continues a copy of a Node-written log at its committed size, inside its geometry', () => {
  const copy = logPath('fixture-copy')
  fs.copyFileSync(file, copy)
  const shm = new SharedMemory({ path: copy, ...manifest.config, writable: true })
  const pool = new Pool(null, shm)
  assert.deepEqual(pool.getSize(), [manifest.committed_size, 0])
  const payload = Buffer.from('continued by shmio for Node.js')
  pool.sliceSize(payload.length).set(payload)
  pool.commit()
  // It overwrote the uncommitted tail, and the next frame that does not fit
  // is refused in the original's words.
  assert.throws(() => { for (;;) pool.sliceSize(173) }, /Shared memory exhausted/)
  shm.close()
  const frames = [...new SharedMemoryConsumer(new SharedMemory({ path: copy })).getData()]
  assert.equal(frames.length, manifest.committed_frames + 1)
  assert.deepEqual(frames[manifest.committed_frames], payload)
  frames.slice(0, manifest.committed_frames).forEach((f, i) => assert.deepEqual(f, expectedPayload(i)))
})
