'use strict'
// A reader process for wakeup.test.js: follows argv[2] with getAll in mode
// argv[3] ('inotify' or 'timer'), counts its event loop's wake-ups (libuv's
// loop_count) over argv[5] ms of silence, prints {"idleWakes": N}, then
// prints the delay from each frame's commit (the hrtime the writer stored
// in it) to its delivery here, for argv[6] frames: {"delaysNs": [...]}.
const { SharedMemory, SharedMemoryConsumer, loopMetrics } = require('../..')

const [file, mode, safety, idleMs, frames] = process.argv.slice(2)
const shm = new SharedMemory({ path: file })
const delays = []
let phase = 'idle'
const sub = new SharedMemoryConsumer(shm)
  .getAll(10, { mode, safetyIntervalMs: Number(safety) })
  .subscribe(iterator => {
    const now = process.hrtime.bigint()
    for (const buffer of iterator) {
      if (phase !== 'latency') throw new Error('a frame arrived during the idle phase')
      delays.push(Number(now - buffer.readBigUInt64LE(0)))
    }
    if (delays.length === Number(frames)) {
      console.log(JSON.stringify({ delaysNs: delays }))
      sub.unsubscribe()
      shm.close()
    }
  })

// Count from the first loop turn, once the subscription has started.
setImmediate(() => {
  const before = loopMetrics().loopCount
  setTimeout(() => {
    const wakes = loopMetrics().loopCount - before
    phase = 'latency'
    console.log(JSON.stringify({ idleWakes: wakes }))
  }, Number(idleMs))
})
