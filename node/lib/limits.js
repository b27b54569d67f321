'use strict'
// 1.x's nextBatch limits, shared by single-file and chain iterators: the
// defaults and the check of a caller's { maxMessages, maxBytes }.
const { codedError, describe } = require('./errors')

const DEFAULT_MAX_MESSAGES = 64
const DEFAULT_MAX_BYTES = 256 * 1024
const MAX_U32 = 0xffffffff

function checkLimit(options, key, fallback) {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number') {
    throw codedError(`${key} must be a number, got ${describe(value)}`, 'ERR_SHM_CURSOR', TypeError)
  }
  if (!Number.isInteger(value) || value <= 0 || value > MAX_U32) {
    throw codedError(`${key} must be > 0 and <= 2^32-1, got ${value}`, 'ERR_SHM_CURSOR', RangeError)
  }
  return value
}

// nextBatch's options (undefined or null: the defaults) as
// { maxMessages, maxBytes }; a TypeError or RangeError with code
// ERR_SHM_CURSOR for anything else.
function checkBatchLimits(options) {
  if (options === undefined || options === null) {
    return { maxMessages: DEFAULT_MAX_MESSAGES, maxBytes: DEFAULT_MAX_BYTES }
  }
  if (typeof options !== 'object') {
    throw codedError('nextBatch options must be an object', 'ERR_SHM_CURSOR', TypeError)
  }
  return {
    maxMessages: checkLimit(options, 'maxMessages', DEFAULT_MAX_MESSAGES),
    maxBytes: checkLimit(options, 'maxBytes', DEFAULT_MAX_BYTES),
  }
}

module.exports = { DEFAULT_MAX_MESSAGES, DEFAULT_MAX_BYTES, checkBatchLimits }
