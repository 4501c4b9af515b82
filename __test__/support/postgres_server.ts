/**
 * A real PostgreSQL server for the tests, from Debian's packages (`postgresql`): a fresh
 * cluster made by `initdb` in a temporary directory, listening on a free loopback port with
 * trust authentication, stopped and removed by `stop()` (and when this process exits).
 * PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './redis_server.js'

export interface PostgresServer {
  host: '127.0.0.1'
  port: number
  /** knex / pg connection settings: the `postgres` database as the `postgres` user. */
  connection: { host: string; port: number; user: string; database: string }
  stop(): Promise<void>
}

/** The directory of Debian's PostgreSQL binaries (the newest installed), or `undefined`. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined
}

/**
 * `command` as the `postgres` user when we are root, as ourselves otherwise. `setpriv`
 * execs the command itself (no parent process in between), so a signal sent to the child
 * reaches postgres.
 */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args]
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--reset-env', '--', command, ...args]]
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const running = new Set<ChildProcess>()
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')))

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir()
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql); .ci/run installs it')
  const dir = mkdtempSync(join(tmpdir(), 'rustocache-pg-'))
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()))
  const data = join(dir, 'data')
  const [initdb, initArgs] = asServerUser(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  execFileSync(initdb, initArgs, { stdio: 'pipe' })
  const port = await freePort()
  const [postgres, args] = asServerUser(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
  ])
  const child = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  running.add(child)
  let output = ''
  child.stderr!.on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + 20_000
  // Accepting TCP is not enough: the server may still be starting up; wait for its log.
  while (!(output.includes('ready to accept connections') && (await accepts(port)))) {
    if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${output}`)
    if (Date.now() > deadline) throw new Error(`postgres did not start on port ${port}: ${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    host: '127.0.0.1',
    port,
    connection: { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGINT') // fast shutdown
        await exited
      }
      running.delete(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
