'use strict'
// The seed README's quick start and its three use cases, as written (with
// bendec 0.51's adjustments: primitive types declared, `message` a fixed
// char array filled from a Buffer).
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { SharedMemory, Pool, SharedMemoryConsumer, SharedMemoryIterator } = require('..')
const { logPath, makeBendec, text, runNode, deferred } = require('./helpers')

test('quick start: a writer process commits a LogEvent and a reader process streams it with getAll', async () => {
  const file = logPath('quickstart')
  const before = BigInt(Date.now())
  const writer = await runNode(path.join(__dirname, 'programs', 'quickstart_writer.js'), [file])
  assert.equal(writer.code, 0, writer.stderr)

  // Reader Process, as the README has it.
  const bendec = makeBendec()
  const shm = new SharedMemory({ path: file, size: 1024 * 1024, num: 10, overlap: 4096, writable: false })
  const consumer = new SharedMemoryConsumer(shm)
  const got = deferred()
  const sub = consumer.getAll(10).subscribe(iterator => {
    for (const buffer of iterator) {
      const event = bendec.decodeAs(buffer, 'LogEvent')
      got.resolve(event)
    }
  })
  const event = await got.promise
  sub.unsubscribe()
  assert.equal(event.level, 1)
  assert.equal(text(event.message), 'Application started')
  assert.ok(event.timestamp >= before && event.timestamp <= BigInt(Date.now()))
  assert.deepEqual(shm.getConfig().size, 1024 * 1024)
  assert.equal(shm.getBuffers().length, 10)
  shm.close()
})

test('event sourcing: state rebuilt from the events already committed, then followed', async () => {
  const file = logPath('events')
  const bendec = makeBendec([{
    name: 'Event',
    fields: [
      { name: 'type', type: 'u8' },
      { name: 'timestamp', type: 'u64' },
      { name: 'data', type: 'char', length: 32 },
    ],
  }])
  const config = { path: file, size: 64 * 1024, num: 4, overlap: 1024 }
  const shm = new SharedMemory({ ...config, writable: true })

  // Writer: Event producer
  const pool = new Pool(bendec, shm)
  function recordEvent(type, data) {
    const event = pool.wrap('Event')
    event.type = type
    event.timestamp = BigInt(Date.now())
    event.data = data
    pool.commit()  // Atomic commit
  }
  recordEvent(1, Buffer.from('deposit 100'))
  recordEvent(2, Buffer.from('withdraw 30'))

  // Reader: Event consumer
  const consumer = new SharedMemoryConsumer(new SharedMemory({ ...config, writable: false }))
  let balance = 0
  const seen = []
  const caughtUp = deferred()
  function processEvent(event) {
    const amount = Number(text(event.data).split(' ')[1])
    balance += event.type === 1 ? amount : -amount
    seen.push(text(event.data))
    if (seen.length === 4) caughtUp.resolve()
  }
  const sub = consumer.getAll(10).subscribe(iterator => {
    for (const buffer of iterator) {
      const event = bendec.decodeAs(buffer, 'Event')
      processEvent(event)
    }
  })
  assert.equal(balance, 70, 'the first emission (synchronous) holds the events already committed')
  recordEvent(1, Buffer.from('deposit 5'))
  recordEvent(2, Buffer.from('withdraw 25'))
  await caughtUp.promise
  sub.unsubscribe()
  assert.deepEqual(seen, ['deposit 100', 'withdraw 30', 'deposit 5', 'withdraw 25'])
  assert.equal(balance, 50)
  shm.close()
})

test('system monitoring: a logger process-style writer and a monitor printing [level] message', async () => {
  const file = logPath('monitor')
  const bendec = makeBendec([{
    name: 'LogEntry',
    fields: [
      { name: 'timestamp', type: 'u64' },
      { name: 'level', type: 'u8' },
      { name: 'message', type: 'char', length: 40 },
    ],
  }])
  const shm = new SharedMemory({ path: file, size: 32 * 1024, num: 2, overlap: 512, writable: true })
  const pool = new Pool(bendec, shm)

  // Logger process
  function log(level, message) {
    const entry = pool.wrap('LogEntry')
    entry.timestamp = BigInt(Date.now())
    entry.level = level
    entry.message = Buffer.from(message)
    pool.commit()
  }

  // Monitor process
  const consumer = new SharedMemoryConsumer(new SharedMemory({ path: file }))
  const lines = []
  const done = deferred()
  const sub = consumer.getAll(100).subscribe(iterator => {
    for (const buffer of iterator) {
      const entry = bendec.decodeAs(buffer, 'LogEntry')
      lines.push(`[${entry.level}] ${text(entry.message)}`)
      if (lines.length === 3) done.resolve()
    }
  })
  log(1, 'service up')
  log(2, 'disk 91% full')
  setTimeout(() => log(3, 'disk full'), 20)
  await done.promise
  sub.unsubscribe()
  assert.deepEqual(lines, ['[1] service up', '[2] disk 91% full', '[3] disk full'])
  shm.close()
})

