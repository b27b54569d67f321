'use strict'
// node/bench: what the Node.js binding costs, and what it is worth.
//
//   ./bazelw run //node/bench [-- --quick]
//
// In one run, with 32-byte payloads:
//   1. writes (sliceSize + fill + commit every 1000 frames, and every frame)
//      and reads (an iterator over the frames) through the package, against
//      the same loops in C++ on //shmio (native_loops.cc): the ratio is the
//      binding's overhead;
//   2. throughput between two node processes: shmio (the reader follows
//      with getAll, woken by the doorbell) against what a Node user would
//      pick instead on one host: a Unix socket through `net`, and a
//      worker_threads MessagePort (threads, not processes);
//   3. one-way latency (ping-pong round trip / 2) of getAll in inotify mode
//      against a `net` Unix socket ping-pong.
// Each measure runs `rounds` times, interleaved; the median is printed.
const fs = require('fs')
const net = require('net')
const os = require('os')
const path = require('path')
const { spawn, spawnSync } = require('child_process')
const { Worker } = require('worker_threads')
const { SharedMemory, Pool, SharedMemoryConsumer } = require('..')

const QUICK = process.argv.includes('--quick')
const ROUNDS = QUICK ? 1 : 3
const PAYLOAD = 32
const FRAMES = QUICK ? 200000 : 5000000           // in-process loops
const IPC_FRAMES = QUICK ? 100000 : 2000000       // cross-process throughput
const PINGS = QUICK ? 500 : 5000                  // latency round trips
const NATIVE = process.env.SHMIO_NATIVE_LOOPS || path.join(__dirname, 'native_loops')
const PEER = path.join(__dirname, 'peer.js')
const shmPath = name => `/dev/shm/shmio-node-bench-${process.pid}-${name}`

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const seconds = start => Number(process.hrtime.bigint() - start) / 1e9
const unlink = p => { try { fs.unlinkSync(p) } catch (err) { /* gone */ } }

// ---- 1. in-process loops ---------------------------------------------------

function jsWrite(commitEvery) {
  const file = shmPath('write')
  unlink(file)
  const shm = new SharedMemory({ path: file, capacity: 256 + FRAMES * (PAYLOAD + 4), writable: true, prefault: true })
  const pool = new Pool(null, shm)
  const start = process.hrtime.bigint()
  for (let i = 0; i < FRAMES; i++) {
    pool.sliceSize(PAYLOAD).fill(i & 0xff)
    if ((i + 1) % commitEvery === 0) pool.commit()
  }
  pool.commit()
  const rate = FRAMES / seconds(start)
  shm.close()
  return { rate, file }
}

function jsRead(file) {
  const shm = new SharedMemory({ path: file })
  const consumer = new SharedMemoryConsumer(shm)
  const start = process.hrtime.bigint()
  let count = 0
  let sum = 0
  for (const buffer of consumer.getData()) {
    sum += buffer[0]
    count++
  }
  const rate = count / seconds(start)
  if (count !== FRAMES) throw new Error(`read ${count} of ${FRAMES} frames (sum ${sum})`)
  shm.close()
  return rate
}

