'use strict'
// The native addon, for the ESM and the CommonJS builds alike (package.json maps `#native`
// here). `index.cjs` is napi-rs's generated loader: it picks the `.node` file next to it or
// the per-platform package (`rustocache-<platform>-<arch>[-<abi>]`, an optional dependency).
// When none fits this machine its error says neither the platform nor the package, so an
// error with both is made here, the loader's own messages kept as the cause. It is exported
// (`loadError`), not thrown: src/native.ts throws it. A CommonJS module that throws while an
// ES module graph imports it surfaces twice in Node 20, once as the import's rejection and
// once as an uncaught exception, so `try { await import('rustocache') }` could not catch it.
try {
  module.exports = require('./index.cjs')
} catch (error) {
  // Assigned onto `exports`, not as a new object, so that Node's static scan of this file
  // still finds the addon's names (re-exported from index.cjs) and an ES module's
  // `import { l1Create }` links; src/native.ts throws before anything uses them.
  exports.loadError = explainLoadFailure(error)
}

function explainLoadFailure(error) {
  const reasons = []
  for (let current = error; current; current = current.cause) {
    if (typeof current.message === 'string') reasons.push(current.message)
  }
  // The loader asks for the `.node` file and then the package; only our native packages
  // count (the WASI fallback it also tries is not published for RustoCache).
  const packages = new Set()
  for (const reason of reasons) {
    const wanted = /Cannot find module '(rustocache-[a-z0-9-]+)'/.exec(reason)
    if (wanted && !wanted[1].includes('wasm32')) packages.add(wanted[1])
  }
  const platform = `${process.platform}-${process.arch}${linuxLibc()}`
  const published = publishedPlatforms()
  const looked = [...packages]
  let message = `rustocache: no native addon could be loaded for this platform (${platform}).`
  if (looked.length > 0) {
    message += looked.length === 1
      ? ` It looked for the package ${looked[0]}, which is not installed.`
      : ` It looked for the packages ${looked.join(' and ')}; none is installed.`
  }
  if (published.length > 0) {
    const fits = looked.some((name) => published.includes(name.slice('rustocache-'.length)))
    message += fits
      ? ' npm installs it as an optional dependency of rustocache: reinstall without --omit=optional (or --no-optional).'
      : ` No binary is published for ${platform}; prebuilt: ${published.join(', ')}.`
  } else {
    message += ' In a source checkout, build it: npm run build.'
  }
  // Anything else the loader met (a binary that failed to open, an unknown OS) is kept.
  const other = reasons
    .map((reason) => reason.split('\n')[0])
    .filter((reason) => !reason.startsWith('Cannot find module') && !reason.startsWith('Cannot find native binding'))
  if (other.length > 0) message += ` Loader: ${other.join('; ')}`
  const explained = new Error(message)
  explained.code = 'E_NATIVE_ADDON_NOT_FOUND'
  explained.platform = platform
  explained.packages = looked
  explained.cause = error
  return explained
}

function linuxLibc() {
  if (process.platform !== 'linux') return ''
  try {
    const report = process.report && process.report.getReport()
    return report && report.header && report.header.glibcVersionRuntime ? '-gnu' : '-musl'
  } catch {
    return ''
  }
}

// The platforms this version was published for: the optional dependencies that
// `napi pre-publish` writes into package.json (none in a source checkout).
function publishedPlatforms() {
  try {
    const manifest = require('./package.json')
    return Object.keys(manifest.optionalDependencies || {})
      .filter((name) => name.startsWith(`${manifest.name}-`))
      .map((name) => name.slice(manifest.name.length + 1))
  } catch {
    return []
  }
}