test('inter-process communication: 1000 messages in one batch commit, read with getData', () => {
  const file = logPath('ipc')
  const bendec = makeBendec([{
    name: 'Message',
    fields: [
      { name: 'id', type: 'u32' },
      { name: 'payload', type: 'char', length: 16 },
    ],
  }])
  const shm = new SharedMemory({ path: file, size: 16 * 1024, num: 4, overlap: 256, writable: true })
  const pool = new Pool(bendec, shm)
  const generateData = i => Buffer.from(`data-${i}`)

  // Producer
  for (let i = 0; i < 1000; i++) {
    const msg = pool.wrap('Message')
    msg.id = i
    msg.payload = generateData(i)
  }
  const consumer = new SharedMemoryConsumer(new SharedMemory({ path: file }))
  assert.equal([...consumer.getData()].length, 0, 'nothing is visible before commit()')
  pool.commit()  // Batch commit for performance

  // Consumer
  const data = consumer.getData()
  const ids = []
  for (const buffer of data) {
    const msg = bendec.decodeAs(buffer, 'Message')
    assert.equal(text(msg.payload), `data-${msg.id}`)
    ids.push(msg.id)
  }
  assert.deepEqual(ids, Array.from({ length: 1000 }, (_, i) => i))
  shm.close()
})

test('Pool reports sizes and status as the original, and setActive(false) writes nothing', () => {
  const file = logPath('pool-status')
  const shm = new SharedMemory({ path: file, size: 4096, num: 2, overlap: 256, writable: true })
  const pool = new Pool(null, shm)
  const [start] = pool.getSize()
  pool.sliceSize(10).fill(1)
  pool.sliceSize(20).fill(2)
  assert.deepEqual(pool.getSize(), [start, 14 + 24], '[committed size, uncommitted bytes]')
  pool.commit()
  assert.deepEqual(pool.getSize(), [start + 38, 0])
  assert.deepEqual(pool.getStatus(), [0, start + 38])
  pool.setActive(false)
  const scratch = pool.sliceSize(8)
  scratch.fill(7)
  pool.commit()
  assert.deepEqual(pool.getSize(), [start + 38, 0])
  pool.setActive(true)
  const consumer = new SharedMemoryConsumer(shm)
  const frames = [...consumer.getData()].map(b => [...b])
  assert.deepEqual(frames, [Array(10).fill(1), Array(20).fill(2)])
  // SharedMemoryIterator over an explicit range: the second frame only.
  const second = [...new SharedMemoryIterator(shm, start + 14, start + 38)]
  assert.deepEqual(second.map(b => b.length), [20])
  shm.close()
})

test('frames the JS writer places ahead of the C++ Pool land where the Pool puts them, across segments, to exhaustion', () => {
  const file = logPath('placement')
  const shm = new SharedMemory({ path: file, size: 1000, num: 8, overlap: 300, writable: true })
  const pool = new Pool(null, shm)
  const written = []
  let seed = 12345
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  let error
  try {
    for (let i = 0; ; i++) {
      const size = Math.floor(random() * 280)
      const buffer = pool.sliceSize(size)
      buffer.fill(i & 0xff)
      written.push(Buffer.from(buffer))
      if (random() < 0.1) pool.commit()
    }
  } catch (err) {
    error = err
  }
  assert.match(error.message, /Shared memory exhausted/)
  pool.commit()
  const read = [...new SharedMemoryConsumer(new SharedMemory({ path: file })).getData()]
  assert.deepEqual(read, written)
  assert.ok(written.length > 20)
  shm.close()
})
