'use strict'
// Reading a chain batch's frames out of a window Buffer (a whole file of
// the chain, chain_window.h): the C++ ChainConsumer has validated the
// batch's frames already; JS walks them again over the window, checking
// each size (one compare) so that a file changed under it cannot make it
// read outside [from, to) of that file.
const { bufferMaker } = require('./fast_buffer')
const { codedError } = require('./errors')

// The window JS holds for one reader: the addon hands a new one only when
// a batch is in another file than the last (see chain_reader_binding.cc),
// so the last one must be kept.
class ChainWindow {
  constructor(directory, debug) {
    this.directory = directory
    this.debug = debug
    this.buffer = null
    this.over = null
  }

  // Takes the window the addon gave with a batch (undefined: the same file).
  use(window) {
    if (window !== undefined) {
      this.buffer = window
      this.over = bufferMaker(window)
    }
  }

  // The payloads of the frames [from, to) of the current window's file, as
  // zero-copy Buffers, pushed onto `out`.
  frames(from, to, out) {
    const b = this.buffer
    const debug = this.debug
    for (let pos = from; pos < to;) {
      const total = b[pos] | (b[pos + 1] << 8)
      const end = pos + total
      if (total < 4 || end > to || (debug && (b[end - 2] | (b[end - 1] << 8)) !== total)) {
        throw codedError(
          `shmio: the frame at offset ${pos} of a file of the chain ${this.directory} ` +
          `(size ${total}, batch ends at ${to}) changed after the C++ reader validated it`,
          'ERR_SHM_DATA_LOSS')
      }
      out.push(this.over(pos + 2, total - 4))
      pos = end
    }
    return out
  }
}

module.exports = { ChainWindow }
