'use strict'
// Chains of files through createSharedLog({path, chain}): a JS writer over
// many rolls read back by the C++ `shmio` CLI in another process, a C++
// writer followed by a JS subscriber across rolls, batches atomic across a
// roll, retention while a JS reader holds an old file (its Buffers stay
// valid), and a second writer refused naming the holder's pid.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const path = require('path')
const { createSharedLog } = require('..')
const { chainPath, run, runNode, cli, deferred } = require('./helpers')

const PROGRAM = path.join(__dirname, 'programs', 'chain_program.js')
const FILE_CAPACITY = 4096

// The files of a chain directory (NNNN.shm), sorted.
function chainFiles(dir) {
  return fs.readdirSync(dir).filter(f => /^\d{20}\.shm$/.test(f)).sort()
}

// Payloads of varied length, so frames end anywhere in a file.
function payload(i) {
  return `frame ${i} ` + 'x'.repeat(i % 97)
}

test('a JS writer over many rolls is read back exactly by the C++ reader in another process (verify, dump)', async () => {
  const dir = chainPath('js-writer')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  const sent = []
  let bytes = 0
  for (let i = 0; i < 3000; i++) {
    const text = payload(i)
    if (i % 3 === 0) {
      log.writer.append(Buffer.from(text))
    } else {
      const buffer = log.writer.allocate(Buffer.byteLength(text))
      buffer.write(text)
    }
    sent.push(text)
    bytes += Buffer.byteLength(text)
    if (i % 10 === 9) log.writer.commit()
  }
  log.writer.commit()
  const stats = log.writer.stats()
  assert.ok(stats.rolls >= 40, `only ${stats.rolls} rolls`)
  const files = chainFiles(dir).length
  assert.equal(files, stats.rolls + 1)

  const verify = await run(cli(), ['verify', dir])
  assert.equal(verify.code, 0, verify.stderr)
  // verify counts frame bytes: payloads and their 4 bytes of sizes.
  assert.equal(verify.stdout.trim(), `ok: ${sent.length} frames, ${bytes + 4 * sent.length} bytes, ${files} files`)
  const dump = await run(cli(), ['dump', dir, '--format=text'])
  assert.equal(dump.code, 0, dump.stderr)
  assert.deepEqual(dump.stdout.split('\n').slice(0, -1), sent)
  // Positions: the C++ end is the writer's committed position.
  assert.equal(stats.committed, BigInt(bytes + 4 * sent.length))
  log.close()
})

test('a JS iterator reads a chain across its files with bigint positions: next, nextBatch, cursor, seek', () => {
  const dir = chainPath('iterator')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  const positions = []
  let position = 0n
  for (let i = 0; i < 800; i++) {
    const text = payload(i)
    positions.push(position)
    position += BigInt(Buffer.byteLength(text) + 4)
    log.writer.append(Buffer.from(text))
    if (i % 5 === 4) log.writer.commit()
  }
  log.writer.commit()
  const it = log.createIterator()
  assert.equal(it.cursor(), 0n)
  const got = []
  for (;;) {
    const batch = it.nextBatch({ maxMessages: 7 })
    if (batch.length === 0) break
    assert.ok(batch.length <= 7)
    for (const frame of batch) got.push(frame.toString())
  }
  assert.equal(got.length, 800)
  got.forEach((text, i) => assert.equal(text, payload(i)))
  assert.equal(it.cursor(), position)
  assert.equal(it.next(), null)
  // seek to a frame in a later file, by its position.
  it.seek(positions[555])
  assert.equal(it.next().toString(), payload(555))
  assert.equal(it.cursor(), positions[556])
  it.seekToBeginning()
  assert.equal(it.next().toString(), payload(0))
  it.seekToEnd()
  assert.equal(it.next(), null)
  assert.equal(it.cursor(), position)
  // A position off a frame boundary, or past the end: ERR_SHM_CURSOR naming it.
  assert.throws(() => it.seek(positions[10] + 1n), err => err.code === 'ERR_SHM_CURSOR' && /position \d+/.test(err.message))
  assert.throws(() => it.seek(position + 1000n), err => err.code === 'ERR_SHM_CURSOR' && err.message.includes(String(position + 1000n)))
  // startCursor: an iterator that starts at a saved position.
  const later = log.createIterator({ startCursor: positions[700] })
  assert.equal(later.next().toString(), payload(700))
  const atEnd = log.createIterator({ start: 'end' })
  assert.equal(atEnd.next(), null)
  log.writer.append(Buffer.from('after'))
  log.writer.commit()
  assert.equal(atEnd.next().toString(), 'after')
  it.close()
  assert.throws(() => it.next(), { code: 'ERR_SHM_ITERATOR_CLOSED' })
  log.close()
  assert.throws(() => later.next(), { code: 'ERR_SHM_MAPPING_GONE' })
})

