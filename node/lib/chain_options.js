'use strict'
// The checks and error codes of chain logs (lib/chain_log.js): options
// type-checked here with messages naming the option; the C++ core checks
// their values again (sizes, names) and its errors name the directory.
const { codedError, recode, typeError, rangeError, describe } = require('./errors')
const { checkBatchLimits } = require('./limits')

const MAX_U64 = (1n << 64n) - 1n
// Node's Buffer limit: a chain file is read through one Buffer.
const MAX_FILE_CAPACITY = 2 ** 32

// The options of `chain: {...}`: counts, then flags.
const CHAIN_COUNTS = ['fileCapacity', 'retainFiles', 'retainBytes', 'retainSeconds', 'maxReaderLag']
const CHAIN_FLAGS = ['dropSlowReaders', 'prefault']

// The addon's codes as a chain log's callers get them: 1.x's where 1.x has
// one; an OutOfRange while reading is frames the reader can no longer get
// (retention removed them, or the writer dropped this named reader).
function chainError(err, what) {
  const codes = {
    ERR_SHM_CLOSED: 'ERR_SHM_MAPPING_GONE',
    ERR_SHM_DATA_LOSS: 'ERR_SHM_FRAME_CORRUPT',
    ERR_SHM_OUT_OF_RANGE: what === 'read' ? 'ERR_SHM_FRAMES_LOST' : 'ERR_SHM_CURSOR',
  }
  // A reader's start or a seek/ack off a frame boundary is a cursor error
  // (1.x's); a chain's bad options ('chain') keep ERR_SHM_INVALID_ARGUMENT.
  if (what === 'seek' || what === 'ack' || what === 'reader') codes.ERR_SHM_INVALID_ARGUMENT = 'ERR_SHM_CURSOR'
  // A start position retention removed is a cursor error too.
  if (what === 'reader') codes.ERR_SHM_OUT_OF_RANGE = 'ERR_SHM_CURSOR'
  return recode(err, codes)
}

// A chain position: a bigint in [0, 2^64).
function checkPosition(value, what) {
  if (typeof value !== 'bigint') {
    throw codedError(`${what} must be a BigInt (a chain position), got ${describe(value)}`,
      'ERR_SHM_CURSOR', TypeError)
  }
  if (value < 0n || value > MAX_U64) {
    throw codedError(`${what} ${value} is not a chain position (0 to 2^64-1)`, 'ERR_SHM_CURSOR', RangeError)
  }
  return value
}

function checkName(value, what) {
  if (value === undefined) return ''
  if (typeof value !== 'string' || value === '') {
    throw typeError(`${what} must be a non-empty string (1 to 64 of A-Z a-z 0-9 . _ -), got ${describe(value)}`)
  }
  return value
}

// Where a reader starts: {start: 'beginning'|'end'} or {startCursor}
// (a position; wins over start). For a named reader, only the first time
// the name is used; after that it resumes at its acknowledged position.
function checkStart(options, what) {
  if (options.startCursor !== undefined) {
    if (options.start !== undefined && options.start !== 'position') {
      throw typeError(`${what}: give startCursor or start, not both`)
    }
    return { start: 'position', position: checkPosition(options.startCursor, `${what}: startCursor`) }
  }
  const start = options.start === undefined ? 'beginning' : options.start
  if (start !== 'beginning' && start !== 'end') {
    throw typeError(`${what}: start must be 'beginning' or 'end' (or give startCursor), got ${describe(start)}`)
  }
  return { start, position: 0n }
}

// createSharedLog({path, chain, writable, debugChecks}) with `chain` true
// or {fileCapacity, retainFiles, retainBytes, retainSeconds, maxReaderLag,
// dropSlowReaders, firstPosition, prefault}: the addon's openChain options.
function nativeChainOptions(options) {
  const chain = options.chain === true ? {} : options.chain
  if (chain === null || typeof chain !== 'object' || Array.isArray(chain)) {
    throw typeError(`options.chain must be true or an object {fileCapacity, retainFiles, ...}, got ${describe(options.chain)}`)
  }
  if (typeof options.path !== 'string' || options.path === '') {
    throw typeError(`options.path must be a non-empty string (the chain's directory), got ${describe(options.path)}`)
  }
  const out = { directory: options.path }
  for (const key of ['writable', 'debugChecks']) {
    if (options[key] === undefined) continue
    if (typeof options[key] !== 'boolean') throw typeError(`options.${key} must be a boolean, got ${describe(options[key])}`)
    out[key] = options[key]
  }
  if (options.capacityBytes !== undefined) {
    throw typeError(`options.capacityBytes is for one file; a chain takes options.chain.fileCapacity`)
  }
  for (const key of CHAIN_COUNTS) {
    const value = chain[key]
    if (value === undefined) continue
    if (typeof value !== 'number') throw typeError(`options.chain.${key} must be a number, got ${describe(value)}`)
    if (!Number.isSafeInteger(value) || value < 0) {
      throw rangeError(`options.chain.${key} must be a non-negative integer, got ${value}`)
    }
    out[key] = value
  }
  if (out.fileCapacity !== undefined && out.fileCapacity > MAX_FILE_CAPACITY) {
    throw rangeError(`options.chain.fileCapacity ${out.fileCapacity} for ${options.path} is more than ` +
      `one Node.js Buffer can cover (${MAX_FILE_CAPACITY} bytes)`)
  }
  for (const key of CHAIN_FLAGS) {
    if (chain[key] === undefined) continue
    if (typeof chain[key] !== 'boolean') throw typeError(`options.chain.${key} must be a boolean, got ${describe(chain[key])}`)
    out[key] = chain[key]
  }
  if (chain.firstPosition !== undefined) {
    out.firstPosition = checkPosition(chain.firstPosition, 'options.chain.firstPosition')
  }
  for (const key of Object.keys(chain)) {
    if (!CHAIN_COUNTS.includes(key) && !CHAIN_FLAGS.includes(key) && key !== 'firstPosition') {
      throw typeError(`options.chain.${key} is not a chain option (${CHAIN_COUNTS.concat(CHAIN_FLAGS, 'firstPosition').join(', ')})`)
    }
  }
  // A writer makes the chain when it is missing; fileCapacity is then
  // required (the core says so, naming the directory).
  if (out.writable) out.create = true
  return out
}

module.exports = {
  chainError, checkPosition, checkBatchLimits, checkName, checkStart, nativeChainOptions,
}
