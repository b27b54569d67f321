'use strict'
// Bad input to every entry point (wrong types, missing options, absurd
// sizes, damaged files) is a thrown Error with a clear message, never a
// crash. Each case names the call and the words the message must contain.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const shmio = require('..')
const addon = require('../lib/addon')
const { SharedMemory, Pool, SharedMemoryConsumer, SharedMemoryIterator, createSharedLog } = shmio
const { logPath, chainPath } = require('./helpers')

function expectThrows(cases) {
  for (const [what, call, pattern] of cases) {
    assert.throws(call, err => {
      assert.ok(err instanceof Error, `${what}: threw a non-Error ${err}`)
      assert.match(err.message, pattern, `${what}: message "${err.message}"`)
      return true
    }, what)
  }
}

function writtenLog(name, frames = ['a', 'bb', 'ccc']) {
  const file = logPath(name)
  const shm = new SharedMemory({ path: file, capacity: 4096, writable: true })
  const pool = new Pool(null, shm)
  for (const f of frames) pool.sliceSize(f.length).write(f)
  pool.commit()
  shm.close()
  return file
}

test('SharedMemory refuses bad configs before touching the disk', () => {
  const file = logPath('config')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmio-dir-'))
  expectThrows([
    ['no config', () => new SharedMemory(), /config must be an object/],
    ['a number', () => new SharedMemory(5), /config must be an object/],
    ['an array', () => new SharedMemory([]), /config must be an object/],
    ['no path', () => new SharedMemory({ size: 10 }), /path must be a non-empty string/],
    ['path a number', () => new SharedMemory({ path: 5 }), /path must be a non-empty string/],
    ['size a string', () => new SharedMemory({ path: file, size: '10' }), /config.size must be a number/],
    ['negative num', () => new SharedMemory({ path: file, num: -1 }), /config.num must be a non-negative integer/],
    ['fractional overlap', () => new SharedMemory({ path: file, overlap: 1.5 }), /config.overlap must be a non-negative integer/],
    ['writable a string', () => new SharedMemory({ path: file, writable: 'yes' }), /writable must be a boolean/],
    ['a writer with no size', () => new SharedMemory({ path: file, writable: true }), /size|capacity/],
    ['size 0', () => new SharedMemory({ path: file, size: 0, num: 2, overlap: 0, writable: true }), /size/],
    ['overlap >= size', () => new SharedMemory({ path: file, size: 100, num: 2, overlap: 100, writable: true }), /overlap/],
    ['size * num overflowing', () => new SharedMemory({ path: file, size: 2 ** 52, num: 2 ** 20, overlap: 0, writable: true }), /overflow|too large|exceed/i],
    ['an absurd capacity', () => new SharedMemory({ path: file, capacity: 2 ** 53 - 1, writable: true }), new RegExp(file)],
    ['a capacity below the header', () => new SharedMemory({ path: file, capacity: 10, writable: true }), /capacity/],
    ['a missing file, read-only', () => new SharedMemory({ path: file }), /no such file|not found|does not exist/i],
    ['a directory', () => new SharedMemory({ path: dir, capacity: 4096, writable: true }), new RegExp(dir)],
    ['a missing parent directory', () => new SharedMemory({ path: `${dir}/missing/log`, capacity: 4096, writable: true }), /missing\/log/],
    ['chains (createSharedLog only)', () => new SharedMemory({ path: file, chain: true }), /chains of files.*not available.*createSharedLog/],
    ['named readers (chains only)', () => new SharedMemory({ path: file, name: 'r1' }), /named readers.*not available.*createSharedLog/],
  ])
  assert.equal(fs.existsSync(file), false, 'no file was left behind')
})

