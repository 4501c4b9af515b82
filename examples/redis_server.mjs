// For the examples: the Redis at REDIS_URL, or else a redis-server of our own on a free
// loopback port (no disk, gone when stop() is called). kill() and restart() let the chaos
// example take it down and bring it back.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function redisForExample() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, own: false, stop: async () => {} }
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'rustocache-example-'))
  let child
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })
    child.once('error', (error) => {
      console.error(`cannot start redis-server (${error.message}); install it or set REDIS_URL`)
      process.exit(1)
    })
    await waitForPort(port)
  }
  const exited = () => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)))
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    own: true,
    /** SIGKILL: Redis vanishes as in a crash. */
    async kill() {
      child.kill('SIGKILL')
      await exited()
    },
    async restart() {
      await start()
    },
    async stop() {
      child.kill('SIGTERM')
      await exited()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.once('error', reject)
  })
}

async function waitForPort(port) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const ready = await new Promise((resolve) => {
      const socket = createConnection(port, '127.0.0.1', () => {
        socket.write('PING\r\n')
      })
      socket.once('data', (data) => {
        socket.destroy()
        resolve(data.toString().startsWith('+PONG'))
      })
      socket.once('error', () => resolve(false))
    })
    if (ready) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server did not answer on port ${port}`)
}
