'use strict'
// Named readers of a chain (the `name` option of createIterator and
// subscribe): a reader resumes where its name acknowledged after its
// process exits, a second live reader with the name is refused naming its
// pid, retention keeps what a named reader has not acknowledged (or drops
// it, by the chain's policy, with ERR_SHM_FRAMES_LOST), and subscriptions
// acknowledge automatically or by ack().
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { createSharedLog } = require('..')
const { chainPath, run, runNode, cli, deferred } = require('./helpers')

const PROGRAM = path.join(__dirname, 'programs', 'chain_program.js')
const FILE_CAPACITY = 4096

function writeFrames(log, from, to) {
  for (let i = from; i < to; i++) {
    log.writer.append(Buffer.from(`event ${i}`.padEnd(50, '.')))
    if (i % 8 === 7) log.writer.commit()
  }
  log.writer.commit()
}

function lines(stdout) {
  return stdout.split('\n').filter(Boolean).map(line => JSON.parse(line))
}

test('a named reader resumes after its process exits, at the position it acknowledged, across files', async () => {
  const dir = chainPath('resume')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  writeFrames(log, 0, 400)
  const first = await runNode(PROGRAM, ['read-named', dir, 'billing', '150'])
  assert.equal(first.code, 0, first.stderr)
  const a = lines(first.stdout)
  assert.equal(a.length, 150)
  const second = await runNode(PROGRAM, ['read-named', dir, 'billing', '1000'])
  assert.equal(second.code, 0, second.stderr)
  const b = lines(second.stdout)
  assert.equal(b.length, 250, 'the second run reads exactly the rest')
  const texts = a.concat(b).map(x => x.text.replace(/\.+$/, ''))
  assert.deepEqual(texts, Array.from({ length: 400 }, (_, i) => `event ${i}`))
  // The C++ side sees the name where the JS reader acknowledged it.
  const readers = await run(cli(), ['readers', dir])
  assert.equal(readers.code, 0, readers.stderr)
  assert.match(readers.stdout, new RegExp(`billing position=${b[b.length - 1].cursor} `))
  // In this process: the name's acknowledged position, and the next frame.
  writeFrames(log, 400, 401)
  const it = log.createIterator({ name: 'billing' })
  assert.equal(it.name, 'billing')
  assert.equal(it.acked(), BigInt(b[b.length - 1].cursor))
  assert.equal(it.next().toString().replace(/\.+$/, ''), 'event 400')
  log.close()
})

test('a second live reader with a name is refused naming its pid; the name is free once that process ends', async () => {
  const dir = chainPath('busy-name')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  writeFrames(log, 0, 10)
  const holding = deferred()
  const holder = runNode(PROGRAM, ['hold-reader', dir, 'audit'], { onLine: line => { if (line === 'holding') holding.resolve() } })
  await holding.promise
  assert.throws(() => log.createIterator({ name: 'audit' }),
    err => err.code === 'ERR_SHM_FAILED_PRECONDITION' && err.message.includes(`pid ${holder.child.pid}`) &&
      err.message.includes('"audit"'))
  assert.throws(() => log.subscribe(() => {}, { name: 'audit' }),
    err => err.code === 'ERR_SHM_FAILED_PRECONDITION' && err.message.includes(`pid ${holder.child.pid}`))
  holder.child.stdin.end()
  assert.equal((await holder).code, 0)
  const it = log.createIterator({ name: 'audit' })
  assert.equal(it.nextBatch().length, 10)
  // In one process too: the name is this iterator's until close().
  assert.throws(() => log.createIterator({ name: 'audit' }), { code: 'ERR_SHM_FAILED_PRECONDITION' })
  it.close()
  log.createIterator({ name: 'audit' }).close()
  log.close()
})

test('retention keeps what a named reader has not acknowledged: the roll fails naming it, until it acks', () => {
  const dir = chainPath('protected')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY, retainFiles: 1 }, writable: true })
  const slow = log.createIterator({ name: 'slow' })
  let written = 0
  let refusal
  try {
    for (; written < 2000; written++) {
      log.writer.append(Buffer.from(`event ${written}`.padEnd(50, '.')))
      log.writer.commit()
    }
  } catch (err) {
    refusal = err
  }
  assert.ok(refusal, 'the writer cannot remove frames the named reader still needs')
  assert.equal(refusal.code, 'ERR_SHM_EXHAUSTED')
  assert.match(refusal.message, /slow/)
  // The reader reads and acknowledges; the writer goes on.
  const got = slow.nextBatch({ maxMessages: 100000 }).length
  assert.ok(got > 0)
  slow.ack()
  log.writer.append(Buffer.from('after the ack'))
  log.writer.commit()
  assert.equal(slow.acked(), slow.cursor())
  log.close()
})

