'use strict'
// npm's install step: builds the addon with node-gyp from this repository's
// C++ sources. Offline: node-gyp would otherwise download Node's headers;
// when the running node's headers are installed (Debian/NodeSource's
// nodejs puts them in /usr/include/node), they are used instead
// (--nodedir). npm_config_nodedir, when set, wins.
const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  const header = path.join(prefix, 'include', 'node', 'node_version.h')
  if (!fs.existsSync(header)) return null
  const text = fs.readFileSync(header, 'utf8')
  const part = name => (text.match(new RegExp(`#define ${name} (\\d+)`)) || [])[1]
  const version = `v${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}`
  return version === process.version ? prefix : null
}

// npm sets npm_config_node_gyp to its bundled node-gyp for lifecycle scripts.
const gyp = process.env.npm_config_node_gyp
const args = ['rebuild']
const dir = nodedir()
if (dir) args.push(`--nodedir=${dir}`)
const command = gyp ? process.execPath : 'node-gyp'
const argv = gyp ? [gyp, ...args] : args
const result = spawnSync(command, argv, { stdio: 'inherit', cwd: path.join(__dirname, '..') })
if (result.error) {
  console.error(`shmio: could not run node-gyp (${result.error.message}); install it or run npm install through npm`)
  process.exit(1)
}
if (result.status !== 0) process.exit(result.status === null ? 1 : result.status)
// Node-API and libuv symbols resolve only at load time, so a source file
// missing from the build would show only here: load the addon once.
try {
  require(path.join(__dirname, '..', 'build', 'Release', 'shmio.node'))
} catch (err) {
  console.error(`shmio: the addon was built but does not load: ${err.message}`)
  process.exit(1)
}
