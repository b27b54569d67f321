'use strict'
// Upstream 1.x's API: createSharedLog({path, writable, capacityBytes,
// debugChecks}) -> {header, createIterator, writer, close}, plus
// subscribe() (new here). Cursors are bigint offsets relative to
// dataOffset, as in 1.x. Errors carry 1.x's codes: ERR_SHM_ITERATOR_CLOSED,
// ERR_SHM_CURSOR, ERR_SHM_FRAME_CORRUPT, ERR_SHM_MAPPING_GONE.
const fs = require('fs')
const { MappedLog } = require('./mapped_log')
const { LogWriter } = require('./writer')
const { subscribe, nativeSubscribeOptions } = require('./subscribe')
const { codedError, recode, typeError, rangeError, describe } = require('./errors')
const { createChainLog } = require('./chain_log')

const { DEFAULT_MAX_MESSAGES, DEFAULT_MAX_BYTES, checkBatchLimits } = require('./limits')

// The addon's codes, as 1.x names them.
const CODES = {
  ERR_SHM_CLOSED: 'ERR_SHM_MAPPING_GONE',
  ERR_SHM_DATA_LOSS: 'ERR_SHM_FRAME_CORRUPT',
  ERR_SHM_OUT_OF_RANGE: 'ERR_SHM_CURSOR',
  ERR_SHM_INVALID_ARGUMENT: 'ERR_SHM_CURSOR',
}
// For the writer: its bad sizes are not cursor errors.
const WRITER_CODES = {
  ERR_SHM_CLOSED: 'ERR_SHM_MAPPING_GONE',
  ERR_SHM_DATA_LOSS: 'ERR_SHM_FRAME_CORRUPT',
}

function rethrow(err, codes = CODES) {
  throw recode(err, codes)
}

function toBigCursor(value, what) {
  if (typeof value !== 'bigint') {
    throw codedError(`${what} must be a BigInt, got ${describe(value)}`, 'ERR_SHM_CURSOR', TypeError)
  }
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw codedError(`${what} ${value} is out of range`, 'ERR_SHM_CURSOR', RangeError)
  }
  return Number(value)
}

class ShmIterator {
  constructor(log, startCursor) {
    this._log = log
    this._closed = false
    this._committed = 0   // last validated committed value (absolute)
    this._pos = 0         // absolute; 0 until the header is known
    try {
      this._refresh()
      if (startCursor !== undefined) this.seek(startCursor)
    } catch (err) {
      rethrow(err)
    }
  }

  // The next frame as a Buffer, or null when nothing new is committed.
  next() {
    const frames = this.nextBatch({ maxMessages: 1 })
    return frames.length === 0 ? null : frames[0]
  }

  // Up to maxMessages frames (default 64) and maxBytes bytes counting each
  // frame's 4 bytes of sizes (default 256 KiB); at least one frame when one
  // is committed, however large.
  nextBatch(options) {
    this._check()
    const { maxMessages, maxBytes } = checkBatchLimits(options)
    let debug = this._log.debug
    if (options !== undefined && options !== null) {
      if (options.debugChecks !== undefined) {
        if (typeof options.debugChecks !== 'boolean') {
          throw codedError('debugChecks must be boolean', 'ERR_SHM_CURSOR', TypeError)
        }
        debug = debug || options.debugChecks
      }
    }
    const log = this._log
    try {
      if (this._pos >= this._committed) this._refresh()
      const frames = []
      let pos = this._pos
      let bytes = 0
      const to = this._committed
      while (pos < to && frames.length < maxMessages) {
        const end = log.frameEnd(pos, to, debug)
        if (frames.length > 0 && bytes + (end - pos) > maxBytes) break
        bytes += end - pos
        frames.push(log.bufferAt(pos + 2, end - pos - 4))
        pos = end
      }
      this._pos = pos
      return frames
    } catch (err) {
      rethrow(err)
    }
  }

  cursor() {
    this._check()
    return BigInt(this._pos === 0 ? 0 : this._pos - this._log.dataOffset)
  }

  committedSize() {
    this._check()
    try {
      this._refresh()
    } catch (err) {
      rethrow(err)
    }
    return BigInt(this._committed === 0 ? 0 : this._committed - this._log.dataOffset)
  }

  // Moves to `position` (bigint, relative to dataOffset), which must be a
  // frame boundary at or below the committed size (ERR_SHM_CURSOR).
  seek(position) {
    this._check()
    const relative = toBigCursor(position, 'seek position')
    const log = this._log
    try {
      this._refresh()
      if (log.dataOffset === 0) {
        if (relative !== 0) {
          throw codedError(`seek position ${relative} is beyond the committed size 0 of an empty log`,
            'ERR_SHM_CURSOR', RangeError)
        }
        return
      }
      const absolute = log.dataOffset + relative
      log.native.checkCursor(absolute)
      this._pos = absolute
    } catch (err) {
      rethrow(err)
    }
  }

