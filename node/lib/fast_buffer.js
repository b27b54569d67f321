'use strict'
// Zero-copy Buffers over a window of the mapping, one per frame.
//
// Buffer.from(arrayBuffer, byteOffset, length), with the window's
// ArrayBuffer looked up once, makes Node's own FastBuffer over the memory.
// The obvious spellings cost more per frame on the machines we measured
// (2 vCPUs, loaded): window.subarray() looks up the species constructor and
// goes through the Buffer() function (75-220 ns), window.slice() reads the
// window's .buffer getter each time (~50 ns of its ~175 ns); Buffer.from
// with a cached ArrayBuffer is ~100-150 ns. A subclass of Uint8Array with
// Buffer.prototype in its chain would be faster still (~55 ns), but its
// instances are not Buffers to assert.deepStrictEqual and other prototype
// checks, so frames stay real Buffers.

// A maker of Buffers over `window` (a Buffer): over(start, length).
function bufferMaker(window) {
  const arrayBuffer = window.buffer
  const base = window.byteOffset
  return (start, length) => Buffer.from(arrayBuffer, base + start, length)
}

module.exports = { bufferMaker }
