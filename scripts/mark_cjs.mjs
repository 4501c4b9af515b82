// dist/cjs holds the CommonJS build. The root package is "type": "module", so dist/cjs needs
// a package.json saying "commonjs"; that file becomes the package scope of dist/cjs, so it
// must also map `#native` (the addon), here to a forwarder to the root's native.cjs, whose
// declarations are napi-rs's generated index.d.ts (copied: a .d.cts beside the forwarder).
import { copyFileSync, writeFileSync } from 'node:fs'

const manifest = { type: 'commonjs', imports: { '#native': './native.cjs' } }
writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), `${JSON.stringify(manifest, null, 2)}\n`)
writeFileSync(
  new URL('../dist/cjs/native.cjs', import.meta.url),
  "'use strict'\n// The addon, loaded once for both builds by the package root's native.cjs.\nmodule.exports = require('../../native.cjs')\n",
)
copyFileSync(new URL('../index.d.ts', import.meta.url), new URL('../dist/cjs/native.d.cts', import.meta.url))
