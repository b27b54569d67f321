'use strict'
// getAll in inotify mode costs nothing while nothing is written: the
// reader's event loop wakes no more often than its safety timer (counted by
// libuv's own loop counter, in a reader process doing nothing else), and a
// commit wakes it within a millisecond (median over 20 commits, from the
// writer's clock before commit() to the reader's in its callback; both
// CLOCK_MONOTONIC). Timer mode is the control: the same counter sees it
// poll every interval.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { SharedMemory, Pool } = require('..')
const { logPath, runNode, deferred } = require('./helpers')

const READER = path.join(__dirname, 'programs', 'idle_reader.js')
const IDLE_MS = 2500
const SAFETY_MS = 1000
const FRAMES = 20

function followWith(mode, file, pool) {
  const idle = deferred()
  const latency = deferred()
  const reader = runNode(READER, [file, mode, String(SAFETY_MS), String(IDLE_MS), String(FRAMES)], {
    onLine: line => {
      const message = JSON.parse(line)
      if (message.idleWakes !== undefined) idle.resolve(message.idleWakes)
      if (message.delaysNs !== undefined) latency.resolve(message.delaysNs)
    },
  })
  reader.then(result => {
    const failure = new Error(`reader exited (${result.code}): ${result.stderr}`)
    idle.reject(failure)
    latency.reject(failure)
  })
  return { idle: idle.promise, latency: latency.promise, reader }
}

// Commits one stamped frame every 20 ms until the reader has them all.
async function writeStamped(pool) {
  for (let i = 0; i < FRAMES; i++) {
    await new Promise(resolve => setTimeout(resolve, 20))
    const frame = pool.sliceSize(8)
    frame.writeBigUInt64LE(process.hrtime.bigint(), 0)
    pool.commit()
  }
}

test('inotify mode: idle wake-ups bounded by the safety timer, commits delivered within 1 ms', async t => {
  const file = logPath('wakeup-inotify')
  const shm = new SharedMemory({ path: file, capacity: 1 << 16, writable: true })
  const pool = new Pool(null, shm)
  const { idle, latency, reader } = followWith('inotify', file, pool)
  const wakes = await idle
  // The safety timer ticks twice in 2.5 s, the reader's own end-of-idle
  // timer once; one more for libuv's bookkeeping at most.
  const bound = Math.floor(IDLE_MS / SAFETY_MS) + 2
  t.diagnostic(`inotify: ${wakes} loop wake-ups in ${IDLE_MS} ms idle`)
  assert.ok(wakes <= bound, `${wakes} wake-ups in ${IDLE_MS} ms idle (bound ${bound})`)
  await writeStamped(pool)
  const delays = (await latency).sort((a, b) => a - b)
  const median = delays[Math.floor(delays.length / 2)]
  t.diagnostic(`inotify: median delivery ${median} ns after commit, max ${delays[delays.length - 1]} ns`)
  assert.ok(median <= 1e6, `median delivery ${median} ns after commit (all: ${delays.join(', ')})`)
  assert.ok(delays[delays.length - 1] < SAFETY_MS * 1e6 / 2,
    'every frame was delivered by the doorbell, none by the safety timer')
  assert.equal((await reader).code, 0)
  shm.close()
})

test('timer mode (the control): the same counter sees a wake-up every poll interval', async t => {
  const file = logPath('wakeup-timer')
  const shm = new SharedMemory({ path: file, capacity: 1 << 16, writable: true })
  const pool = new Pool(null, shm)
  const { idle, latency, reader } = followWith('timer', file, pool)
  const wakes = await idle
  t.diagnostic(`timer: ${wakes} loop wake-ups in ${IDLE_MS} ms idle`)
  assert.ok(wakes >= IDLE_MS / 10 / 2, `${wakes} wake-ups in ${IDLE_MS} ms at a 10 ms interval`)
  await writeStamped(pool)
  await latency
  assert.equal((await reader).code, 0)
  shm.close()
})