test('damaged files are errors naming the file and the offset', () => {
  const short = logPath('short')
  fs.writeFileSync(short, Buffer.alloc(10))
  const badHeader = logPath('bad-header')
  const header = Buffer.alloc(4096)
  header.writeBigUInt64LE(99n, 0)
  header.writeBigUInt64LE(24n, 8)
  header.writeBigUInt64LE(24n, 16)
  fs.writeFileSync(badHeader, header)
  const pastEnd = logPath('past-end')
  const beyond = Buffer.alloc(4096)
  beyond.writeBigUInt64LE(24n, 0)
  beyond.writeBigUInt64LE(24n, 8)
  beyond.writeBigUInt64LE(99999n, 16)
  fs.writeFileSync(pastEnd, beyond)
  expectThrows([
    ['a file shorter than the header', () => new SharedMemory({ path: short }), new RegExp(short)],
    ['headerSize 99', () => new SharedMemory({ path: badHeader }), /headerSize/],
  ])
  // A committed value past the end is an error naming the file, or (the
  // core since issue 9: it may be a torn value of a Node writer) no frame;
  // never a read past the file.
  let frames
  try {
    frames = [...new SharedMemoryConsumer(new SharedMemory({ path: pastEnd })).getData()]
  } catch (err) {
    assert.match(err.message, new RegExp(pastEnd))
  }
  if (frames !== undefined) assert.deepEqual(frames, [])

  // A frame size damaged inside committed data that readers have already
  // validated (shmio's file: data at 256; the second frame at 261).
  const file = writtenLog('frame-damage')
  const shm = new SharedMemory({ path: file })
  const consumer = new SharedMemoryConsumer(shm)
  const log = createSharedLog({ path: file, writable: false })
  const iterator = log.createIterator()
  assert.equal([...consumer.getData()].length, 3)
  assert.equal(iterator.committedSize(), 18n)
  const fd = fs.openSync(file, 'r+')
  const size = Buffer.alloc(2)
  size.writeUInt16LE(60000)
  fs.writeSync(fd, size, 0, 2, 256 + 5)  // the second frame's leading size
  fs.closeSync(fd)
  expectThrows([
    ['getData over a damaged frame', () => [...consumer.getData()], /damaged at offset 261/],
    ['1.x iterator over it', () => iterator.nextBatch(), /damaged at offset 261/],
  ])
  assert.throws(() => log.createIterator({ startCursor: 0n }).nextBatch(), err => err.code === 'ERR_SHM_FRAME_CORRUPT')
  log.close()
  shm.close()
})

test('getAll reports what stops a subscription through the Observable error channel', async () => {
  // A file in the original library's layout cannot ring: inotify mode is
  // refused (auto mode would poll it).
  const file = logPath('no-doorbell')
  const bytes = Buffer.alloc(4096)
  bytes.writeBigUInt64LE(24n, 0)
  bytes.writeBigUInt64LE(24n, 8)
  bytes.writeBigUInt64LE(24n, 16)
  fs.writeFileSync(file, bytes)
  const shm = new SharedMemory({ path: file })
  const values = []
  const err = await new Promise(resolve => {
    new SharedMemoryConsumer(shm).getAll(5, { mode: 'inotify' })
      .subscribe({ next: value => values.push(value), error: resolve })
  })
  assert.match(err.message, /doorbell/)
  assert.match(err.message, new RegExp(file))
  assert.equal(err.code, 'ERR_SHM_FAILED_PRECONDITION')
  assert.equal(values.length, 1, 'the frames already committed came first')
  shm.close()
})

test('Pool, consumers and iterators refuse bad arguments', () => {
  const file = logPath('pool')
  const shm = new SharedMemory({ path: file, size: 4096, num: 2, overlap: 64, writable: true })
  const pool = new Pool(null, shm)
  pool.sliceSize(10)
  pool.commit()
  const reader = new SharedMemory({ path: file })
  const consumer = new SharedMemoryConsumer(reader)
  expectThrows([
    ['Pool without a SharedMemory', () => new Pool(null, {}), /needs a SharedMemory/],
    ['Pool with a number for bendec', () => new Pool(5, shm), /bendec must be a Bendec/],
    ['Pool on a read-only SharedMemory', () => new Pool(null, reader), /read-only/],
    ['sliceSize of a string', () => pool.sliceSize('10'), /size must be a number/],
    ['sliceSize of -1', () => pool.sliceSize(-1), /non-negative integer/],
    ['sliceSize of 1.5', () => pool.sliceSize(1.5), /non-negative integer/],
    ['sliceSize over 65531', () => pool.sliceSize(70000), /65531/],
    ['sliceSize of 2^53', () => pool.sliceSize(2 ** 53), /non-negative integer/],
    ['a frame crossing a segment boundary by more than the overlap', () => { for (;;) pool.sliceSize(2000) }, /overlap/],
    ['wrap without bendec', () => pool.wrap('Event'), /Bendec instance/],
    ['setActive of a string', () => pool.setActive('no'), /boolean/],
    ['consumer without a SharedMemory', () => new SharedMemoryConsumer('x'), /needs a SharedMemory/],
    ['getData of a string', () => consumer.getData('0'), /must be a number/],
    ['getAll of -1', () => consumer.getAll(-1), /non-negative integer/],
    ['getAll with a bad mode', () => consumer.getAll(10, { mode: 'bogus' }), /mode must be one of/],
    ['iterator with from after to', () => new SharedMemoryIterator(reader, 300, 200), /after toIndex/],
    ['iterator past the committed end', () => new SharedMemoryIterator(reader, 0, 10 ** 9), /past the committed end/],
    ['iterator off a frame boundary', () => new SharedMemoryIterator(reader, 257, 257), /not a frame boundary/],
  ])
  shm.close()
  // A fresh log, to check exhaustion in the original's words.
  const small = new SharedMemory({ path: logPath('full'), capacity: 512, writable: true })
  const fullPool = new Pool(null, small)
  assert.throws(() => { for (;;) fullPool.sliceSize(100) }, /Shared memory exhausted/)
  small.close()
})

