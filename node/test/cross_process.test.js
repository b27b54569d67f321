'use strict'
// A JS writer with a C++ reader, and a C++ writer with a JS reader, in
// separate processes at the same time: the `shmio` CLI (//tools:shmio) is
// the C++ side.
const test = require('node:test')
const assert = require('node:assert/strict')
const { SharedMemory, Pool, SharedMemoryConsumer } = require('..')
const { logPath, run, cli, deferred } = require('./helpers')

test('frames a JS Pool commits reach a C++ reader (shmio tail -f) in another process, in order', async () => {
  const file = logPath('js-to-cpp')
  const shm = new SharedMemory({ path: file, capacity: 1 << 20, writable: true })
  const pool = new Pool(null, shm)
  const messages = Array.from({ length: 60 }, (_, i) => `message ${i} from node`)
  const lines = []
  let next = 0
  // Write a batch, wait until the reader has it all, then the next batch:
  // the reader is following live, not reading a finished file.
  const writeBatch = () => {
    for (let k = 0; k < 10; k++, next++) pool.sliceSize(Buffer.byteLength(messages[next])).write(messages[next])
    pool.commit()
  }
  const all = deferred()
  const reader = run(cli(), ['tail', file, '-f', '--format=text', '--mode=inotify'], {
    onLine: line => {
      lines.push(line)
      if (lines.length === messages.length) all.resolve()
      else if (lines.length === next) writeBatch()
    },
  })
  writeBatch()
  await all.promise
  reader.child.kill('SIGTERM')
  const result = await reader
  assert.deepEqual(lines, messages, result.stderr)
  shm.close()
})

test('frames a C++ writer (shmio append) commits wake a JS getAll reader in inotify mode, one by one', async () => {
  const file = logPath('cpp-to-js')
  const created = await run(cli(), ['append', file, '--create', '--capacity=65536', '--format=text'], { input: '' })
  assert.equal(created.code, 0, created.stderr)

  const shm = new SharedMemory({ path: file })
  const received = []
  let wake = deferred()
  const sub = new SharedMemoryConsumer(shm).getAll(1000, { mode: 'inotify', safetyIntervalMs: 60000 })
    .subscribe({
      next: iterator => {
        for (const buffer of iterator) received.push(buffer.toString())
        wake.resolve()
      },
      error: err => wake.reject(err),
    })
  const writer = run(cli(), ['append', file, '--format=text', '--batch=1'])
  const sent = []
  for (let i = 0; i < 20; i++) {
    wake = deferred()
    const line = `line ${i} from C++`
    sent.push(line)
    writer.child.stdin.write(line + '\n')
    // Woken by the writer's doorbell: the safety timer is a minute away.
    await wake.promise
  }
  writer.child.stdin.end()
  const result = await writer
  assert.equal(result.code, 0, result.stderr)
  sub.unsubscribe()
  assert.deepEqual(received, sent)
  shm.close()
})