  close() {
    this._closed = true
  }

  _refresh() {
    const log = this._log
    const committed = log.committed()
    this._committed = committed
    if (this._pos === 0 && log.dataOffset !== 0) this._pos = log.dataOffset
  }

  _check() {
    if (this._closed) throw codedError('ShmIterator is closed', 'ERR_SHM_ITERATOR_CLOSED')
    if (this._log.closed) throw codedError(`Shared log ${this._log.path} is closed`, 'ERR_SHM_MAPPING_GONE')
  }
}

class ShmWriter {
  constructor(log) {
    this._log = log
    this._native = log.native
    this._writer = new LogWriter(log)
    this._closed = false
  }

  // Reserves a frame of `size` payload bytes and returns it as a zero-copy
  // Buffer; commit() publishes it.
  allocate(size, options) {
    this._check()
    if (typeof size !== 'number') throw typeError(`allocate(size) expects a number, got ${describe(size)}`)
    if (!Number.isSafeInteger(size) || size <= 0) throw rangeError(`allocate size must be positive, got ${size}`)
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw typeError('allocate options must be an object')
    }
    try {
      return this._log.bufferAt(this._writer.slice(size), size)
    } catch (err) {
      rethrow(err, WRITER_CODES)
    }
  }

  commit() {
    this._check()
    try {
      this._writer.commit()
    } catch (err) {
      rethrow(err, WRITER_CODES)
    }
  }

  // The cursor (bigint, relative to dataOffset) of the frame the last
  // allocate() made, or null before the first.
  getLastAllocatedAddress() {
    this._check()
    const last = this._writer.last
    return last < 0 ? null : BigInt(last - this._log.dataOffset)
  }

  // The payload of the frame at `address` (a cursor as above), committed or
  // not, as a zero-copy Buffer. ERR_SHM_CURSOR unless a whole frame of this
  // log's written part starts there.
  getBufferAtAddress(address) {
    this._check()
    const log = this._log
    const start = log.dataOffset + toBigCursor(address, 'address')
    this._writer.handOver()  // so the frame's sizes are written
    const [, end] = this._native.size()
    const total = start + 4 <= end ? log.frameSizeAt(start) : 0
    if (total < 4 || start + total > end || log.trailingSizeAt(start + total) !== total) {
      throw codedError(`address ${address} is not the start of a frame below the write position ` +
        `${end - log.dataOffset} of ${log.path}`, 'ERR_SHM_CURSOR', RangeError)
    }
    return log.bufferAt(start + 2, total - 4)
  }

  // Ends this writer object; the file's writer lock is held until the
  // log's close().
  close() {
    this._closed = true
  }

  _check() {
    if (this._closed) throw codedError('Shared log writer is closed', 'ERR_SHM_WRITER_CLOSED')
    if (this._log.closed) throw codedError(`Shared log ${this._log.path} is closed`, 'ERR_SHM_MAPPING_GONE')
  }
}

// The header as 1.x's bendec wrapper showed it, read live (bigints).
function headerOf(log) {
  const word = index => {
    if (log.closed) throw codedError(`Shared log ${log.path} is closed`, 'ERR_SHM_MAPPING_GONE')
    return BigInt(log.native.header()[index])
  }
  const readOnly = name => () => {
    throw typeError(`header.${name} is read-only: the writer moves it on commit()`)
  }
  return Object.freeze({
    get headerSize() { return word(0) },
    set headerSize(v) { readOnly('headerSize')() },
    get dataOffset() { return word(1) },
    set dataOffset(v) { readOnly('dataOffset')() },
    get size() { return word(2) },
    set size(v) { readOnly('size')() },
  })
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw typeError(`createSharedLog(options) expects an options object, got ${describe(options)}`)
  }
  if (typeof options.path !== 'string' || options.path === '') {
    throw typeError(`options.path must be a non-empty string, got ${describe(options.path)}`)
  }
  const writable = options.writable === undefined ? false : options.writable
  if (typeof writable !== 'boolean') throw typeError(`options.writable must be a boolean, got ${describe(writable)}`)
  const debugChecks = options.debugChecks === undefined ? false : options.debugChecks
  if (typeof debugChecks !== 'boolean') {
    throw typeError(`options.debugChecks must be a boolean, got ${describe(debugChecks)}`)
  }
  let capacity
  const c = options.capacityBytes
  if (c !== undefined && c !== null) {
    if (typeof c !== 'number' && typeof c !== 'bigint') {
      throw typeError(`options.capacityBytes must be a number or bigint, got ${describe(c)}`)
    }
    if ((typeof c === 'number' && (!Number.isSafeInteger(c) || c < 24)) ||
        (typeof c === 'bigint' && (c < 24n || c > BigInt(Number.MAX_SAFE_INTEGER)))) {
      throw rangeError(`options.capacityBytes must be an integer of at least 24 bytes, got ${c}`)
    }
    capacity = Number(c)
  } else if (writable) {
    throw typeError('capacityBytes is required when writable is true')
  }
  return { path: options.path, writable, debugChecks, capacity }
}

