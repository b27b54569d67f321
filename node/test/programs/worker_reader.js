'use strict'
// Runs in a worker thread (buffer_lifetime.test.js): follows workerData.file
// with getAll on the worker's own event loop, posts each frame's text to
// the parent, and never closes anything: terminating the worker must.
const { parentPort, workerData } = require('worker_threads')
const { SharedMemory, SharedMemoryConsumer, Pool } = require('../..')

const shm = new SharedMemory({ path: workerData.file })
new SharedMemoryConsumer(shm).getAll(10, { mode: workerData.mode }).subscribe(iterator => {
  for (const buffer of iterator) parentPort.postMessage(buffer.toString())
})
if (workerData.writer) {
  // A writer left open in the worker too: its lock must go at terminate().
  // Held by a global: a writer nothing references may be collected, and
  // its finalizer would drop the lock before the parent looks.
  const own = new SharedMemory({ path: workerData.writer, capacity: 65536, writable: true })
  globalThis.heldWriter = { own, pool: new Pool(null, own) }
  globalThis.heldWriter.pool.sliceSize(1)
}
parentPort.postMessage('ready')
