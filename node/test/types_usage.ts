// Compiled by types.test.js with tsc --strict: both APIs as their READMEs
// use them. Never run.
import { SharedMemory, Pool, SharedMemoryConsumer, SharedMemoryIterator, createSharedLog, isShmIteratorError } from 'shmio'
import { Bendec } from 'bendec'

const bendec = new Bendec<any>({ types: [] })
const shm = new SharedMemory({ path: '/dev/shm/x', size: 1 << 20, num: 10, overlap: 4096, writable: true })
const buffers: Buffer[] = shm.getBuffers()
const config: { size: number; writable: boolean } = shm.getConfig()
const pool = new Pool(bendec, shm)
const event = pool.wrap('LogEvent')
const slice: Buffer = pool.sliceSize(10)
pool.commit()
const [committed, uncommitted]: [number, number] = pool.getSize()
pool.setActive(true)
const consumer = new SharedMemoryConsumer(shm)
for (const buffer of consumer.getData()) buffer.readUInt8(0)
consumer.getAll(10, { mode: 'inotify' }).subscribe(iterator => {
  for (const buffer of iterator) bendec.decodeAs(buffer, 'LogEvent')
})
for (const b of new SharedMemoryIterator(shm, 0, 0)) b.length

const log = createSharedLog({ path: '/dev/shm/y', capacityBytes: 16n * 1024n * 1024n, writable: true })
const frame: Buffer = log.writer.allocate(32)
log.writer.commit()
const address: bigint | null = log.writer.getLastAllocatedAddress()
if (address !== null) log.writer.getBufferAtAddress(address)
const reader = createSharedLog({ path: '/dev/shm/y', writable: false })
const iterator = reader.createIterator({ startCursor: 0n })
const next: Buffer | null = iterator.next()
const batch: Buffer[] = iterator.nextBatch({ maxMessages: 32, maxBytes: 1024 })
const cursor: bigint = iterator.cursor()
iterator.seek(cursor)
const size: bigint = reader.header.size
const sub = reader.subscribe((frames: Buffer[], at: bigint) => frames.length, { onError: err => err.code })
sub.close()
try { iterator.next() } catch (err) { if (isShmIteratorError(err)) err.code.startsWith('ERR_SHM') }
reader.close()

const chainLog = createSharedLog({ path: '/dev/shm/events', chain: { fileCapacity: 1 << 20, retainFiles: 8 }, writable: true })
const slot: Buffer = chainLog.writer.allocate(16)
chainLog.writer.append(new Uint8Array(4))
chainLog.writer.commit()
const stats: bigint = chainLog.writer.stats().committed
const chainReader = createSharedLog({ path: '/dev/shm/events', chain: true })
const named = chainReader.createIterator({ name: 'billing', start: 'end' })
const chainFrame: Buffer | null = named.next()
const chainBatch: Buffer[] = named.nextBatch({ maxMessages: 10 })
named.seek(named.cursor())
named.ack()
const acked: bigint = named.acked()
const chainSub = chainReader.subscribe((frames: Buffer[], at: bigint) => frames.length,
  { name: 'follower', autoAck: false, startCursor: 0n, onError: err => err.code })
chainSub.ack(chainSub.cursor())
chainSub.close().then(() => chainReader.close())
void [slot, stats, chainFrame, chainBatch, acked, chainLog.info().fileCapacity]
shm.close()
void [buffers, config, event, slice, committed, uncommitted, frame, next, batch, size]
