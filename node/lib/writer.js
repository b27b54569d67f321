'use strict'
// LogWriter: the one writer of a MappedLog, shared by the original API's
// Pool and 1.x's writer. The C++ Pool does every append and every commit;
// this class only saves Node-API calls.
//
// Why: a Node-API call costs ~100-200 ns on the machines we measured, so
// one call per sliceSize() would cap writes far below the C++ core's
// speed. Instead, sliceSize() places the frame itself, right after the
// last one, when it can tell it fits (inside the file and, with a
// geometry, the original's segment rule: the same rule as the C++ Pool,
// which format.h states), and records its size. commit() then hands all
// recorded sizes (kept in the addon's memory, which this class writes
// through a Uint32Array) to the addon in one call, which runs Pool::SliceSize for
// each (it writes the frame's sizes and checks the frame again; it must
// land where this class put it) and then Pool::Commit(). Any frame this
// class cannot place for sure, and every frame under debug checks (whose
// per-frame checks run in SliceSize), goes to the C++ Pool at once, which
// also gives the errors ("Shared memory exhausted", ...).
//
// Readers see nothing of this: frames become visible only at the commit,
// exactly as before. getSize()/getStatus()/setActive() first hand over
// what is recorded.
const MAX_PAYLOAD = 65531

class LogWriter {
  constructor(log) {
    log.createPool()
    this.log = log
    this.native = log.native
    this.capacity = log.capacity
    this.geometry = log.geometry
    this.place = !log.debug
    const [, end] = this.native.size()
    this.position = end   // where the next frame starts
    this.handedOver = end // the C++ Pool's position
    this.sizes = this.native.pendingSizes()
    this.count = 0
    this.last = -1        // absolute offset of the last frame handed out
  }

  // Reserves a frame for `n` payload bytes (a checked integer); returns the
  // payload's absolute offset.
  slice(n) {
    const start = this.position
    const end = start + n + 4
    if (this.place && n <= MAX_PAYLOAD && this.fits(start, end)) {
      if (this.count === this.sizes.length) this.handOver()
      this.sizes[this.count++] = n
      this.position = end
      this.last = start
      return start + 2
    }
    this.handOver()
    const offset = this.native.slice(n)  // throws the core's error
    this.position = this.handedOver = offset + n + 2
    this.last = offset - 2
    return offset
  }

  commit() {
    this.send('commit')
  }

  // Appends what is recorded, without committing.
  handOver() {
    if (this.count !== 0) this.send('append')
  }

  // Hands the recorded frames to the addon's `method` (append or commit).
  send(method) {
    const count = this.count
    this.count = 0
    try {
      this.native[method](count, this.handedOver)
    } catch (err) {
      this.resync()
      throw err
    }
    this.handedOver = this.position
  }

  // After an error: continue where the C++ Pool is.
  resync() {
    const [, end] = this.native.size()
    this.position = this.handedOver = end
  }

  // The original's segment rule (format.h FitsSegmentRule), and the file.
  fits(start, end) {
    if (end > this.capacity) return false
    const g = this.geometry
    if (g === null) return true
    const k = Math.floor(start / g.size)
    const limit = k + 1 >= g.num ? g.num * g.size : (k + 1) * g.size + g.overlap
    return end <= limit
  }
}

module.exports = { LogWriter }
