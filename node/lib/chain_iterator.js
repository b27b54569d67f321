'use strict'
// ChainIterator: createIterator() of a chain log (lib/chain_log.js), the
// 1.x iterator's calls over a C++ ChainConsumer, with chain positions as
// bigint cursors, seekToEnd/seekToBeginning, and a named reader's
// ack()/acked().
const { ChainWindow } = require('./chain_frames')
const { codedError } = require('./errors')
const { chainError, checkPosition, checkBatchLimits } = require('./chain_options')

class ChainIterator {
  // `chain` is the chain log's state ({native, path, debug, closed}).
  constructor(chain, native) {
    this._chain = chain
    this._native = native
    this._window = new ChainWindow(chain.path, chain.debug)
    this._closed = false
  }

  // The next frame as a Buffer, or null when nothing new is committed.
  next() {
    const frames = this.nextBatch({ maxMessages: 1 })
    return frames.length === 0 ? null : frames[0]
  }

  // Up to maxMessages frames (default 64) and maxBytes payload bytes
  // (default 256 KiB), all from one file of the chain; at least one frame
  // when one is committed, however large. [] when nothing new.
  // ERR_SHM_FRAMES_LOST when retention removed the frames at the cursor
  // (or the writer dropped this named reader): seek() on from
  // err.message's oldest position.
  nextBatch(options) {
    this._check()
    const { maxMessages, maxBytes } = checkBatchLimits(options)
    let batch
    try {
      batch = this._native.next(maxMessages, maxBytes)
    } catch (err) {
      throw chainError(err, 'read')
    }
    if (batch === null) return []
    this._window.use(batch[4])
    return this._window.frames(batch[0], batch[1], [])
  }

  // The position of the next frame (bigint).
  cursor() {
    this._check()
    return this._native.cursor()
  }

  // The committed end of the file being read, as a position (the chain's
  // end when that file is the last).
  committedSize() {
    this._check()
    try {
      return this._native.committed()
    } catch (err) {
      throw chainError(err, 'read')
    }
  }

  // Moves to `position` (bigint), a frame boundary between the oldest
  // frame still in the chain and the committed end (ERR_SHM_CURSOR).
  seek(position) {
    this._check()
    checkPosition(position, 'seek position')
    try {
      this._native.seek(position)
    } catch (err) {
      throw chainError(err, 'seek')
    }
  }

  seekToEnd() {
    this._check()
    try {
      this._native.seekToEnd()
    } catch (err) {
      throw chainError(err, 'seek')
    }
  }

  seekToBeginning() {
    this._check()
    try {
      this._native.seekToBeginning()
    } catch (err) {
      throw chainError(err, 'seek')
    }
  }

  // A named reader's acknowledgement: every frame before `position`
  // (default: the cursor) is done; the next reader with this name resumes
  // there, and retention may remove what is before it.
  ack(position) {
    this._check()
    if (position !== undefined) checkPosition(position, 'ack position')
    try {
      this._native.ack(position)
    } catch (err) {
      throw chainError(err, 'ack')
    }
  }

  // The name's last acknowledged position (bigint).
  acked() {
    this._check()
    return this._native.acked()
  }

  // The reader's name, or '' for a reader without one.
  get name() {
    this._check()
    return this._native.name()
  }

  // Ends the reader; a named reader's name is free again at once.
  close() {
    if (this._closed) return
    this._closed = true
    this._native.close()
  }

  _check() {
    if (this._closed) throw codedError('ShmIterator is closed', 'ERR_SHM_ITERATOR_CLOSED')
    if (this._chain.closed) {
      throw codedError(`Shared log ${this._chain.path} (a chain) is closed`, 'ERR_SHM_MAPPING_GONE')
    }
  }
}

module.exports = { ChainIterator }
