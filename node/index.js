'use strict'
// shmio for Node.js: the original (0.3) API, upstream 1.x's createSharedLog,
// both over the shmio C++ core. See README.md.
const { SharedMemory } = require('./lib/shared_memory')
const { Pool } = require('./lib/pool')
const { SharedMemoryConsumer } = require('./lib/consumer')
const { SharedMemoryIterator } = require('./lib/iterator')
const { createSharedLog, DEFAULT_MAX_MESSAGES, DEFAULT_MAX_BYTES } = require('./lib/shared_log')
const { loopMetrics } = require('./lib/subscribe')

const ERROR_CODES = Object.freeze([
  'ERR_SHM_ITERATOR_CLOSED',
  'ERR_SHM_CURSOR',
  'ERR_SHM_FRAME_CORRUPT',
  'ERR_SHM_MAPPING_GONE',
])

// 1.x's type guard for its iterator errors.
function isShmIteratorError(error) {
  return typeof error === 'object' && error !== null && ERROR_CODES.includes(error.code)
}

module.exports = {
  SharedMemory,
  Pool,
  SharedMemoryConsumer,
  SharedMemoryIterator,
  createSharedLog,
  isShmIteratorError,
  DEFAULT_MAX_MESSAGES,
  DEFAULT_MAX_BYTES,
  loopMetrics,
}
