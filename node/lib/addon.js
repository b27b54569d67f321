'use strict'
// Loads the native addon: SHMIO_ADDON (a path, as Bazel's tests set it),
// else the node-gyp build next to this package.
const path = require('path')

function load() {
  const candidates = []
  if (process.env.SHMIO_ADDON) candidates.push(path.resolve(process.env.SHMIO_ADDON))
  candidates.push(path.join(__dirname, '..', 'build', 'Release', 'shmio.node'))
  const failures = []
  for (const file of candidates) {
    try {
      return require(file)
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err
      failures.push(file)
    }
  }
  throw new Error(
    `shmio: the native addon is not built (looked for ${failures.join(', ')}); ` +
    'reinstall the package (npm install builds it with node-gyp) or set SHMIO_ADDON')
}

module.exports = load()
