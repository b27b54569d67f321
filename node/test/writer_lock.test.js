'use strict'
// One writer per log, enforced by the C++ core's lock: a second writer is
// refused, whether ours (same process, another node process) or a foreign
// one (the C++ `shmio append`), with an error naming the file and holder;
// the lock goes with close() and with the holder's death.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('path')
const { SharedMemory, Pool, createSharedLog } = require('..')
const { logPath, runNode, run, cli, deferred } = require('./helpers')

const HOLDER = path.join(__dirname, 'programs', 'hold_writer.js')
const refused = err => err.code === 'ERR_SHM_FAILED_PRECONDITION' && /writer/i.test(err.message)

test('a second writer in the same process is refused, and the first one goes on writing', () => {
  const file = logPath('same-process')
  const first = new SharedMemory({ path: file, capacity: 65536, writable: true })
  const pool = new Pool(null, first)
  assert.throws(() => new SharedMemory({ path: file, capacity: 65536, writable: true }),
    err => refused(err) && err.message.includes(file) && err.message.includes(String(process.pid)))
  assert.throws(() => createSharedLog({ path: file, capacityBytes: 65536, writable: true }), refused)
  assert.throws(() => new Pool(null, first), /Pool|writer/, 'one Pool per SharedMemory')
  pool.sliceSize(3).write('yes')
  pool.commit()
  first.close()
  const again = new SharedMemory({ path: file, writable: true })  // the lock went with close()
  again.close()
})

test('a writer in another node process holds the lock; ours is refused until it exits', async () => {
  const file = logPath('other-process')
  const holding = deferred()
  const holder = runNode(HOLDER, [file], { onLine: line => line === 'holding' && holding.resolve() })
  await holding.promise
  assert.throws(() => new SharedMemory({ path: file, writable: true }),
    err => refused(err) && err.message.includes(String(holder.child.pid)))
  holder.child.kill('SIGKILL')  // a writer that dies never wedges the log
  await holder
  const after = new SharedMemory({ path: file, writable: true })
  after.close()
})

test('a foreign writer (shmio append, C++) is refused while we write, and refuses us while it writes', async () => {
  const file = logPath('foreign')
  const shm = new SharedMemory({ path: file, capacity: 65536, writable: true })
  const cpp = await run(cli(), ['append', file, '--format=text'], { input: 'from c++\n' })
  assert.equal(cpp.code, 1)
  assert.match(cpp.stderr, new RegExp(`${file}.*writer|writer.*${file}`, 's'))
  shm.close()

  // Now the C++ writer holds the file (it waits on its stdin).
  const cppWriter = run(cli(), ['append', file, '--format=text'])
  const tried = deferred()
  // Ask another process to try, until the C++ writer has the lock: its
  // first committed line tells us it has opened the log.
  cppWriter.child.stdin.write('hello\n')
  const { SharedMemoryConsumer } = require('..')
  const reader = new SharedMemory({ path: file })
  const sub = new SharedMemoryConsumer(reader).getAll(5).subscribe(iterator => {
    for (const b of iterator) if (b.toString() === 'hello') tried.resolve()
  })
  await tried.promise
  sub.unsubscribe()
  const attempt = await runNode(HOLDER, [file, 'try'])
  const answer = JSON.parse(attempt.stdout)
  assert.equal(answer.code, 'ERR_SHM_FAILED_PRECONDITION')
  assert.ok(answer.message.includes(String(cppWriter.child.pid)), answer.message)
  cppWriter.child.stdin.end()
  assert.equal((await cppWriter).code, 0)
  reader.close()
})
