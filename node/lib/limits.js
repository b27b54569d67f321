'use strict'
// 1.x's nextBatch defaults, shared by single-file and chain iterators.
const DEFAULT_MAX_MESSAGES = 64
const DEFAULT_MAX_BYTES = 256 * 1024

module.exports = { DEFAULT_MAX_MESSAGES, DEFAULT_MAX_BYTES }
