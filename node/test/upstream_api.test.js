'use strict'
// Upstream 1.x's createSharedLog API: its names, its cursor convention
// (bigint, relative to dataOffset) and its err.code values, on files
// written through either API.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const { createSharedLog, isShmIteratorError, SharedMemory, Pool, SharedMemoryConsumer } = require('..')
const { logPath } = require('./helpers')

const writeString = (buffer, value) => {
  buffer.fill(0)
  buffer.write(value, 'utf8')
}
const decode = frame => frame.toString('utf8').replace(/\u0000+$/, '')

test('the writer allocates frames and an iterator reads them after commit', () => {
  const path = logPath('basic')
  const log = createSharedLog({ path, capacityBytes: 64 * 1024, writable: true })
  const writer = log.writer
  const payloads = Array.from({ length: 3 }, (_, i) => `payload-${i}`)
  payloads.forEach(value => writeString(writer.allocate(32), value))
  const iterator = log.createIterator()
  assert.deepEqual(iterator.nextBatch({ maxMessages: 10 }), [], 'nothing before commit()')
  writer.commit()
  const frames = iterator.nextBatch({ maxMessages: 10 })
  assert.deepEqual(frames.map(decode), payloads)
  assert.ok(log.header.size > log.header.dataOffset)
  assert.equal(log.header.headerSize, 24n)
  assert.equal(iterator.cursor(), 3n * 36n, 'cursor is relative to dataOffset')
  assert.equal(iterator.committedSize(), 3n * 36n)
  assert.equal(log.header.size - log.header.dataOffset, iterator.committedSize())
  assert.equal(iterator.next(), null, 'next() is null when nothing new is committed')
  iterator.close()
  log.close()
})

test('nextBatch honours maxMessages and maxBytes (which count the 4 bytes of sizes per frame)', () => {
  const path = logPath('limits')
  const log = createSharedLog({ path, capacityBytes: 64 * 1024, writable: true })
  for (let i = 0; i < 10; i++) log.writer.allocate(12).fill(i)
  log.writer.commit()
  const iterator = log.createIterator()
  assert.equal(iterator.nextBatch({ maxMessages: 3 }).length, 3)
  assert.equal(iterator.nextBatch({ maxBytes: 16 * 2 }).length, 2, 'frames of 16 bytes each')
  assert.equal(iterator.nextBatch({ maxBytes: 1 }).length, 1, 'at least one frame, however large')
  assert.equal(iterator.nextBatch().length, 4)
  assert.equal(iterator.next(), null)
  log.close()
})

test('seek and startCursor resume at a saved cursor; a cursor off a frame boundary is ERR_SHM_CURSOR', () => {
  const path = logPath('seek')
  const log = createSharedLog({ path, capacityBytes: 64 * 1024, writable: true })
  for (let i = 0; i < 5; i++) writeString(log.writer.allocate(8), `f${i}`)
  log.writer.commit()
  const first = log.createIterator()
  first.nextBatch({ maxMessages: 2 })
  const saved = first.cursor()
  assert.equal(saved, 24n)
  const resumed = log.createIterator({ startCursor: saved })
  assert.deepEqual(resumed.nextBatch().map(decode), ['f2', 'f3', 'f4'])
  resumed.seek(12n)
  assert.equal(decode(resumed.next()), 'f1')
  assert.throws(() => resumed.seek(13n), err => err.code === 'ERR_SHM_CURSOR' && /not a frame boundary/.test(err.message))
  assert.throws(() => resumed.seek(1000n), err => err.code === 'ERR_SHM_CURSOR' && /past the committed end/.test(err.message))
  assert.throws(() => resumed.seek(5), err => err.code === 'ERR_SHM_CURSOR' && /BigInt/.test(err.message))
  assert.throws(() => log.createIterator({ startCursor: 99n }), err => err.code === 'ERR_SHM_CURSOR')
  assert.throws(() => resumed.nextBatch({ maxMessages: 0 }), err => err.code === 'ERR_SHM_CURSOR')
  log.close()
})

test('closed iterators and closed logs answer with ERR_SHM_ITERATOR_CLOSED and ERR_SHM_MAPPING_GONE', () => {
  const path = logPath('closed')
  const log = createSharedLog({ path, capacityBytes: 4096, writable: true })
  const frame = log.writer.allocate(4)
  log.writer.commit()
  const iterator = log.createIterator()
  iterator.close()
  assert.throws(() => iterator.next(), err => err.code === 'ERR_SHM_ITERATOR_CLOSED' && isShmIteratorError(err))
  const open = log.createIterator()
  log.close()
  for (const call of [() => open.next(), () => open.cursor(), () => open.seek(0n), () => log.createIterator(),
    () => log.header.size, () => log.writer.allocate(4), () => log.writer.commit()]) {
    assert.throws(call, err => err.code === 'ERR_SHM_MAPPING_GONE' && isShmIteratorError(err))
  }
  frame.fill(1)  // a Buffer from before close() is still safe to touch
  log.close()    // idempotent
})

