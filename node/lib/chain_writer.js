'use strict'
// ChainLogWriter: the writer of a chain log (lib/chain_log.js) over the C++
// ChainWriter, in 1.x's writer style: allocate(size) returns a zero-copy
// Buffer, commit() publishes the batch. A batch is atomic across rolls, as
// in C++: when a frame does not fit, the core rolls to the next file and
// moves the batch's frames there, so fill each Buffer before the next
// allocate() (a Buffer is written through only until then).
const { codedError, typeError, rangeError, describe } = require('./errors')
const { bufferMaker } = require('./fast_buffer')
const { chainError } = require('./chain_options')

class ChainLogWriter {
  constructor(chain) {
    this._chain = chain
    this._native = chain.native
    this._setWindow(this._native.window())
    this._closed = false
  }

  // Reserves a frame of `size` payload bytes (1 to 65,531) and returns it
  // as a zero-copy Buffer over the chain's current file.
  allocate(size) {
    this._check()
    if (typeof size !== 'number') throw typeError(`allocate(size) expects a number, got ${describe(size)}`)
    if (!Number.isSafeInteger(size) || size <= 0) throw rangeError(`allocate size must be positive, got ${size}`)
    let slice
    try {
      slice = this._native.slice(size)
    } catch (err) {
      throw chainError(err, 'write')
    }
    if (typeof slice !== 'number') {
      // The frame went to the next file (a roll): write through its window.
      this._setWindow(slice[1])
      slice = slice[0]
    }
    return this._over(slice, size)
  }

  // Appends a copy of `payload` (a Buffer or Uint8Array) as one frame.
  append(payload) {
    this._check()
    if (!(payload instanceof Uint8Array)) throw typeError(`append(payload) expects a Buffer or Uint8Array, got ${describe(payload)}`)
    try {
      this._native.append(payload)
    } catch (err) {
      throw chainError(err, 'write')
    }
  }

  // Publishes every frame since the last commit() at once (readers see the
  // batch whole, across rolls too).
  commit() {
    this._check()
    try {
      this._native.commit()
    } catch (err) {
      throw chainError(err, 'write')
    }
  }

  // Makes every committed frame durable (a no-op on /dev/shm's tmpfs).
  flush() {
    this._check()
    try {
      this._native.flush()
    } catch (err) {
      throw chainError(err, 'write')
    }
  }

  // {committed, uncommitted} (bigint positions), rolls and filesRemoved
  // since open, currentFile (its path).
  stats() {
    this._check()
    return this._native.stats()
  }

  // Ends this writer object; the chain's writer lock is held until the
  // log's close().
  close() {
    this._closed = true
  }

  _setWindow(window) {
    this._over = bufferMaker(window)
  }

  _check() {
    if (this._closed) throw codedError('Shared log writer is closed', 'ERR_SHM_WRITER_CLOSED')
    if (this._chain.closed) {
      throw codedError(`Shared log ${this._chain.path} (a chain) is closed`, 'ERR_SHM_MAPPING_GONE')
    }
  }
}

module.exports = { ChainLogWriter }