function nativeLoops() {
  const result = spawnSync(NATIVE, [shmPath('native'), String(FRAMES), String(PAYLOAD)], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`native_loops failed: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

// ---- 2. cross-process throughput -------------------------------------------

function startPeer(args) {
  const child = spawn(process.execPath, [PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = []
  let waiting = []
  let partial = ''
  child.stdout.on('data', chunk => {
    partial += chunk
    let i
    while ((i = partial.indexOf('\n')) !== -1) {
      lines.push(partial.slice(0, i))
      partial = partial.slice(i + 1)
      waiting.forEach(w => w())
      waiting = []
    }
  })
  const line = async () => {
    while (lines.length === 0) await new Promise(resolve => waiting.push(resolve))
    return lines.shift()
  }
  const exited = new Promise(resolve => child.on('close', resolve))
  return { child, line, exited }
}

async function shmioThroughput() {
  const file = shmPath('ipc')
  unlink(file)
  const shm = new SharedMemory({ path: file, capacity: 256 + IPC_FRAMES * (PAYLOAD + 4), writable: true, prefault: true })
  const pool = new Pool(null, shm)
  const peer = startPeer(['shmio-count', file, String(IPC_FRAMES)])
  await peer.line()  // ready
  const start = process.hrtime.bigint()
  for (let i = 0; i < IPC_FRAMES; i++) {
    pool.sliceSize(PAYLOAD).fill(i & 0xff)
    pool.commit()  // one commit per message, as one write() per message below
  }
  const { doneNs } = JSON.parse(await peer.line())
  await peer.exited
  shm.close()
  unlink(file)
  return IPC_FRAMES / (Number(BigInt(doneNs) - start) / 1e9)
}

function listen() {
  const socketPath = path.join(os.tmpdir(), `shmio-bench-${process.pid}.sock`)
  unlink(socketPath)
  const server = net.createServer()
  return new Promise(resolve => server.listen(socketPath, () => resolve({ server, socketPath })))
}

async function netThroughput() {
  const { server, socketPath } = await listen()
  const accepted = new Promise(resolve => server.once('connection', resolve))
  const peer = startPeer(['net-count', socketPath, String(IPC_FRAMES), String(PAYLOAD)])
  const socket = await accepted
  await peer.line()  // ready
  const message = Buffer.alloc(PAYLOAD)
  const start = process.hrtime.bigint()
  for (let i = 0; i < IPC_FRAMES; i++) {
    message.fill(i & 0xff)
    // One write per message (each copies it), waiting when the socket's
    // buffer is full, as a well-behaved sender does.
    if (!socket.write(Buffer.from(message))) await new Promise(resolve => socket.once('drain', resolve))
  }
  const { doneNs } = JSON.parse(await peer.line())
  await peer.exited
  socket.destroy()
  server.close()
  return IPC_FRAMES / (Number(BigInt(doneNs) - start) / 1e9)
}

async function messagePortThroughput() {
  const worker = new Worker(`
    const { parentPort } = require('worker_threads')
    let count = 0
    parentPort.on('message', buffer => {
      if (++count === ${IPC_FRAMES}) parentPort.postMessage(process.hrtime.bigint().toString())
    })`, { eval: true })
  await new Promise(resolve => worker.once('online', resolve))
  const done = new Promise(resolve => worker.once('message', resolve))
  const message = Buffer.alloc(PAYLOAD)
  const start = process.hrtime.bigint()
  for (let i = 0; i < IPC_FRAMES; i++) {
    message.fill(i & 0xff)
    worker.postMessage(message)  // structured clone: a copy per message
  }
  const doneNs = await done
  await worker.terminate()
  return IPC_FRAMES / (Number(BigInt(doneNs) - start) / 1e9)
}

// ---- 3. one-way latency ----------------------------------------------------

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function shmioLatency() {
  const there = shmPath('ping')
  const back = shmPath('pong')
  unlink(there)
  unlink(back)
  const capacity = 256 + (PINGS + 1) * (PAYLOAD + 4)
  const out = new SharedMemory({ path: there, capacity, writable: true, prefault: true })
  const pool = new Pool(null, out)
  pool.commit()  // initialise the header before the echo opens it
  // The echo creates `back`; it opens `there` first, so create ours first.
  const peer = startPeer(['shmio-echo', there, back, String(capacity)])
  await peer.line()
  const input = new SharedMemory({ path: back })
  const rtts = []
  let sentAt = 0n
  let resolveRound
  const sub = new SharedMemoryConsumer(input).getAll(10, { mode: 'inotify' }).subscribe(iterator => {
    for (const buffer of iterator) {
      rtts.push(Number(process.hrtime.bigint() - sentAt))
      resolveRound()
    }
  })
  for (let i = 0; i < PINGS; i++) {
    const round = new Promise(resolve => { resolveRound = resolve })
    sentAt = process.hrtime.bigint()
    pool.sliceSize(PAYLOAD).fill(i & 0xff)
    pool.commit()
    await round
  }
  pool.sliceSize(0)
  pool.commit()  // the end
  await peer.exited
  sub.unsubscribe()
  input.close()
  out.close()
  unlink(there)
  unlink(back)
  return rtts.map(rtt => rtt / 2).sort((a, b) => a - b)
}

async function netLatency() {
  const { server, socketPath } = await listen()
  const accepted = new Promise(resolve => server.once('connection', resolve))
  const peer = startPeer(['net-echo', socketPath])
  const socket = await accepted
  await peer.line()
  socket.setNoDelay(true)
  const rtts = []
  let received = 0
  let sentAt = 0n
  let resolveRound
  socket.on('data', chunk => {
    received += chunk.length
    if (received >= PAYLOAD) {
      received -= PAYLOAD
      rtts.push(Number(process.hrtime.bigint() - sentAt))
      resolveRound()
    }
  })
  const message = Buffer.alloc(PAYLOAD)
  for (let i = 0; i < PINGS; i++) {
    const round = new Promise(resolve => { resolveRound = resolve })
    message.fill(i & 0xff)
    sentAt = process.hrtime.bigint()
    socket.write(message)
    await round
  }
  socket.end()
  await peer.exited
  server.close()
  return rtts.map(rtt => rtt / 2).sort((a, b) => a - b)
}

// ---- report ----------------------------------------------------------------

const mps = rate => `${(rate / 1e6).toFixed(2)} M/s`
const us = ns => `${(ns / 1000).toFixed(1)} µs`
const verdict = ok => (ok ? 'pass' : 'MISS')

async function main() {
  const cpu = os.cpus()[0] ? os.cpus()[0].model : 'unknown CPU'
  console.log(`node/bench: ${os.cpus().length} CPUs (${cpu}), node ${process.version}, ` +
    `${ROUNDS} round(s), ${PAYLOAD}-byte payloads${QUICK ? ' (--quick)' : ''}`)
  const r = { w1000: [], w1: [], read: [], c1000: [], c1: [], cread: [], shmio: [], net: [], port: [] }
  for (let round = 0; round < ROUNDS; round++) {
    const every1000 = jsWrite(1000)
    r.w1000.push(every1000.rate)
    r.read.push(jsRead(every1000.file))
    unlink(every1000.file)
    const every1 = jsWrite(1)
    r.w1.push(every1.rate)
    unlink(every1.file)
    const native = nativeLoops()
    r.c1000.push(native.writeCommitEvery1000)
    r.c1.push(native.writeCommitEveryFrame)
    r.cread.push(native.read)
    r.shmio.push(await shmioThroughput())
    r.net.push(await netThroughput())
    r.port.push(await messagePortThroughput())
  }
  const shmioLat = await shmioLatency()
  const netLat = await netLatency()
  const m = key => median(r[key])

  console.log('\nin one process (frames/s)            node        C++ (same loop)  node/C++')
  for (const [label, js, cpp] of [
    ['write, commit every 1000 frames', 'w1000', 'c1000'],
    ['write, commit every frame', 'w1', 'c1'],
    ['read (iterator)', 'read', 'cread'],
  ]) {
    console.log(`  ${label.padEnd(34)} ${mps(m(js)).padStart(11)} ${mps(m(cpp)).padStart(14)}   ${(m(js) / m(cpp)).toFixed(3)}`)
  }
  console.log('\nbetween two node processes (messages/s, one commit/write/post per message)')
  console.log(`  shmio (getAll, inotify)            ${mps(m('shmio')).padStart(11)}`)
  console.log(`  net Unix socket                    ${mps(m('net')).padStart(11)}   shmio/net ${(m('shmio') / m('net')).toFixed(1)}x`)
  console.log(`  worker_threads MessagePort         ${mps(m('port')).padStart(11)}   shmio/port ${(m('shmio') / m('port')).toFixed(1)}x (threads of one process)`)
  console.log(`\none-way latency, ping-pong / 2, ${PINGS} round trips      p50        p99`)
  console.log(`  shmio getAll (inotify)             ${us(percentile(shmioLat, 0.5)).padStart(9)} ${us(percentile(shmioLat, 0.99)).padStart(10)}`)
  console.log(`  net Unix socket                    ${us(percentile(netLat, 0.5)).padStart(9)} ${us(percentile(netLat, 0.99)).padStart(10)}` +
    `   shmio/net p50 ${(percentile(shmioLat, 0.5) / percentile(netLat, 0.5)).toFixed(2)}x`)
  console.log('\ntargets')
  const targets = [
    ['writes >= 10 M/s (commit every 1000)', m('w1000') >= 10e6, mps(m('w1000'))],
    ['writes >= 10 M/s (commit every frame)', m('w1') >= 10e6, mps(m('w1'))],
    ['reads >= 20 M/s', m('read') >= 20e6, mps(m('read'))],
    ['cross-process >= 10x the Unix socket', m('shmio') >= 10 * m('net'), `${(m('shmio') / m('net')).toFixed(1)}x`],
    ['wake-up p50 <= 1.5x the socket\'s', percentile(shmioLat, 0.5) <= 1.5 * percentile(netLat, 0.5),
      `${(percentile(shmioLat, 0.5) / percentile(netLat, 0.5)).toFixed(2)}x`],
  ]
  for (const [label, ok, got] of targets) console.log(`  ${label.padEnd(42)} ${got.padStart(10)}  ${verdict(ok)}`)
}

main().catch(err => {
  console.error(err)
  process.exit(1)
})