test('the writer remembers its last frame: getLastAllocatedAddress and getBufferAtAddress', () => {
  const path = logPath('address')
  const log = createSharedLog({ path, capacityBytes: 4096, writable: true })
  const writer = log.writer
  assert.equal(writer.getLastAllocatedAddress(), null)
  writeString(writer.allocate(10), 'first')
  writeString(writer.allocate(6), 'second')
  const address = writer.getLastAllocatedAddress()
  assert.equal(address, 14n, 'the second frame starts after the first (10 + 4 bytes)')
  const again = writer.getBufferAtAddress(address)
  assert.equal(decode(again), 'second')
  again.write('SECOND')
  writer.commit()
  const iterator = log.createIterator({ startCursor: address })
  assert.equal(decode(iterator.next()), 'SECOND', 'the Buffer is the frame itself (zero copy)')
  assert.throws(() => writer.getBufferAtAddress(3n), err => err.code === 'ERR_SHM_CURSOR')
  writer.close()
  assert.throws(() => writer.allocate(1), /writer is closed/)
  log.close()
})

test('a reader ignores capacityBytes for an existing log, as 1.x did; the file keeps its size', () => {
  const path = logPath('capacity')
  const writerLog = createSharedLog({ path, capacityBytes: 64 * 1024, writable: true })
  writeString(writerLog.writer.allocate(64), 'mismatch-payload')
  writerLog.writer.commit()
  writerLog.close()
  const readerLog = createSharedLog({ path, capacityBytes: 8 * 1024, writable: false })
  assert.deepEqual(readerLog.createIterator().nextBatch({ maxMessages: 4 }).map(decode), ['mismatch-payload'])
  readerLog.close()
  assert.equal(fs.statSync(path).size, 64 * 1024)
})

test('files written by the original API are read by the 1.x API, and the other way round', () => {
  const a = logPath('seed-written')
  const shm = new SharedMemory({ path: a, size: 4096, num: 2, overlap: 128, writable: true })
  const pool = new Pool(null, shm)
  for (const word of ['alpha', 'beta', 'gamma']) pool.sliceSize(word.length).write(word)
  pool.commit()
  shm.close()
  const log = createSharedLog({ path: a, writable: false })
  assert.deepEqual(log.createIterator().nextBatch().map(decode), ['alpha', 'beta', 'gamma'])
  log.close()

  const b = logPath('upstream-written')
  const writerLog = createSharedLog({ path: b, capacityBytes: 8192, writable: true })
  for (const word of ['one', 'two']) writerLog.writer.allocate(word.length).write(word)
  writerLog.writer.commit()
  writerLog.close()
  const consumer = new SharedMemoryConsumer(new SharedMemory({ path: b }))
  assert.deepEqual([...consumer.getData()].map(decode), ['one', 'two'])
})

test('a 1.x-layout file (data at 24, no extension) is continued by the 1.x writer', () => {
  const path = logPath('layout-1x')
  // 1.x's own writer laid files out as the original: header 24/24/committed.
  const bytes = Buffer.alloc(4096)
  bytes.writeBigUInt64LE(24n, 0)
  bytes.writeBigUInt64LE(24n, 8)
  bytes.writeUInt16LE(7, 24)
  bytes.write('old', 26)
  bytes.writeUInt16LE(7, 29)
  bytes.writeBigUInt64LE(31n, 16)
  fs.writeFileSync(path, bytes)
  const log = createSharedLog({ path, capacityBytes: 4096, writable: true })
  assert.equal(log.header.dataOffset, 24n)
  log.writer.allocate(3).write('new')
  log.writer.commit()
  assert.deepEqual(log.createIterator().nextBatch().map(decode), ['old', 'new'])
  log.close()
})

test('subscribe delivers each batch of new frames with the cursor after them', async () => {
  const path = logPath('subscribe')
  const log = createSharedLog({ path, capacityBytes: 64 * 1024, writable: true })
  log.writer.allocate(5).write('early')
  log.writer.commit()
  const reader = createSharedLog({ path, writable: false })
  const got = []
  let resolve
  const done = new Promise(r => { resolve = r })
  const sub = reader.subscribe((frames, cursor) => {
    for (const f of frames) got.push(decode(f))
    if (got.length === 3) resolve(cursor)
  }, { mode: 'inotify', onError: err => resolve(err) })
  assert.equal(sub.mode(), 'inotify')
  setImmediate(() => {
    log.writer.allocate(4).write('late')
    log.writer.allocate(5).write('later')
    log.writer.commit()
  })
  const cursor = await done
  sub.close()
  assert.deepEqual(got, ['early', 'late', 'later'])
  assert.equal(cursor, 9n + 8n + 9n)
  reader.close()
  log.close()
})

test('a reader of a fresh all-zero file waits for a writer and never writes to the file (1.x segfaulted)', () => {
  const path = logPath('fresh')
  fs.writeFileSync(path, Buffer.alloc(8192))
  const reader = createSharedLog({ path, writable: false })
  const iterator = reader.createIterator()
  assert.deepEqual(iterator.nextBatch(), [])
  assert.equal(iterator.committedSize(), 0n)
  assert.equal(reader.header.size, 0n)
  assert.ok(fs.readFileSync(path).every(b => b === 0), 'the reader wrote nothing')
  const writer = createSharedLog({ path, capacityBytes: 8192, writable: true })
  writeString(writer.writer.allocate(5), 'first')
  writer.writer.commit()
  assert.deepEqual(iterator.nextBatch().map(decode), ['first'])
  assert.equal(iterator.cursor(), 9n)
  writer.close()
  reader.close()
})
