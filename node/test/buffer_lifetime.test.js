'use strict'
// Zero-copy Buffers stay valid while the log is open and never crash the
// process after close() (they then read zeros: the file's pages were
// replaced in place by anonymous ones, see src/view.h); API calls on a
// closed object throw a clear error. Worker threads each follow a log on
// their own loop, and terminating one closes its handles and mappings.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { Worker } = require('worker_threads')
const { SharedMemory, Pool, SharedMemoryConsumer, createSharedLog } = require('..')
const { logPath, deferred } = require('./helpers')

test('Buffers are the mapping itself: a write through one is what readers read', () => {
  const file = logPath('zero-copy')
  const shm = new SharedMemory({ path: file, capacity: 4096, writable: true })
  const pool = new Pool(null, shm)
  const slice = pool.sliceSize(5)
  slice.write('hello')
  pool.commit()
  const reader = new SharedMemory({ path: file })
  const [frame] = [...new SharedMemoryConsumer(reader).getData()]
  assert.equal(frame.toString(), 'hello')
  shm.getBuffers()[0].write('HELLO', slice.byteOffset)
  assert.equal(frame.toString(), 'HELLO', 'the segment Buffer, the slice and the frame share bytes')
  shm.close()
  reader.close()
})

test('after close(), old Buffers read zeros and take writes without crashing; calls throw ERR_SHM_CLOSED', () => {
  const file = logPath('after-close')
  const shm = new SharedMemory({ path: file, capacity: 1 << 20, writable: true })
  const pool = new Pool(null, shm)
  const slice = pool.sliceSize(100)
  slice.fill(0x5a)
  pool.commit()
  const reader = new SharedMemory({ path: file })
  const consumer = new SharedMemoryConsumer(reader)
  const [frame] = [...consumer.getData()]
  const iterator = consumer.getData()
  const segments = reader.getBuffers()
  shm.close()
  reader.close()
  assert.equal(frame.length, 100)
  assert.ok(frame.every(b => b === 0), 'a reader Buffer reads zeros after close()')
  slice.fill(1)  // a writer Buffer takes writes, into nothing
  assert.ok(segments[0].every(b => b === 0))
  segments[0].fill(7)  // even a read-only log's Buffer: private pages now
  for (const [what, call] of [
    ['getBuffers', () => reader.getBuffers()],
    ['getConfig', () => shm.getConfig()],
    ['sliceSize', () => pool.sliceSize(1)],
    ['commit', () => pool.commit()],
    ['getData', () => consumer.getData()],
    ['an iterator made before close()', () => [...iterator]],
    ['getAll', () => consumer.getAll(10)],
  ]) {
    assert.throws(call, err => err.code === 'ERR_SHM_CLOSED' && /closed/.test(err.message), what)
  }
  // The file itself was not touched by the stale writes.
  const again = new SharedMemory({ path: file })
  assert.deepEqual([...new SharedMemoryConsumer(again).getData()][0], Buffer.alloc(100, 0x5a))
  again.close()
})

test('close() with a getAll subscription open ends it, and the writer lock goes', async () => {
  const file = logPath('close-subscribed')
  const shm = new SharedMemory({ path: file, capacity: 4096, writable: true })
  const pool = new Pool(null, shm)
  pool.sliceSize(1)
  pool.commit()
  const got = deferred()
  new SharedMemoryConsumer(shm).getAll(10).subscribe(() => got.resolve())
  await got.promise
  shm.close()
  // The subscription borrowed the file until libuv closes its handles, in
  // the close phase of this loop turn: after the check phase of the next.
  await new Promise(resolve => setImmediate(() => setImmediate(resolve)))
  const next = createSharedLog({ path: file, capacityBytes: 4096, writable: true })
  next.close()
})

test('worker threads follow a log on their own loops; terminate() closes their handles, mappings and locks', async () => {
  const file = logPath('workers')
  const lockedByWorker = logPath('worker-writer')
  const shm = new SharedMemory({ path: file, capacity: 65536, writable: true })
  const pool = new Pool(null, shm)
  const workers = [
    { mode: 'inotify', writer: lockedByWorker },
    { mode: 'timer' },
  ].map(data => {
    const worker = new Worker(path.join(__dirname, 'programs', 'worker_reader.js'),
      { workerData: { file, ...data } })
    const messages = []
    const ready = deferred()
    const got = deferred()
    worker.on('message', m => {
      if (m === 'ready') return ready.resolve()
      messages.push(m)
      if (messages.length === 3) got.resolve()
    })
    worker.on('error', err => { ready.reject(err); got.reject(err) })
    return { worker, messages, ready: ready.promise, got: got.promise }
  })
  await Promise.all(workers.map(w => w.ready))
  for (const word of ['one', 'two', 'three']) {
    pool.sliceSize(word.length).write(word)
    pool.commit()
  }
  await Promise.all(workers.map(w => w.got))
  for (const w of workers) assert.deepEqual(w.messages, ['one', 'two', 'three'])
  assert.throws(() => new SharedMemory({ path: lockedByWorker, writable: true }), /writer/)
  const codes = await Promise.all(workers.map(w => w.worker.terminate()))
  assert.deepEqual(codes, [1, 1])
  // The worker's writer lock went with it.
  const after = new SharedMemory({ path: lockedByWorker, writable: true })
  after.close()
  shm.close()
})
