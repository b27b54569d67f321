'use strict'
// SharedMemory: the original (0.3) API's mapped log,
//   new SharedMemory({path, size, num, overlap, writable})
// over the C++ core's SharedMemory. Beyond the original: `capacity` (one
// segment of that many bytes), `debugChecks`, `prefault`, and close().
const { MappedLog } = require('./mapped_log')
const { typeError, checkCount, describe, codedError } = require('./errors')

const COUNTS = ['size', 'num', 'overlap', 'capacity']
const FLAGS = ['writable', 'debugChecks', 'prefault']

// Checks the config's types and returns the addon's options.
function nativeOptions(config) {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw typeError(
      `SharedMemory(config): config must be an object {path, size, num, overlap, writable}, got ${describe(config)}`)
  }
  if (typeof config.path !== 'string' || config.path === '') {
    throw typeError(`SharedMemory: config.path must be a non-empty string, got ${describe(config.path)}`)
  }
  const options = { path: config.path }
  for (const key of COUNTS) {
    if (config[key] !== undefined) options[key] = checkCount(config[key], `SharedMemory: config.${key}`)
  }
  for (const key of FLAGS) {
    if (config[key] === undefined) continue
    if (typeof config[key] !== 'boolean') {
      throw typeError(`SharedMemory: config.${key} must be a boolean, got ${describe(config[key])}`)
    }
    options[key] = config[key]
  }
  if (config.chain !== undefined) options.chain = config.chain
  if (config.name !== undefined) options.name = config.name
  return options
}

class SharedMemory {
  constructor(config) {
    this._log = new MappedLog(nativeOptions(config))
    this._buffers = null
  }

  // Views of the segments, like the original's: zero-copy Buffers over the
  // mapping. They stay valid (readable, writable when the log is) while the
  // log is open; after close() they read zeros and never crash.
  getBuffers() {
    this._check('getBuffers')
    if (this._buffers === null) this._buffers = this._log.segmentBuffers()
    return this._buffers
  }

  // The configuration in force: the original's fields with the geometry
  // read from the file (a log with no geometry is one segment).
  getConfig() {
    this._check('getConfig')
    const log = this._log
    const g = log.geometry || { size: log.capacity, num: 1, overlap: 0 }
    return {
      path: log.path,
      size: g.size,
      num: g.num,
      overlap: g.overlap,
      writable: log.writable,
      capacity: log.capacity,
      debugChecks: log.debug,
    }
  }

  // Unmaps the file and closes it (a writer's lock goes with it). Buffers
  // already handed out stay safe to touch (they read zeros); every method
  // of this object, its Pool, consumers and iterators then throws
  // ERR_SHM_CLOSED. getAll() subscriptions on this object end (no more
  // values); they borrow the file until libuv has closed their handles, so
  // with one open, the file (and a writer's lock) goes in the close phase
  // of this loop turn rather than at once. Idempotent.
  close() {
    this._log.close()
  }

  _check(what) {
    if (this._log.closed) {
      throw codedError(`SharedMemory.${what}(): ${this._log.path} is closed`, 'ERR_SHM_CLOSED')
    }
  }
}

// The MappedLog of a SharedMemory, or a TypeError naming `who`.
function logOf(shm, who) {
  if (!(shm instanceof SharedMemory)) {
    throw typeError(`${who} needs a SharedMemory, got ${describe(shm)}`)
  }
  return shm._log
}

module.exports = { SharedMemory, logOf }
