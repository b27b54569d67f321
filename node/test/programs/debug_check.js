'use strict'
// For debug_mode.test.js: on the log argv[2], whose first frame's trailing
// size was overwritten, reads with getData and with the 1.x iterator, and
// overruns a fresh slice before commit(); prints what each did as JSON.
const { SharedMemory, SharedMemoryConsumer, Pool, createSharedLog } = require('../..')

const outcome = call => {
  try {
    return { ok: call() }
  } catch (err) {
    return { error: err.message, code: err.code }
  }
}
const result = {
  getData: outcome(() => [...new SharedMemoryConsumer(new SharedMemory({ path: process.argv[2] })).getData()].length),
  nextBatch: outcome(() => createSharedLog({ path: process.argv[2], writable: false }).createIterator().nextBatch().length),
  commit: outcome(() => {
    const shm = new SharedMemory({ path: process.argv[3], capacity: 4096, writable: true })
    const pool = new Pool(null, shm)
    const slice = pool.sliceSize(4)
    // Overrun the slice by two bytes: the frame's trailing size.
    shm.getBuffers()[0].writeUInt16LE(0xbeef, slice.byteOffset + 4)
    pool.commit()
    return 'committed'
  }),
}
console.log(JSON.stringify(result))
