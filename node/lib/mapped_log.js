'use strict'
// MappedLog: one open log as both public APIs use it. It holds the native
// Log (the C++ SharedMemory, its writer and a validating Consumer) and the
// zero-copy window Buffers over the addon's view of the file, through which
// every frame is read and written from JS.
//
// Frames are read in JS, not one native call per frame: the native side
// validates each new committed value (the C++ Consumer walks the new
// frames and checks they end exactly on it), and JS then walks the same
// frames over the window Buffer, checking each size again (one compare)
// so a file changed under it cannot make it read outside [from, to).
// Anything wrong is reported by the native side's FrameDamageAt, so the
// messages are the C++ core's ("[DEBUG]" for debug-check failures).
const addon = require('./addon')
const { codedError } = require('./errors')
const { bufferMaker } = require('./fast_buffer')

// Options that belong to chain logs (createSharedLog({path, chain}), see
// lib/chain_log.js), not to one mapped file.
const NOT_HERE = {
  chain: 'chains of files',
  name: 'named readers',
}

class MappedLog {
  // `options` are the addon's: {path, writable, capacity, size, num,
  // overlap, prefault, debugChecks}, already type-checked.
  constructor(options) {
    for (const key of Object.keys(NOT_HERE)) {
      if (options[key] !== undefined) {
        throw codedError(
          `shmio: options.${key} (${NOT_HERE[key]}) is not available for one file (${options.path}); ` +
          'open a chain with createSharedLog({path: DIR, chain: {fileCapacity}}), whose ' +
          'createIterator() and subscribe() take a name',
          'ERR_SHM_NOT_SUPPORTED')
      }
    }
    this.native = addon.open(options)
    const info = this.native.info()
    this.path = info.path
    this.writable = info.writable
    this.capacity = info.capacity
    this.debug = info.debugChecks
    this.format = info.format
    this.geometry = info.size !== undefined
      ? { size: info.size, num: info.num, overlap: info.overlap }
      : null
    this.dataOffset = info.dataOffset >= 24 ? info.dataOffset : 0  // 0: not yet known
    const windows = this.native.windows()
    this.windows = windows.buffers
    this.stride = windows.stride
    // Most logs fit one window: then a frame is read with no window lookup.
    this.single = this.windows.length === 1 ? this.windows[0] : null
    this.makers = this.windows.map(bufferMaker)
    this.over = this.makers[0]
    this.closed = false
  }

  // Makes this log's writer (the C++ Pool), which initialises a fresh file.
  createPool() {
    this.native.createPool()
    const info = this.native.info()
    this.dataOffset = info.dataOffset
    this.format = info.format
  }

  // The last validated committed value (0 while the file is all zero).
  committed() {
    const committed = this.native.committed()
    if (this.dataOffset === 0 && committed !== 0) this.dataOffset = this.native.header()[1]
    return committed
  }

  close() {
    this.closed = true
    this.native.close()
  }

  // A Buffer over [offset, offset + length) of the file, zero-copy.
  bufferAt(offset, length) {
    if (this.single !== null) return this.over(offset, length)
    const index = Math.floor(offset / this.stride)
    return this.makers[index](offset - index * this.stride, length)
  }

  // The frame size (leading u16) at `offset`.
  frameSizeAt(offset) {
    const b = this.single
    if (b !== null) return b[offset] | (b[offset + 1] << 8)
    const index = Math.floor(offset / this.stride)
    const w = this.windows[index]
    const at = offset - index * this.stride
    return w[at] | (w[at + 1] << 8)
  }

  // The trailing u16 of the frame that ends at `end`.
  trailingSizeAt(end) {
    return this.frameSizeAt(end - 2)
  }

  // Throws the error that explains why the frame at `offset` does not fit
  // below `limit` (the native side's message, code ERR_SHM_DATA_LOSS, or
  // ERR_SHM_CLOSED once closed).
  throwFrameError(offset, limit, debug) {
    this.native.frameError(offset, limit, debug === true)
    throw codedError(`shmio: frame at offset ${offset} of ${this.path} failed a check`,
      'ERR_SHM_DATA_LOSS')
  }

  // Returns the end of the frame at `offset` if it fits below `limit`
  // (and, with `debug`, its trailing size matches); else throws.
  frameEnd(offset, limit, debug) {
    const total = this.frameSizeAt(offset)
    const end = offset + total
    if (total < 4 || end > limit || (debug && this.trailingSizeAt(end) !== total)) {
      this.throwFrameError(offset, limit, debug)
    }
    return end
  }

  // The segment Buffers of the original's getBuffers(): segment k covers
  // [k*size, min((k+1)*size + overlap, capacity)); a log with no geometry
  // is one segment of the whole file.
  segmentBuffers() {
    const g = this.geometry || { size: this.capacity, num: 1, overlap: 0 }
    const buffers = []
    for (let k = 0; k < g.num; k++) {
      const start = k * g.size
      const end = Math.min((k + 1) * g.size + g.overlap, this.capacity)
      if (this.single === null && Math.floor(start / this.stride) !== Math.floor((end - 1) / this.stride)) {
        throw codedError(
          `shmio: segment ${k} of ${this.path} (${end - start} bytes) is too large for one Buffer`,
          'ERR_SHM_NOT_SUPPORTED')
      }
      buffers.push(this.bufferAt(start, end - start))
    }
    return buffers
  }
}

module.exports = { MappedLog }
