// A redis-server for the benchmarks that need one: started from PATH on a free loopback port,
// with `--save '' --appendonly no`, answered PING before it is used, and killed however the
// process ends (the JS counterpart of __test__/support/redis_server.ts, without its chaos
// controls).
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import os from 'node:os'

/** Whether `redis-server` is on PATH. */
export function redisAvailable() {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  return found.status === 0 && found.stdout.trim() !== ''
}

/** A free TCP port on 127.0.0.1 (free when asked; redis-server binds it soon after). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Whether a redis-server on `port` answers PING, over a raw socket. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

const live = new Set()
let hooked = false
function killAll() {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}
function hook() {
  if (hooked) return
  hooked = true
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      killAll()
      process.exit(128 + os.constants.signals[signal])
    })
  }
}

/** Starts a redis-server; resolves to `{ port, url, stop() }` once it answers PING. */
export async function startRedis() {
  hook()
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning']
  const child = spawn('redis-server', args, { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  let spawnError
  child.on('error', (error) => (spawnError = error))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
      await exited
      clearTimeout(timer)
    }
    live.delete(child)
  }
  const deadline = Date.now() + 10_000
  for (;;) {
    if (spawnError) throw new Error(`could not start redis-server: ${spawnError.message}`)
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${output}`)
    if (await ping(port)) return { port, url: `redis://127.0.0.1:${port}`, stop, kill: () => child.kill('SIGKILL') }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`redis-server did not answer PING on port ${port}: ${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
