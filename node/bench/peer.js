'use strict'
// The other process of node/bench's cross-process measures. One role per
// run (argv[2]); each prints "ready" when it can be driven, and one JSON
// line with its result.
//
//   shmio-count FILE N        follow FILE (getAll, inotify), print the time
//                             the N-th frame arrived
//   net-count SOCKET N BYTES  connect, read N*BYTES bytes, print that time
//   shmio-echo IN OUT         copy every frame of IN into OUT (commit each)
//   net-echo SOCKET           echo every byte back
const net = require('net')
const { SharedMemory, SharedMemoryConsumer, Pool } = require('..')

const [role, ...args] = process.argv.slice(2)
const now = () => process.hrtime.bigint().toString()

if (role === 'shmio-count') {
  const [file, n] = [args[0], Number(args[1])]
  const shm = new SharedMemory({ path: file })
  let count = 0
  let sum = 0
  const sub = new SharedMemoryConsumer(shm).getAll(10, { mode: 'inotify', maxFrames: 1 << 20, maxBytes: 1 << 26 })
    .subscribe(iterator => {
      for (const buffer of iterator) { sum += buffer[0]; count++ }
      if (count === n) {
        console.log(JSON.stringify({ doneNs: now(), sum }))
        sub.unsubscribe()
        shm.close()
      }
    })
  console.log('ready')
} else if (role === 'net-count') {
  const [socketPath, n, bytes] = [args[0], Number(args[1]), Number(args[2])]
  let received = 0
  const socket = net.connect(socketPath, () => console.log('ready'))
  socket.on('data', chunk => {
    received += chunk.length
    if (received === n * bytes) {
      console.log(JSON.stringify({ doneNs: now() }))
      socket.end()
    }
  })
} else if (role === 'shmio-echo') {
  const input = new SharedMemory({ path: args[0] })
  const output = new SharedMemory({ path: args[1], capacity: Number(args[2]), writable: true })
  const pool = new Pool(null, output)
  const sub = new SharedMemoryConsumer(input).getAll(10, { mode: 'inotify' }).subscribe(iterator => {
    for (const buffer of iterator) {
      if (buffer.length === 0) {  // the end
        sub.unsubscribe()
        input.close()
        output.close()
        return
      }
      buffer.copy(pool.sliceSize(buffer.length))
      pool.commit()
    }
  })
  console.log('ready')
} else if (role === 'net-echo') {
  const socket = net.connect(args[0], () => console.log('ready'))
  socket.on('data', chunk => socket.write(chunk))
  socket.on('end', () => socket.end())
} else {
  console.error(`peer.js: unknown role ${role}`)
  process.exit(2)
}
