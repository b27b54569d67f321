'use strict'
// Opens argv[2] as its writer (original API), prints "holding", and keeps
// the writer open until stdin closes. With argv[3] == 'try', instead tries
// to open it as a writer and prints the error as JSON, or "opened".
const { SharedMemory } = require('../..')

if (process.argv[3] === 'try') {
  try {
    new SharedMemory({ path: process.argv[2], capacity: 65536, writable: true })
    console.log('opened')
  } catch (err) {
    console.log(JSON.stringify({ message: err.message, code: err.code }))
  }
} else {
  const shm = new SharedMemory({ path: process.argv[2], capacity: 65536, writable: true })
  console.log('holding')
  process.stdin.resume()
  process.stdin.on('end', () => shm.close())
}
