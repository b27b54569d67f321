'use strict'
// index.d.ts passes `tsc --strict`, and a program using both APIs as their
// READMEs show type-checks against it.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')

const modules = process.env.SHMIO_NODE_MODULES || path.join(__dirname, '..', 'node_modules')

test('index.d.ts and a program using it compile with tsc --strict', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmio-types-'))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  for (const name of ['rxjs', '@types', 'bendec']) {
    fs.symlinkSync(path.join(modules, name), path.join(dir, 'node_modules', name))
  }
  fs.mkdirSync(path.join(dir, 'node_modules', 'shmio'))
  fs.copyFileSync(path.join(__dirname, '..', 'index.d.ts'), path.join(dir, 'node_modules', 'shmio', 'index.d.ts'))
  fs.writeFileSync(path.join(dir, 'node_modules', 'shmio', 'package.json'), '{"name":"shmio","types":"index.d.ts"}')
  fs.copyFileSync(path.join(__dirname, 'types_usage.ts'), path.join(dir, 'usage.ts'))
  const tsc = path.join(modules, 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '--strict', '--noEmit', '--target', 'es2020',
    '--module', 'commonjs', '--moduleResolution', 'node', '--types', 'node', 'usage.ts'],
  { cwd: dir, encoding: 'utf8' })
  fs.rmSync(dir, { recursive: true, force: true })
  assert.equal(result.status, 0, result.stdout + result.stderr)
})
