'use strict'
// The seed README's "Writer Process", as written, with bendec 0.51's
// adjustments (see helpers.makeBendec): argv[2] is the log path.
const { SharedMemory, Pool } = require('../..')
const { makeBendec } = require('../helpers')

const bendec = makeBendec()

const shm = new SharedMemory({
  path: process.argv[2],
  size: 1024 * 1024,
  num: 10,
  overlap: 4096,
  writable: true,
})

const pool = new Pool(bendec, shm)

const event = pool.wrap('LogEvent')
event.timestamp = BigInt(Date.now())
event.level = 1
event.message = Buffer.from('Application started')

pool.commit()
