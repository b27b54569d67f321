'use strict'
// SharedMemoryIterator: the original's iterator over the frames in
// [from, to) (absolute offsets), yielding zero-copy Buffers of payloads.
const { logOf } = require('./shared_memory')
const { checkCount, codedError } = require('./errors')

const DONE = Object.freeze({ value: undefined, done: true })

class SharedMemoryIterator {
  // `from` must be a frame boundary and `to` a frame boundary at or below
  // the committed value; both are checked (errors: ERR_SHM_OUT_OF_RANGE,
  // ERR_SHM_INVALID_ARGUMENT naming the offset).
  constructor(sharedMemory, fromIndex, toIndex) {
    const log = logOf(sharedMemory, 'SharedMemoryIterator(sharedMemory, fromIndex, toIndex)')
    checkCount(fromIndex, 'SharedMemoryIterator: fromIndex')
    checkCount(toIndex, 'SharedMemoryIterator: toIndex')
    if (fromIndex > toIndex) {
      throw codedError(`SharedMemoryIterator: fromIndex ${fromIndex} is after toIndex ${toIndex}`,
        'ERR_SHM_OUT_OF_RANGE', RangeError)
    }
    if (log.closed) throw codedError(`SharedMemoryIterator: ${log.path} is closed`, 'ERR_SHM_CLOSED')
    log.committed()
    // 0 is the beginning, wherever the header puts the first frame (and
    // an all-zero log has none: [0, 0)).
    const from = fromIndex === 0 ? log.dataOffset : fromIndex
    const to = toIndex === 0 ? log.dataOffset : toIndex
    log.native.checkCursor(to)
    log.native.checkCursor(from)
    init(this, log, from, to)
  }

  [Symbol.iterator]() {
    return this
  }

  next() {
    const pos = this._pos
    if (pos >= this._to) return DONE
    const b = this._buffer
    if (b !== null) {
      // One window: the hot path, inline.
      const total = b[pos] | (b[pos + 1] << 8)
      const end = pos + total
      if (total < 4 || end > this._to ||
          (this._debug && (b[end - 2] | (b[end - 1] << 8)) !== total)) {
        this._log.throwFrameError(pos, this._to, this._debug)
      }
      this._pos = end
      return { value: this._over(pos + 2, total - 4), done: false }
    }
    const end = this._log.frameEnd(pos, this._to, this._debug)
    this._pos = end
    return { value: this._log.bufferAt(pos + 2, end - pos - 4), done: false }
  }
}

function init(iterator, log, from, to) {
  iterator._log = log
  iterator._buffer = log.single
  iterator._over = log.over
  iterator._debug = log.debug
  iterator._pos = from
  iterator._to = to
}

// An iterator over [from, to) that the C++ Consumer has validated already
// (getData, getAll): no boundary walk.
function validatedIterator(log, from, to) {
  const iterator = Object.create(SharedMemoryIterator.prototype)
  init(iterator, log, from, to)
  return iterator
}

module.exports = { SharedMemoryIterator, validatedIterator }
