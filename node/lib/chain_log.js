'use strict'
// createSharedLog({path, chain, ...}): a chain of files in the directory
// `path` (the C++ core's chains: a log that never fills, README "Chains"),
// in the style of 1.x's shared log:
//   {chain: true, path, writer, createIterator, subscribe, info, close}
// Cursors are chain positions (bigints): the chain's first frame is at 0
// (or chain.firstPosition), and a position stays valid across rolls.
// Named readers (the `name` option of createIterator and subscribe) resume
// where the name last acknowledged and are protected from retention.
const addon = require('./addon')
const { ChainLogWriter } = require('./chain_writer')
const { ChainIterator } = require('./chain_iterator')
const { ChainWindow } = require('./chain_frames')
const { nativeSubscribeOptions } = require('./subscribe')
const { codedError, typeError } = require('./errors')
const {
  chainError, checkName, checkStart, checkPosition, nativeChainOptions,
} = require('./chain_options')

function checkObject(value, what) {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object') throw typeError(`${what} must be an object`)
  return value
}

function createChainLog(options) {
  const nativeOptions = nativeChainOptions(options)
  let native
  try {
    native = addon.openChain(nativeOptions)
  } catch (err) {
    throw chainError(err, 'chain')
  }
  const chain = { native, path: nativeOptions.directory, debug: nativeOptions.debugChecks === true, closed: false }
  const isOpen = () => {
    if (chain.closed) throw codedError(`Shared log ${chain.path} (a chain) is closed`, 'ERR_SHM_MAPPING_GONE')
  }
  let writer
  try {
    if (nativeOptions.writable) writer = new ChainLogWriter(chain)
  } catch (err) {
    native.close()
    throw chainError(err, 'chain')
  }
  return {
    chain: true,
    path: chain.path,
    writer,
    // {directory, writable, debugChecks} and, for the writer, the chain's
    // settings (fileCapacity, retainFiles, ...).
    info() {
      isOpen()
      return native.info()
    },
    // options: {startCursor (bigint) | start: 'beginning'|'end', name}. A
    // named reader starts where its name last acknowledged (startCursor or
    // start only the first time the name is used); a second live reader
    // with the name is refused naming its pid.
    createIterator(iteratorOptions) {
      const o = checkObject(iteratorOptions, 'createIterator options')
      isOpen()
      const name = checkName(o.name, 'createIterator: name')
      const { start, position } = checkStart(o, 'createIterator')
      try {
        return new ChainIterator(chain, native.openReader(name, start, position))
      } catch (err) {
        throw chainError(err, 'reader')
      }
    },
    // Calls onFrames(frames, cursor) with each batch of new frames (one
    // file's) and the position after them, on this thread's event loop,
    // following the chain across its files (woken by the writer's doorbell,
    // or polled). options: {startCursor | start, name, autoAck (default
    // true: each batch is acknowledged once onFrames returns), mode,
    // pollIntervalMs, safetyIntervalMs, maxMessages, maxBytes, onError}.
    // Returns {close(), mode(), cursor(), ack(position?)}; close() returns
    // a Promise that resolves once the subscription's handles are closed
    // (a loop turn later), when its name is free for another reader.
    subscribe(onFrames, subscribeOptions) {
      if (typeof onFrames !== 'function') throw typeError('subscribe(onFrames) expects a function')
      const o = checkObject(subscribeOptions, 'subscribe options')
      isOpen()
      const { startCursor, start: startOption, name, autoAck, maxMessages, onError, ...rest } = o
      if (onError !== undefined && typeof onError !== 'function') throw typeError('options.onError must be a function')
      if (autoAck !== undefined && typeof autoAck !== 'boolean') throw typeError('options.autoAck must be a boolean')
      const readerName = checkName(name, 'subscribe: name')
      if (autoAck !== undefined && readerName === '') throw typeError('options.autoAck needs options.name (only named readers acknowledge)')
      const { start, position } = checkStart({ startCursor, start: startOption }, 'subscribe')
      const n = nativeSubscribeOptions({ ...rest, cursor: position })
      if (maxMessages !== undefined) {
        n.maxFrames = nativeSubscribeOptions({ maxFrames: maxMessages }).maxFrames
      }
      n.start = start
      // Auto-ack is done here, not by uvwatch: Node runs the microtasks of
      // a callback before the callback returns to C++, so a subscription
      // closed by a promise that onFrames resolved would look to uvwatch
      // like one closed by its callback, and the batch would come again.
      // Here a batch is acknowledged once onFrames has returned without
      // throwing, unless onFrames itself called close().
      const jsAck = readerName !== '' && autoAck !== false
      if (readerName !== '') {
        n.readerName = readerName
        n.autoAck = false
      }
      const window = new ChainWindow(chain.path, chain.debug)
      const fail = err => {
        if (onError) onError(err)
        else throw err
      }
      let closing = false
      let closed = null  // close()'s Promise, made once
      let sub
      try {
        sub = addon.subscribeChain(native, n, (from, to, count, nextCursor, w) => {
          window.use(w)
          onFrames(window.frames(from, to, []), nextCursor)
          if (!jsAck || closing) return
          try {
            sub.ack(nextCursor)
          } catch (err) {
            closing = true
            sub.close()
            fail(chainError(err, 'ack'))
          }
        }, (message, code) => fail(chainError(codedError(message, code), 'read')))
      } catch (err) {
        throw chainError(err, 'reader')
      }
      return {
        close: () => {
          closing = true
          if (closed === null) closed = new Promise(resolve => sub.close(resolve))
          return closed
        },
        mode: () => sub.mode(),
        cursor: () => sub.cursor(),
        // A named subscription's acknowledgement, for autoAck: false:
        // every frame before `position` (default: the cursor) is done.
        ack(ackPosition) {
          const p = ackPosition === undefined ? sub.cursor() : checkPosition(ackPosition, 'ack position')
          try {
            sub.ack(p)
          } catch (err) {
            throw chainError(err, 'ack')
          }
        },
      }
    },
    // Drops the writer (and its locks), closes every iterator and
    // subscription of this log. Buffers handed out stay readable (each
    // keeps its file mapped until collected). Idempotent.
    close() {
      chain.closed = true
      native.close()
    },
  }
}

module.exports = { createChainLog }
