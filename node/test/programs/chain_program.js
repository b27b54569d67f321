'use strict'
// The other process of the chain tests (chain.test.js, named_reader.test.js):
//   hold-writer DIR          opens DIR as its chain writer, prints "holding",
//                            keeps it until stdin closes
//   try-writer DIR           tries to open DIR as a writer; prints the error
//                            as JSON, or "opened"
//   read-named DIR NAME N    reads N frames as the named reader NAME, acks
//                            after each, prints one JSON line per frame
//                            ({text, cursor}), then exits without closing
//   hold-reader DIR NAME     opens the named reader NAME, prints "holding",
//                            keeps it until stdin closes
const { createSharedLog } = require('../..')

const [mode, dir, name, count] = process.argv.slice(2)

function holdUntilStdinEnds(log) {
  console.log('holding')
  process.stdin.resume()
  process.stdin.on('end', () => log.close())
}

if (mode === 'hold-writer') {
  holdUntilStdinEnds(createSharedLog({ path: dir, chain: { fileCapacity: 4096 }, writable: true }))
} else if (mode === 'try-writer') {
  try {
    createSharedLog({ path: dir, chain: { fileCapacity: 4096 }, writable: true })
    console.log('opened')
  } catch (err) {
    console.log(JSON.stringify({ message: err.message, code: err.code }))
  }
} else if (mode === 'read-named') {
  const log = createSharedLog({ path: dir, chain: true })
  const it = log.createIterator({ name })
  for (let i = 0; i < Number(count); i++) {
    const frame = it.next()
    if (frame === null) break
    it.ack()
    console.log(JSON.stringify({ text: frame.toString(), cursor: String(it.cursor()) }))
  }
  process.exit(0)  // no close(): the name must be free once the process is gone
} else if (mode === 'hold-reader') {
  const log = createSharedLog({ path: dir, chain: true })
  log.createIterator({ name })
  holdUntilStdinEnds(log)
} else {
  console.error(`chain_program: unknown mode ${mode}`)
  process.exit(2)
}