// The file's size, and whether its header is the original layout (data at
// 24, no extension block), as 1.x wrote it. A first look only: the C++
// core checks the header again when it opens the file.
function peek(path) {
  let fd
  try {
    fd = fs.openSync(path, 'r')
    const size = fs.fstatSync(fd).size
    const header = Buffer.alloc(16)
    fs.readSync(fd, header, 0, 16, 0)
    const nodeLayout = header.readBigUInt64LE(0) === 24n && header.readBigUInt64LE(8) === 24n
    return { size, nodeLayout }
  } catch (err) {
    return { size: 0, nodeLayout: false }
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

// Opens as 1.x did: capacityBytes sizes a new (or empty) file and is
// ignored for an existing one. A file in 1.x's layout has no geometry; the
// C++ writer continues it as one segment of the whole file.
function openLog({ path, writable, debugChecks, capacity }) {
  const options = { path, writable, debugChecks }
  if (writable) {
    const file = peek(path)
    if (file.size === 0) options.capacity = capacity
    else if (file.nodeLayout) Object.assign(options, { size: file.size, num: 1, overlap: 0 })
  }
  return new MappedLog(options)
}

function createSharedLog(options) {
  // A chain of files (a directory): lib/chain_log.js.
  if (options !== null && typeof options === 'object' && options.chain !== undefined) {
    return createChainLog(options)
  }
  const checked = checkOptions(options)
  const log = openLog(checked)
  let writer
  try {
    if (checked.writable) writer = new ShmWriter(log)
  } catch (err) {
    log.close()
    throw err
  }
  return {
    header: headerOf(log),
    createIterator(iteratorOptions) {
      if (iteratorOptions !== undefined && (iteratorOptions === null || typeof iteratorOptions !== 'object')) {
        throw typeError('createIterator options must be an object')
      }
      if (log.closed) throw codedError(`Shared log ${log.path} is closed`, 'ERR_SHM_MAPPING_GONE')
      return new ShmIterator(log, iteratorOptions && iteratorOptions.startCursor)
    },
    writer,
    // Calls onFrames(frames, cursor) with each batch of new frames (Buffers)
    // and the cursor after them, on this thread's event loop, woken by the
    // writer's doorbell (or polled, see getAll). options: {startCursor,
    // mode, pollIntervalMs, safetyIntervalMs, maxMessages, maxBytes,
    // onError}. Returns {close(), mode()}.
    subscribe(onFrames, subscribeOptions = {}) {
      if (typeof onFrames !== 'function') throw typeError('subscribe(onFrames) expects a function')
      if (subscribeOptions === null || typeof subscribeOptions !== 'object') {
        throw typeError('subscribe options must be an object')
      }
      if (log.closed) throw codedError(`Shared log ${log.path} is closed`, 'ERR_SHM_MAPPING_GONE')
      const { startCursor, maxMessages, onError, ...rest } = subscribeOptions
      if (onError !== undefined && typeof onError !== 'function') throw typeError('options.onError must be a function')
      let cursor = 0
      if (startCursor !== undefined) {
        const relative = toBigCursor(startCursor, 'startCursor')
        log.committed()
        cursor = log.dataOffset === 0 ? 0 : log.dataOffset + relative
      }
      const nativeOptions = nativeSubscribeOptions({ ...rest, cursor })
      if (maxMessages !== undefined) nativeOptions.maxFrames = maxMessages
      let sub
      try {
        sub = subscribe(log, nativeOptions, (from, to) => {
          const frames = []
          for (let pos = from; pos < to;) {
            const end = log.frameEnd(pos, to, log.debug)
            frames.push(log.bufferAt(pos + 2, end - pos - 4))
            pos = end
          }
          onFrames(frames, BigInt(to - log.dataOffset))
        }, err => {
          recode(err, CODES)
          if (onError) onError(err)
          else throw err
        })
      } catch (err) {
        rethrow(err)
      }
      return { close: () => sub.close(), mode: () => sub.mode() }
    },
    close() {
      log.close()
    },
  }
}

module.exports = { createSharedLog, DEFAULT_MAX_MESSAGES, DEFAULT_MAX_BYTES }
