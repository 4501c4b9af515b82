#!/usr/bin/env bash
# The package as users get it: `npm pack` the main package (with the optionalDependencies
# that `napi pre-publish` writes at release) and the linux-x64-gnu package (npm/linux-x64-gnu
# with the built binary copied in, as `napi artifacts` does), install both into a fresh
# project in a temporary directory outside the repository — offline, with cargo and rustc
# off the PATH — and run there, from ESM and from CommonJS, a two-tier cache (L1 + a real
# redis-server this script starts on a free port). Needs `npm run build` first.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
platform_dir="$repo/npm/linux-x64-gnu"
binary="$repo/rustocache.linux-x64-gnu.node"
[[ -f "$binary" && -f "$repo/dist/index.js" && -f "$repo/dist/cjs/index.js" ]] \
  || { echo "pack_install_test: build first (npm run build)"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/rustocache-pack-XXXXXX")"
redis_pid=""
cleanup() {
  if [[ -n "$redis_pid" ]]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/packs" "$work/stage" "$work/app"

# The main package: packed from the repository (its "files" decide what ships), then given
# the optionalDependencies pre-publish would write (one per npm/<platform> package).
(cd "$repo" && npm pack --silent --pack-destination "$work/stage" >/dev/null)
tar -xzf "$work"/stage/rustocache-*.tgz -C "$work/stage"
node -e '
  const fs = require("node:fs"), path = require("node:path")
  const [manifestPath, npmDir] = process.argv.slice(1)
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"))
  manifest.optionalDependencies = {}
  for (const dir of fs.readdirSync(npmDir).sort()) {
    const platform = JSON.parse(fs.readFileSync(path.join(npmDir, dir, "package.json"), "utf8"))
    manifest.optionalDependencies[platform.name] = platform.version
  }
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2))
' "$work/stage/package/package.json" "$repo/npm"
if ls "$work"/stage/package/*.node >/dev/null 2>&1; then echo "pack_install_test: the main package must not ship a .node"; exit 1; fi
(cd "$work/stage/package" && npm pack --silent --pack-destination "$work/packs" >/dev/null)

# The platform package, with the binary in it.
cp -r "$platform_dir" "$work/stage/linux-x64-gnu"
cp "$binary" "$work/stage/linux-x64-gnu/"
(cd "$work/stage/linux-x64-gnu" && npm pack --silent --pack-destination "$work/packs" >/dev/null)
ls -l "$work/packs"

# A user's machine: no Rust toolchain on the PATH.
user_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  [[ -x "$dir/cargo" || -x "$dir/rustc" ]] && continue
  user_path="${user_path:+$user_path:}$dir"
done
if PATH="$user_path" command -v cargo >/dev/null || PATH="$user_path" command -v rustc >/dev/null; then
  echo "pack_install_test: could not take cargo/rustc off the PATH"; exit 1
fi

cd "$work/app"
printf '{ "name": "rustocache-user", "version": "1.0.0", "private": true }\n' >package.json
# Offline: the two tarballs are all it gets (the other platforms' optional packages are
# not fetched, as npm skips optional dependencies it cannot get).
PATH="$user_path" npm install --offline --no-audit --no-fund --loglevel=error \
  "$work"/packs/rustocache-0.1.0.tgz "$work"/packs/rustocache-linux-x64-gnu-0.1.0.tgz

port="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == "PONG" ]] && break
  sleep 0.05
done
[[ "$(redis-cli -p "$port" ping)" == "PONG" ]] || { cat "$work/redis.log"; exit 1; }
url="redis://127.0.0.1:$port"

cat >use.mjs <<'JS'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'
import { redisDriver } from 'rustocache/drivers/redis'
import { createRequire } from 'node:module'
import assert from 'node:assert/strict'

const bento = new BentoCache({
  default: 'main',
  stores: { main: bentostore().useL1Layer(memoryDriver({ maxItems: 1000 })).useL2Layer(redisDriver({ connection: process.argv[2] })) },
})
let runs = 0
const user = await bento.getOrSet({ key: 'user:1', factory: () => (runs++, { id: 1, name: 'ada' }), tags: ['users'] })
assert.deepEqual(user, { id: 1, name: 'ada' })
assert.deepEqual(await bento.getOrSet({ key: 'user:1', factory: () => (runs++, null) }), user)
assert.equal(runs, 1)
await bento.set({ key: 'written-by-esm', value: { from: 'esm' }, ttl: '1m' })
const stats = bento.getStats()
assert.equal(stats.hits, 1)
// The binary came from the platform package, not from anything in the repository.
const binary = createRequire(import.meta.url).resolve('rustocache-linux-x64-gnu')
assert.match(binary, /node_modules\/rustocache-linux-x64-gnu\/rustocache\.linux-x64-gnu\.node$/)
await bento.disconnectAll()
console.log('esm: getOrSet, L1 hit, set on L2; binary', binary)
JS

cat >use.cjs <<'JS'
const { BentoCache, bentostore } = require('rustocache')
const { memoryDriver } = require('rustocache/drivers/memory')
const { redisDriver } = require('rustocache/drivers/redis')
const assert = require('node:assert/strict')

async function main() {
  const bento = new BentoCache({
    default: 'main',
    stores: { main: bentostore().useL1Layer(memoryDriver()).useL2Layer(redisDriver({ connection: process.argv[2] })) },
  })
  // A new process, an empty L1: what the ESM process wrote comes from Redis.
  assert.deepEqual(await bento.get({ key: 'written-by-esm' }), { from: 'esm' })
  assert.equal(bento.getStats().l2.hits, 1)
  // And now from this process's L1.
  assert.deepEqual(await bento.get({ key: 'written-by-esm' }), { from: 'esm' })
  assert.equal(bento.getStats().l1.hits, 1)
  await bento.deleteByTag({ tags: ['users'] })
  assert.equal(await bento.get({ key: 'user:1' }), undefined)
  await bento.disconnectAll()
  console.log('cjs: read the ESM write through L2, then L1; deleteByTag')
}
main().catch((error) => { console.error(error); process.exit(1) })
JS

cat >tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": true, "types": [] }, "files": ["typed.ts"] }
JSON
cat >typed.ts <<'TS'
import { BentoCache, bentostore } from 'rustocache'
import { memoryDriver } from 'rustocache/drivers/memory'
const bento = new BentoCache({ default: 'm', stores: { m: bentostore().useL1Layer(memoryDriver()) } })
export const user: Promise<{ name: string }> = bento.getOrSet({ key: 'u', factory: () => ({ name: 'ada' }) })
TS

PATH="$user_path" node use.mjs "$url"
PATH="$user_path" node use.cjs "$url"
# The installed declarations, with the repository's compiler (the project has none).
PATH="$user_path" node "$repo/node_modules/typescript/bin/tsc" -p .
echo "pack_install_test: ok (installed $(du -sh node_modules | cut -f1) without a Rust toolchain)"