test('a named reader the writer dropped gets ERR_SHM_FRAMES_LOST saying so, and goes on after a seek', () => {
  const dir = chainPath('dropped')
  const log = createSharedLog({
    path: dir, chain: { fileCapacity: FILE_CAPACITY, retainFiles: 1, dropSlowReaders: true }, writable: true,
  })
  log.createIterator({ name: 'lagger' }).close()  // registered at position 0, never acks
  writeFrames(log, 0, 1000)
  assert.ok(log.writer.stats().filesRemoved > 0)
  const it = log.createIterator({ name: 'lagger' })
  assert.throws(() => it.next(), err => err.code === 'ERR_SHM_FRAMES_LOST' && /dropped/.test(err.message) &&
    err.message.includes('lagger'))
  it.seekToBeginning()
  const frame = it.next()
  assert.ok(frame !== null && frame.toString().startsWith('event '))
  log.close()
})

test('subscribe with a name: autoAck acknowledges each batch; autoAck false waits for ack(); both resume by name', async () => {
  const dir = chainPath('named-subscribe')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  writeFrames(log, 0, 300)
  const end = log.writer.stats().committed
  // autoAck (default): everything delivered is acknowledged.
  let all = deferred()
  let count = 0
  const auto = log.subscribe((frames, cursor) => {
    count += frames.length
    if (cursor === end) all.resolve()
  }, { name: 'auto', mode: 'timer', pollIntervalMs: 5, onError: err => all.reject(err) })
  await all.promise
  assert.equal(count, 300)
  await auto.close()
  const resumed = log.createIterator({ name: 'auto' })
  assert.equal(resumed.acked(), end)
  assert.equal(resumed.next(), null)
  resumed.close()

  // autoAck false: only what ack() said is done.
  all = deferred()
  let ackAt = null
  let delivered = 0
  const manual = log.subscribe((frames, cursor) => {
    delivered += frames.length
    if (ackAt === null && delivered >= 100) ackAt = cursor
    if (cursor === end) all.resolve()
  }, { name: 'manual', autoAck: false, maxMessages: 10, onError: err => all.reject(err) })
  await all.promise
  manual.ack(ackAt)
  await manual.close()
  const again = log.createIterator({ name: 'manual' })
  assert.equal(again.acked(), ackAt)
  assert.equal(again.cursor(), ackAt)
  // The frames after the acknowledged position come again, and only those.
  const before = log.createIterator()
  let acknowledged = 0
  while (before.cursor() < ackAt && before.next() !== null) acknowledged++
  assert.equal(before.cursor(), ackAt)
  assert.ok(acknowledged >= 100 && acknowledged < 300, `acknowledged ${acknowledged}`)
  let rest = 0
  for (let f; (f = again.next()) !== null;) rest++
  assert.equal(rest, 300 - acknowledged)
  log.close()
})

test('a worker thread follows a chain as a named reader on its own loop; terminate() frees the name', async () => {
  const { Worker } = require('worker_threads')
  const dir = chainPath('worker')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  const source = `
    const { parentPort, workerData } = require('worker_threads')
    const { createSharedLog } = require(workerData.pkg)
    const chain = createSharedLog({ path: workerData.dir, chain: true })
    // Posted on the next turn, after the batch's acknowledgement (which
    // follows onFrames' return), so the parent sees only acknowledged frames.
    chain.subscribe(frames => {
      const texts = frames.map(f => f.toString())
      setImmediate(() => { for (const t of texts) parentPort.postMessage(t) })
    },
      { name: 'in-worker', mode: 'inotify', safetyIntervalMs: 60000 })
    parentPort.postMessage('ready')`
  const worker = new Worker(source, { eval: true, workerData: { dir, pkg: path.join(__dirname, '..') } })
  const got = []
  const ready = deferred()
  const all = deferred()
  worker.on('message', m => {
    if (m === 'ready') return ready.resolve()
    got.push(m)
    if (got.length === 200) all.resolve()
  })
  worker.on('error', err => { ready.reject(err); all.reject(err) })
  await ready.promise
  writeFrames(log, 0, 200)  // several rolls
  await all.promise
  assert.equal(got[199].replace(/\.+$/, ''), 'event 199')
  assert.throws(() => log.createIterator({ name: 'in-worker' }), { code: 'ERR_SHM_FAILED_PRECONDITION' })
  assert.equal(await worker.terminate(), 1)
  const it = log.createIterator({ name: 'in-worker' })
  assert.equal(it.next(), null, 'everything delivered was acknowledged')
  log.close()
})