test('createSharedLog, its writer and iterators refuse bad arguments', () => {
  const file = logPath('upstream')
  const log = createSharedLog({ path: file, capacityBytes: 4096, writable: true })
  const iterator = log.createIterator()
  expectThrows([
    ['no options', () => createSharedLog(), /expects an options object/],
    ['path a number', () => createSharedLog({ path: 1, writable: false }), /path must be a non-empty string/],
    ['writable a string', () => createSharedLog({ path: file, writable: 'x' }), /writable must be a boolean/],
    ['a writer without capacityBytes', () => createSharedLog({ path: logPath('x'), writable: true }), /capacityBytes is required/],
    ['capacityBytes a string', () => createSharedLog({ path: file, writable: true, capacityBytes: 'big' }), /number or bigint/],
    ['capacityBytes 10', () => createSharedLog({ path: file, writable: true, capacityBytes: 10 }), /at least 24/],
    ['capacityBytes 2^70', () => createSharedLog({ path: file, writable: true, capacityBytes: 2n ** 70n }), /at least 24/],
    ['a missing file, read-only', () => createSharedLog({ path: logPath('missing'), writable: false }), /no such file|not found|does not exist/i],
    ['allocate of a string', () => log.writer.allocate('8'), /expects a number/],
    ['allocate of 0', () => log.writer.allocate(0), /must be positive/],
    ['allocate of a billion', () => log.writer.allocate(1e9), /65531/],
    ['nextBatch of a number', () => iterator.nextBatch(5), /must be an object/],
    ['nextBatch with maxMessages a string', () => iterator.nextBatch({ maxMessages: 'x' }), /maxMessages must be a number/],
    ['nextBatch with maxBytes -1', () => iterator.nextBatch({ maxBytes: -1 }), /maxBytes must be > 0/],
    ['seek of a string', () => iterator.seek('0'), /BigInt/],
    ['createIterator with a number', () => log.createIterator(5), /must be an object/],
    ['subscribe without a function', () => log.subscribe(5), /expects a function/],
    ['header is read-only', () => { log.header.size = 5n }, /read-only/],
  ])
  log.close()
})

test('the addon itself, called directly with nonsense, throws and never crashes', () => {
  const file = writtenLog('direct')
  const log = addon.open({ path: file })
  expectThrows([
    ['open()', () => addon.open(), /options object/],
    ['open({})', () => addon.open({}), /path is required/],
    ['open({path: 5})', () => addon.open({ path: 5 }), /must be a string/],
    ['open with a NUL in the path', () => addon.open({ path: 'a\u0000b' }), /NUL/],
    ['open with capacity -1', () => addon.open({ path: file, capacity: -1 }), /non-negative integer/],
    ['new Log()', () => new addon.Log(), /use open/],
    ['a Log method on another object', () => addon.Log.prototype.committed.call({}), /Illegal invocation|needs a Log/],
    ['slice without a Pool', () => log.slice(4), /no writer/],
    ['checkCursor(-1)', () => log.checkCursor(-1), /non-negative integer/],
    ['checkCursor of a huge bigint', () => log.checkCursor(2n ** 65n), /bigint from 0/],
    ['frameError with limit < offset', () => log.frameError(10, 5), /not within/],
    ['subscribe(1, 2, 3, 4)', () => addon.subscribe(1, 2, 3, 4), /needs a Log/],
    ['subscribe without callbacks', () => addon.subscribe(log, {}, 1, 2), /onBatch and onError/],
    ['subscribe with maxFrames 0', () => addon.subscribe(log, { maxFrames: 0 }, () => {}, () => {}), /must be > 0/],
    ['subscribe with a bad mode', () => addon.subscribe(log, { mode: 'x' }, () => {}, () => {}), /mode must be/],
    ['createPool on a read-only log', () => log.createPool(), /read-only|writable/],
  ])
  log.close()
  expectThrows([
    ['a method after close()', () => log.committed(), /closed/],
    ['subscribe after close()', () => addon.subscribe(log, {}, () => {}, () => {}), /closed/],
  ])
})

