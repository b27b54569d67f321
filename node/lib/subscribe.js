'use strict'
// subscribe(): a uvwatch subscription on this thread's loop, shared by
// getAll() and the 1.x-style log.subscribe(). Options are checked here;
// the native side checks them again.
const addon = require('./addon')
const { typeError, checkCount, codedError, describe } = require('./errors')

const MODES = ['auto', 'timer', 'inotify']

function nativeSubscribeOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw typeError(`shmio: subscription options must be an object, got ${describe(options)}`)
  }
  const out = {}
  if (options.mode !== undefined) {
    if (!MODES.includes(options.mode)) {
      throw typeError(`shmio: options.mode must be one of ${MODES.join(', ')}, got ${describe(options.mode)}`)
    }
    out.mode = options.mode
  }
  for (const key of ['pollIntervalMs', 'safetyIntervalMs', 'maxFrames', 'maxBytes']) {
    if (options[key] === undefined) continue
    checkCount(options[key], `shmio: options.${key}`)
    if (options[key] === 0) throw codedError(`shmio: options.${key} must be > 0`, 'ERR_OUT_OF_RANGE', RangeError)
    out[key] = options[key]
  }
  if (options.cursor !== undefined) out.cursor = options.cursor
  return out
}

// Calls onBatch(from, to) (options: from nativeSubscribeOptions()) for each batch of frames [from, to) (absolute,
// validated by the C++ Consumer) and onError(err) once on an error, after
// which nothing more comes. Returns the native Subscription.
function subscribe(log, options, onBatch, onError) {
  return addon.subscribe(log.native, options, onBatch,
    (message, code) => onError(codedError(message, code)))
}

module.exports = { subscribe, nativeSubscribeOptions, loopMetrics: addon.loopMetrics }