test('a batch is atomic across a roll: a reader sees none of it before commit(), all of it after', () => {
  const dir = chainPath('atomic')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true })
  for (let i = 0; i < 50; i++) log.writer.append(Buffer.from(`first ${i}`.padEnd(40, '.')))
  log.writer.commit()
  const reader = createSharedLog({ path: dir, chain: true })
  const it = reader.createIterator()
  const seen = []
  const drain = () => { for (let f; (f = it.next()) !== null;) seen.push(f.toString()) }
  drain()
  assert.equal(seen.length, 50)
  const rollsBefore = log.writer.stats().rolls
  // 60 more frames of 44 bytes do not fit in what is left of the file.
  for (let i = 0; i < 60; i++) {
    const buffer = log.writer.allocate(40)
    buffer.write(`second ${i}`.padEnd(40, '.'))
  }
  assert.equal(log.writer.stats().rolls, rollsBefore + 1, 'the batch rolled to the next file')
  drain()
  assert.equal(seen.length, 50, 'nothing of an uncommitted batch is visible')
  log.writer.commit()
  drain()
  assert.equal(seen.length, 110)
  for (let i = 0; i < 60; i++) assert.equal(seen[50 + i], `second ${i}`.padEnd(40, '.'))
  reader.close()
  log.close()
})

