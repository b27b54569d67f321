'use strict'
// Errors with a `code`, in the shape Node's own errors have.

function codedError(message, code, Type = Error) {
  const err = new Type(message)
  err.code = code
  return err
}

// Returns `err` with its code replaced through `codes` (a map from the
// addon's codes to an API's own, e.g. upstream 1.x's ERR_SHM_*), or `err`
// unchanged when its code has no entry.
function recode(err, codes) {
  if (err && typeof err === 'object' && Object.prototype.hasOwnProperty.call(codes, err.code)) {
    err.code = codes[err.code]
  }
  return err
}

function typeError(message) {
  return codedError(message, 'ERR_INVALID_ARG_TYPE', TypeError)
}

function rangeError(message) {
  return codedError(message, 'ERR_OUT_OF_RANGE', RangeError)
}

// Checks that `value` is a non-negative safe integer; `what` names it.
function checkCount(value, what) {
  if (typeof value !== 'number') throw typeError(`${what} must be a number, got ${describe(value)}`)
  if (!Number.isSafeInteger(value) || value < 0) {
    throw rangeError(`${what} must be a non-negative integer, got ${value}`)
  }
  return value
}

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}

module.exports = { codedError, recode, typeError, rangeError, checkCount, describe }
