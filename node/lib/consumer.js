'use strict'
// SharedMemoryConsumer: the original's reader, getData(from?) and
// getAll(pollInterval?), the latter an RxJS Observable of iterables of
// Buffers driven by a uvwatch subscription on this thread's event loop.
const { logOf } = require('./shared_memory')
const { validatedIterator, SharedMemoryIterator } = require('./iterator')
const { subscribe, nativeSubscribeOptions } = require('./subscribe')
const { checkCount, codedError } = require('./errors')

// rxjs is a peer dependency, loaded only by getAll().
function loadRxjs() {
  try {
    return require('rxjs')
  } catch (err) {
    throw codedError(
      'SharedMemoryConsumer.getAll() needs the package rxjs (a peer dependency): npm install rxjs',
      'ERR_SHM_NO_RXJS')
  }
}

class SharedMemoryConsumer {
  constructor(sharedMemory) {
    this._shm = sharedMemory
    this._log = logOf(sharedMemory, 'SharedMemoryConsumer(sharedMemory)')
  }

  // The frames from `fromIndex` (default: the first frame; otherwise a
  // frame boundary, checked) up to the committed value now.
  getData(fromIndex) {
    const log = this._log
    this._check('getData')
    const committed = log.committed()
    if (fromIndex === undefined) return validatedIterator(log, log.dataOffset, committed)
    return new SharedMemoryIterator(this._shm, fromIndex, committed)
  }

  // Every frame, past and future: the first value (at subscribe time) is an
  // iterator over what is committed, then one per batch of new frames.
  // Woken by the writer's doorbell in inotify mode (files created by shmio
  // C++), polled every `pollInterval` ms otherwise (files written by the
  // original library, which never rings). `options`: {mode: 'auto' |
  // 'timer' | 'inotify', safetyIntervalMs, maxFrames, maxBytes}.
  getAll(pollInterval = 10, options = {}) {
    this._check('getAll')
    checkCount(pollInterval, 'SharedMemoryConsumer.getAll(pollInterval): pollInterval')
    const checked = nativeSubscribeOptions({ ...options, pollIntervalMs: pollInterval })
    const { Observable } = loadRxjs()
    const log = this._log
    return new Observable(subscriber => {
      let sub = null
      try {
        this._check('getAll')
        const committed = log.committed()
        subscriber.next(validatedIterator(log, log.dataOffset, committed))
        if (subscriber.closed) return undefined
        sub = subscribe(log, { ...checked, cursor: committed },
          (from, to) => subscriber.next(validatedIterator(log, from, to)),
          err => subscriber.error(err))
      } catch (err) {
        subscriber.error(err)
        return undefined
      }
      return () => sub.close()
    })
  }

  _check(what) {
    if (this._log.closed) {
      throw codedError(`SharedMemoryConsumer.${what}(): ${this._log.path} is closed`, 'ERR_SHM_CLOSED')
    }
  }
}

module.exports = { SharedMemoryConsumer }