test('a C++ writer (shmio append --chain) is followed by a JS subscriber across its rolls, woken by the doorbell', async () => {
  const dir = chainPath('cpp-writer')
  const writer = run(cli(), ['append', dir, '--create', '--chain', `--file-capacity=${FILE_CAPACITY}`,
    '--format=text', '--batch=1'])
  // Wait for the chain to exist before subscribing.
  for (let i = 0; i < 500 && !fs.existsSync(path.join(dir, 'chain.conf')); i++) {
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  const log = createSharedLog({ path: dir, chain: true })
  const received = []
  const cursors = []
  let wake = deferred()
  const sub = log.subscribe((frames, cursor) => {
    for (const frame of frames) received.push(frame.toString())
    cursors.push(cursor)
    wake.resolve()
  }, { mode: 'inotify', safetyIntervalMs: 60000, onError: err => wake.reject(err) })
  assert.equal(sub.mode(), 'inotify')
  const sent = []
  for (let i = 0; i < 300; i++) {
    const line = payload(i)
    sent.push(line)
    writer.child.stdin.write(line + '\n')
    if (i % 10 === 9) {
      // The safety timer is a minute away: each wake-up is the doorbell.
      while (received.length < sent.length) {
        wake = deferred()
        if (received.length < sent.length) await wake.promise
      }
    }
  }
  writer.child.stdin.end()
  const result = await writer
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(received, sent)
  assert.ok(chainFiles(dir).length >= 5, `only ${chainFiles(dir).length} files`)
  for (let i = 1; i < cursors.length; i++) assert.ok(cursors[i] > cursors[i - 1])
  const total = sent.reduce((n, s) => n + Buffer.byteLength(s) + 4, 0)
  assert.equal(cursors[cursors.length - 1], BigInt(total))
  assert.equal(sub.cursor(), BigInt(total))
  sub.close()
  log.close()
})

test('retention removes old files while a JS reader holds one: its Buffers stay valid, then ERR_SHM_FRAMES_LOST', () => {
  const dir = chainPath('retention')
  const log = createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY, retainFiles: 2 }, writable: true })
  const kept = log.writer.allocate(16)
  kept.write('writer frame 0..')
  for (let i = 1; i < 40; i++) log.writer.append(Buffer.from(`old ${i}`.padEnd(32, '-')))
  log.writer.commit()
  const first = chainFiles(dir)[0]
  const it = log.createIterator()
  const held = it.nextBatch({ maxMessages: 5 })
  assert.equal(held.length, 5)
  assert.equal(held[0].toString(), 'writer frame 0..')
  for (let i = 0; i < 1000; i++) {
    log.writer.append(Buffer.from(`new ${i}`.padEnd(32, '+')))
    if (i % 4 === 3) log.writer.commit()
  }
  log.writer.commit()
  // Retention runs on the writer's preparing thread after each roll (as the
  // C++ chain_test waits for it): wait, bounded, for the last roll's job.
  const retained = 2
  const deadline = Date.now() + 10000
  let stats = log.writer.stats()
  while ((chainFiles(dir).length > retained || stats.filesRemoved < stats.rolls + 1 - retained) &&
         Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
    stats = log.writer.stats()
  }
  assert.ok(stats.filesRemoved >= 5, `filesRemoved ${stats.filesRemoved}`)
  assert.equal(stats.filesRemoved, stats.rolls + 1 - retained, `${stats.rolls} rolls`)
  assert.ok(!fs.existsSync(path.join(dir, first)), `${first} was removed`)
  assert.equal(chainFiles(dir).length, retained, `files: ${chainFiles(dir).join(' ')}`)
  // The reader's and the writer's Buffers into the removed file still read it.
  assert.equal(held[0].toString(), 'writer frame 0..')
  assert.equal(kept.toString(), 'writer frame 0..')
  assert.equal(held[4].toString(), 'old 4'.padEnd(32, '-'))
  // The open file reads to its end; the next one is gone.
  let read = 5
  let lost
  try {
    for (let f; (f = it.next()) !== null;) read++
  } catch (err) {
    lost = err
  }
  assert.ok(lost, 'reading on past removed files fails')
  assert.equal(lost.code, 'ERR_SHM_FRAMES_LOST')
  assert.match(lost.message, new RegExp(dir.replace(/[/.-]/g, '\\$&')))
  assert.ok(read >= 40, `read ${read} frames of the held file`)
  it.seekToBeginning()
  assert.ok(it.next().toString().startsWith('new '))
  log.close()
  // After close() the Buffers still read their files (no crash).
  assert.equal(held[1].toString(), 'old 1'.padEnd(32, '-'))
})

test('a second chain writer is refused naming the holder pid, in Node and in C++; the lock goes with close()', async () => {
  const dir = chainPath('second-writer')
  const holding = deferred()
  const holder = runNode(PROGRAM, ['hold-writer', dir], { onLine: line => { if (line === 'holding') holding.resolve() } })
  await holding.promise
  assert.throws(() => createSharedLog({ path: dir, chain: { fileCapacity: FILE_CAPACITY }, writable: true }),
    err => err.code === 'ERR_SHM_FAILED_PRECONDITION' && err.message.includes(`pid ${holder.child.pid}`) &&
      err.message.includes(dir))
  const cpp = await run(cli(), ['append', dir, '--format=text'], { input: 'refused\n' })
  assert.equal(cpp.code, 1)
  assert.ok(cpp.stderr.includes(`pid ${holder.child.pid}`), cpp.stderr)
  holder.child.stdin.end()
  assert.equal((await holder).code, 0)
  // Now a JS writer may open it, and a second one in another process is refused naming us.
  const log = createSharedLog({ path: dir, chain: true, writable: true })
  const tried = await runNode(PROGRAM, ['try-writer', dir])
  const refusal = JSON.parse(tried.stdout)
  assert.equal(refusal.code, 'ERR_SHM_FAILED_PRECONDITION')
  assert.ok(refusal.message.includes(`pid ${process.pid}`), refusal.message)
  log.close()
  const again = await runNode(PROGRAM, ['try-writer', dir])
  assert.equal(again.stdout.trim(), 'opened')
})