test('chain logs refuse bad input with errors naming the option, the directory and the sizes', () => {
  const dir = chainPath('bad-chain')
  const notChain = fs.mkdtempSync(path.join(os.tmpdir(), 'shmio-not-a-chain-'))
  expectThrows([
    ['chain a string', () => createSharedLog({ path: dir, chain: 'yes' }), /options.chain must be true or an object/],
    ['no path', () => createSharedLog({ chain: true }), /options.path must be a non-empty string/],
    ['fileCapacity a string', () => createSharedLog({ path: dir, chain: { fileCapacity: '4096' }, writable: true }), /options.chain.fileCapacity must be a number/],
    ['negative retainFiles', () => createSharedLog({ path: dir, chain: { fileCapacity: 4096, retainFiles: -1 }, writable: true }), /retainFiles must be a non-negative integer/],
    ['an unknown chain option', () => createSharedLog({ path: dir, chain: { fileCapacty: 4096 }, writable: true }), /fileCapacty is not a chain option/],
    ['capacityBytes for a chain', () => createSharedLog({ path: dir, chain: true, capacityBytes: 4096, writable: true }), /chain.fileCapacity/],
    ['a file larger than a Buffer', () => createSharedLog({ path: dir, chain: { fileCapacity: 2 ** 40 }, writable: true }), /fileCapacity 1099511627776 .*Buffer/],
    ['a new chain with no fileCapacity', () => createSharedLog({ path: dir, chain: true, writable: true }), new RegExp(`${dir}.*capacity`)],
    ['a file too small for a frame', () => createSharedLog({ path: dir, chain: { fileCapacity: 10 }, writable: true }), new RegExp(dir)],
    ['a missing chain, read-only', () => createSharedLog({ path: dir, chain: true }), new RegExp(`${dir} does not exist`)],
    ['a directory that is not a chain', () => createSharedLog({ path: notChain, chain: true }), new RegExp(`${notChain} is not a shmio chain`)],
    ['firstPosition a number', () => createSharedLog({ path: dir, chain: { fileCapacity: 4096, firstPosition: 5 }, writable: true }), /firstPosition must be a BigInt/],
    ['a direct openChain without options', () => addon.openChain(), /needs an options object/],
    ['a direct openChain with no directory', () => addon.openChain({}), /directory is required/],
    ['a direct openChain with an absurd file', () => addon.openChain({ directory: dir, writable: true, create: true, fileCapacity: 2n ** 63n }), /fileCapacity .*Buffer/],
  ])
  assert.equal(fs.existsSync(dir), false, 'no chain was made by a refused call')
  assert.deepEqual(fs.readdirSync(notChain), [], 'nothing was written into the directory that is not a chain')

  const log = createSharedLog({ path: dir, chain: { fileCapacity: 4096 }, writable: true })
  log.writer.append(Buffer.from('one'))
  log.writer.commit()
  const it = log.createIterator()
  expectThrows([
    ['allocate a string', () => log.writer.allocate('8'), /allocate\(size\) expects a number/],
    ['allocate 0', () => log.writer.allocate(0), /allocate size must be positive/],
    ['a payload over the frame limit', () => log.writer.allocate(70000), /70000 bytes is over the 65531-byte limit/],
    ['a frame larger than a file', () => log.writer.allocate(5000), new RegExp(dir)],
    ['append a string', () => log.writer.append('text'), /append\(payload\) expects a Buffer/],
    ['a name that is a number', () => log.createIterator({ name: 5 }), /name must be a non-empty string/],
    ['a name with bad characters', () => log.createIterator({ name: 'a b/c' }), /name|"a b\/c"/],
    ['a start that is not one', () => log.createIterator({ start: 'middle' }), /start must be 'beginning' or 'end'/],
    ['startCursor a number', () => log.createIterator({ startCursor: 0 }), /startCursor must be a BigInt/],
    ['startCursor off a boundary', () => log.createIterator({ startCursor: 1n }), new RegExp(`${dir}.*position 1`)],
    ['seek a number', () => it.seek(0), /seek position must be a BigInt/],
    ['seek negative', () => it.seek(-1n), /not a chain position/],
    ['seek past the end', () => it.seek(10n ** 12n), /1000000000000/],
    ['ack by an unnamed reader', () => it.ack(), /name/],
    ['nextBatch maxMessages 0', () => it.nextBatch({ maxMessages: 0 }), /maxMessages must be > 0/],
    ['subscribe without a function', () => log.subscribe(5), /expects a function/],
    ['subscribe autoAck without a name', () => log.subscribe(() => {}, { autoAck: false }), /autoAck needs options.name/],
    ['subscribe a bad mode', () => log.subscribe(() => {}, { mode: 'fast' }), /options.mode must be one of/],
    ['a direct subscribeChain on a non-chain', () => addon.subscribeChain({}, {}, () => {}, () => {}), /Chain object/],
    ['a direct Chain construction', () => new addon.Chain(), /cannot be constructed directly/],
    ['a direct ChainReader construction', () => new addon.ChainReader(), /cannot be constructed directly/],
  ])
  log.close()
  expectThrows([
    ['a closed chain', () => log.createIterator(), /is closed/],
    ['a closed chain writer', () => log.writer.commit(), /is closed/],
    ['a closed chain iterator', () => it.next(), /is closed/],
  ])
  fs.rmSync(notChain, { recursive: true, force: true })
})
