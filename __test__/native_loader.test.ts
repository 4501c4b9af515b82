/**
 * Loading the addon where no binary fits: the error names the platform and the package the
 * loader looked for. Each case is a child node process whose process.platform/arch are faked
 * before native.cjs (and through it napi-rs's generated index.cjs) is required.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The error (message, code, platform, packages) that loading `dir/native.cjs` gives as `platform`/`arch`. */
function loadAs(dir: string, platform: string, arch: string) {
  const script = `
    Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })
    Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })
    try {
      // As src/native.ts does: native.cjs exports its load failure, and the facade throws it.
      const binding = require(${JSON.stringify(join(dir, 'native.cjs'))})
      if (binding.loadError) throw binding.loadError
      console.log(JSON.stringify({ loaded: true }))
    } catch (error) {
      console.log(JSON.stringify({ message: error.message, code: error.code, platform: error.platform, packages: error.packages }))
    }`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
}

describe('the native loader in a source checkout', () => {
  // The package names without the libc suffix (gnu or musl, by the loader's own check);
  // the machine's own platform is left out: its binary is here and loads.
  const elsewhere = [
    ['darwin', 'arm64', 'rustocache-darwin-arm64'],
    ['darwin', 'x64', 'rustocache-darwin-x64'],
    ['win32', 'x64', 'rustocache-win32-x64-msvc'],
    ['linux', 'arm64', 'rustocache-linux-arm64-'],
    ['linux', 'x64', 'rustocache-linux-x64-'],
  ].filter(([platform, arch]) => platform !== process.platform || arch !== process.arch)

  it.each(elsewhere)('on %s %s names the platform and the package it looked for', (platform, arch, packageName) => {
    const failure = loadAs(ROOT, platform, arch)
    expect(failure.code).toBe('E_NATIVE_ADDON_NOT_FOUND')
    expect(failure.platform.startsWith(`${platform}-${arch}`)).toBe(true)
    const looked: string[] = failure.packages.filter((name: string) => name.startsWith(packageName))
    expect(looked).toHaveLength(1)
    expect(failure.message).toContain(`(${failure.platform})`)
    expect(failure.message).toContain(looked[0])
  })

  it('on an OS napi-rs has no binary name for, says so', () => {
    const failure = loadAs(ROOT, 'aix', 'ppc64')
    expect(failure.message).toContain('(aix-ppc64)')
    expect(failure.message).toContain('Unsupported OS: aix')
  })

  it('reaches ESM and CommonJS users of the package alike', () => {
    const fake = `Object.defineProperty(process, 'platform', { value: 'darwin' }); Object.defineProperty(process, 'arch', { value: 'arm64' });`
    const report = `console.log(JSON.stringify({ code: error.code, message: error.message }))`
    const esm = `${fake} try { await import('rustocache') } catch (error) { ${report} }`
    const cjs = `${fake} try { require('rustocache/drivers/memory') } catch (error) { ${report} }`
    for (const [args, body] of [[['--input-type=module', '-e'], esm], [['-e'], cjs]] as const) {
      const failure = JSON.parse(execFileSync(process.execPath, [...args, body], { cwd: ROOT, encoding: 'utf8' }))
      expect(failure.code).toBe('E_NATIVE_ADDON_NOT_FOUND')
      expect(failure.message).toContain('rustocache-darwin-arm64')
    }
  })

  it('loads on this machine', () => {
    expect(loadAs(ROOT, process.platform, process.arch)).toEqual({ loaded: true })
  })
})

describe('the native loader of a published package (optional dependencies listed, binary missing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rustocache-loader-'))
  copyFileSync(join(ROOT, 'native.cjs'), join(dir, 'native.cjs'))
  copyFileSync(join(ROOT, 'index.cjs'), join(dir, 'index.cjs'))
  const platforms = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']
  const optionalDependencies = Object.fromEntries(platforms.map((platform) => [`rustocache-${platform}`, '0.1.0']))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'rustocache', version: '0.1.0', optionalDependencies }))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('where a binary is published, tells to install the optional dependency', () => {
    const failure = loadAs(dir, 'darwin', 'arm64')
    expect(failure.message).toContain('rustocache-darwin-arm64')
    expect(failure.message).toContain('optional dependency')
  })

  it('on this machine without its package, names it', () => {
    const failure = loadAs(dir, process.platform, process.arch)
    expect(failure.code).toBe('E_NATIVE_ADDON_NOT_FOUND')
    expect(failure.message).toContain(`rustocache-${process.platform}-${process.arch}`)
  })

  it('where none is published, lists the platforms that are', () => {
    const failure = loadAs(dir, 'freebsd', 'x64')
    expect(failure.message).toContain('No binary is published for freebsd-x64')
    expect(failure.message).toContain('darwin-arm64')
  })
})
