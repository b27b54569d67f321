'use strict'
// Pool: the original's writer, new Pool(bendec, sharedMemory), over the
// C++ core's Pool: the one writer of the file (a second one, in this or any
// process, is refused), frames bounds-checked, payloads up to 65,531 bytes,
// commit() one release store that also wakes sleeping readers.
const { logOf } = require('./shared_memory')
const { typeError, checkCount, describe, codedError } = require('./errors')
const { LogWriter } = require('./writer')

class Pool {
  constructor(bendec, sharedMemory) {
    if (bendec !== undefined && bendec !== null && typeof bendec !== 'object') {
      throw typeError(`Pool(bendec, sharedMemory): bendec must be a Bendec instance, got ${describe(bendec)}`)
    }
    const log = logOf(sharedMemory, 'Pool(bendec, sharedMemory)')
    if (log.closed) throw codedError(`Pool: ${log.path} is closed`, 'ERR_SHM_CLOSED')
    if (!log.writable) {
      throw codedError(
        `Pool: ${log.path} was opened read-only; open the SharedMemory with writable: true to write`,
        'ERR_SHM_FAILED_PRECONDITION')
    }
    this._writer = new LogWriter(log)
    this.bendec = bendec
    this._log = log
    this._native = log.native
    this._active = true
  }

  // Reserves a frame for `size` payload bytes and returns them as a
  // zero-copy Buffer to fill; readers see it after commit(). Errors:
  // "Shared memory exhausted" (ERR_SHM_EXHAUSTED), a payload over 65,531
  // bytes (ERR_SHM_INVALID_ARGUMENT), a frame that would cross a segment
  // boundary by more than the overlap (ERR_SHM_FAILED_PRECONDITION).
  sliceSize(size) {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      checkCount(size, 'Pool.sliceSize(size): size')
    }
    if (!this._active) return Buffer.alloc(size)
    this._checkOpen()
    return this._log.bufferAt(this._writer.slice(size), size)
  }

  slice(typeName) {
    return this.sliceSize(this._bendec('slice').getSize(typeName))
  }

  wrap(typeName) {
    return this._bendec('wrap').wrap(typeName, this.slice(typeName))
  }

  // Publishes every frame since the last commit, all at once.
  commit() {
    this._checkOpen()
    this._writer.commit()
  }

  // [committed size, uncommitted bytes], as the original: the committed
  // end offset, and how many bytes were appended since the last commit.
  getSize() {
    this._writer.handOver()
    const [committed, end] = this._native.size()
    return [committed, end - committed]
  }

  // [segment index, offset in that segment] of the next frame.
  getStatus() {
    this._writer.handOver()
    return this._native.status()
  }

  // false: sliceSize() returns plain Buffers and nothing is written, as the
  // original's setActive(false).
  setActive(active) {
    if (typeof active !== 'boolean') {
      throw typeError(`Pool.setActive(active): active must be a boolean, got ${describe(active)}`)
    }
    this._writer.handOver()
    this._native.setActive(active)
    this._active = active
  }

  _checkOpen() {
    if (this._log.closed) throw codedError(`Pool: ${this._log.path} is closed`, 'ERR_SHM_CLOSED')
  }

  _bendec(method) {
    if (this.bendec === undefined || this.bendec === null) {
      throw typeError(`Pool.${method}(typeName) needs the Pool to have been given a Bendec instance`)
    }
    return this.bendec
  }
}

module.exports = { Pool }
