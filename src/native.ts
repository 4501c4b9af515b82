/**
 * The native addon, through native.cjs (package.json maps `#native` there). Every module of
 * the facade imports it from here. When no binary fits this machine, native.cjs exports the
 * error instead of the addon, and it is thrown here, from an ES module in the ESM build, so
 * that the importer can catch it (see native.cjs).
 */
import * as binding from '#native'

const failed = binding as { loadError?: Error; default?: { loadError?: Error } }
const loadError = failed.loadError ?? failed.default?.loadError
if (loadError) throw loadError

export * from '#native'
