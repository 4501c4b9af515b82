/**
 * Real Redis servers for the tests: one `redis-server`, or a small Redis Cluster, each on free
 * loopback ports in a fresh temporary directory, without persistence.
 *
 * Why: the L2 tier talks to Redis over the network, and what matters there (reconnecting after a
 * crash, a server that stops answering, keys spread over a cluster's nodes, MOVED replies) is
 * exactly what a mock gets wrong or leaves out. So the tests run against the real server —
 * Debian's `redis-server` and `redis-cli` on the PATH (packages redis-server and redis-tools;
 * `.ci/run` installs them) — and never against a mock. This file itself needs nothing but Node:
 * it speaks RESP2 over a raw socket, so it does not depend on the code under test.
 *
 * Use from a vitest file:
 *
 * ```ts
 * import { afterAll, beforeAll, expect, it } from 'vitest'
 * import { startRedis, type RedisServer } from './support/redis_server.js'
 *
 * let redis: RedisServer
 * beforeAll(async () => { redis = await startRedis() })
 * afterAll(async () => { await redis?.stop() })
 *
 * it('reads what it wrote', async () => {
 *   await redis.command('SET', 'k', 'v')            // give the code under test `redis.url`
 *   expect(await redis.command('GET', 'k')).toBe('v')
 * })
 * ```
 *
 * Or, for a whole file, `const redis = redisForSuite()`: the same, plus a FLUSHALL before each
 * test.
 *
 * Failures to simulate: `kill()` (a crash: SIGKILL), then `restart()` (same port, empty data);
 * `pause()`/`resume()` (SIGSTOP/SIGCONT: the server accepts connections but answers nothing).
 * `startRedisCluster()` gives a cluster of 3 masters (`afterAll(() => cluster.stop())`); its
 * `servers` are `RedisServer`s too, so one node can be killed or paused the same way.
 *
 * Nothing is left behind: every server still running when the process exits (or is ended by
 * SIGINT, SIGTERM or SIGHUP) is SIGKILLed and its directory removed; a small `sh` watchdog per
 * server does the same when this process dies without running any hook (SIGKILL).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach } from 'vitest'

/** A reply of Redis, as RESP2 gives it: simple and bulk strings, integers, nil, arrays. */
export type RespReply = string | number | null | RespReply[]

/** An error reply of Redis (`-ERR …`, `-MOVED …`): its message is Redis's text. */
export class RedisReplyError extends Error {
  override name = 'RedisReplyError'
}

/** One real `redis-server` process. */
export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** The current process's id (a new one after `restart()`). */
  readonly pid: number
  /** Its data directory (`--dir`), removed by `stop()`. */
  readonly dir: string
  /** SIGTERM, wait for the exit (SIGKILL after 5 s), remove the directory. Safe to repeat. */
  stop(): Promise<void>
  /** SIGKILL and wait for the exit: a crash. The directory stays, for `restart()`. */
  kill(): Promise<void>
  /** Start again on the same port and with the same arguments (stopping it first if it runs); wait for PING. */
  restart(): Promise<void>
  /** SIGSTOP: the kernel still accepts connections, the server answers nothing. */
  pause(): void
  /** SIGCONT. */
  resume(): void
  /** Sends one command on a fresh connection and resolves with the reply (10 s timeout). */
  command(...args: string[]): Promise<RespReply>
  /** `command`, rejecting when no complete reply came within `ms` ms. */
  commandWithTimeout(ms: number, ...args: string[]): Promise<RespReply>
}

/** A Redis Cluster of masters only, each a `redis-server` of its own. */
export interface RedisCluster {
  nodes: Array<{ host: '127.0.0.1'; port: number }>
  urls: string[]
  /** The nodes' servers, to kill, pause or restart one node. */
  servers: RedisServer[]
  /** Stops every node. Safe to repeat. */
  stop(): Promise<void>
  /** Sends one command to the node `nodeIndex` (no redirection is followed: MOVED rejects). */
  command(nodeIndex: number, ...args: string[]): Promise<RespReply>
}

export interface StartRedisOptions {
  /** More `redis-server` arguments, after (and so overriding) the harness's own. */
  args?: string[]
}

export interface StartRedisClusterOptions {
  /** Number of masters, at least 3 (Redis Cluster's minimum). Default 3. */
  masters?: number
}

const HOST = '127.0.0.1'
const PING_DEADLINE_MS = 10_000
const CLUSTER_DEADLINE_MS = 20_000
const STOP_GRACE_MS = 5_000
const COMMAND_TIMEOUT_MS = 10_000
const OUTPUT_TAIL_CHARS = 4_000

// ---------------------------------------------------------------------------------------------
// Nothing left behind
// ---------------------------------------------------------------------------------------------

/** Every server of this process whose `redis-server` may still run. */
const live = new Set<RedisProcess>()
let hooksInstalled = false

function killAllSync(): void {
  for (const server of live) server.killSync(true)
  live.clear()
}

function installHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllSync)
  // A signal ends Node without 'exit': kill the servers, then, when nobody else handles the
  // signal, let it end the process as it would have.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllSync()
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/** A port that was free on 127.0.0.1 a moment ago (bound on port 0, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo
      server.close((error) => (error ? reject(error) : resolve(port)))
    })
  })
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort()
    if (port + 10_000 <= 65_535 && (await isFree(port + 10_000))) return port
  }
  throw new Error('no free port p with p + 10000 free too (the cluster bus port) on 127.0.0.1')
}

// ---------------------------------------------------------------------------------------------
// RESP2
// ---------------------------------------------------------------------------------------------

function encodeCommand(args: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8')
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

type Parsed = { value: RespReply | RedisReplyError; next: number }

/** Parses one reply at `pos`; `undefined` while it is incomplete. An error reply is returned, not thrown. */
function parseReply(buf: Buffer, pos: number): Parsed | undefined {
  if (pos >= buf.length) return undefined
  const end = buf.indexOf('\r\n', pos)
  if (end === -1) return undefined
  const type = String.fromCharCode(buf[pos])
  const line = buf.toString('utf8', pos + 1, end)
  const next = end + 2
  switch (type) {
    case '+':
      return { value: line, next }
    case '-':
      return { value: new RedisReplyError(line), next }
    case ':': {
      const n = Number(line)
      if (!Number.isInteger(n)) throw new Error(`RESP: bad integer ${JSON.stringify(line)}`)
      return { value: n, next }
    }
    case '$': {
      const len = Number(line)
      if (!Number.isInteger(len) || len < -1) throw new Error(`RESP: bad bulk length ${JSON.stringify(line)}`)
      if (len === -1) return { value: null, next }
      if (buf.length < next + len + 2) return undefined
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 }
    }
    case '*': {
      const count = Number(line)
      if (!Number.isInteger(count) || count < -1) throw new Error(`RESP: bad array length ${JSON.stringify(line)}`)
      if (count === -1) return { value: null, next }
      const items: RespReply[] = []
      let at = next
      let error: RedisReplyError | undefined
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at)
        if (!item) return undefined
        if (item.value instanceof RedisReplyError) error ??= item.value
        else items.push(item.value)
        at = item.next
      }
      return { value: error ?? items, next: at }
    }
    default:
      throw new Error(`RESP: unexpected reply type ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('utf8', pos, end))}`)
  }
}

/**
 * Sends one command to `host:port` on a fresh connection and resolves with the reply. Rejects
 * with a `RedisReplyError` for an error reply (also one inside an array), with the socket's
 * error (ECONNREFUSED…) when it cannot connect, and after `timeoutMs` without a complete reply.
 */
export function sendCommand(port: number, args: string[], timeoutMs = COMMAND_TIMEOUT_MS, host = HOST): Promise<RespReply> {
  if (args.length === 0) return Promise.reject(new Error('sendCommand: no command'))
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0)
    let settled = false
    const socket = net.createConnection({ host, port })
    const settle = (error: Error | undefined, value?: RespReply) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(value as RespReply)
    }
    const timer = setTimeout(
      () => settle(new Error(`redis ${host}:${port}: no reply to ${args[0]} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.setNoDelay(true)
    socket.on('connect', () => socket.write(encodeCommand(args)))
    socket.on('data', (chunk) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk])
      let parsed: Parsed | undefined
      try {
        parsed = parseReply(received, 0)
      } catch (error) {
        return settle(error as Error)
      }
      if (!parsed) return
      if (parsed.value instanceof RedisReplyError) settle(parsed.value)
      else settle(undefined, parsed.value)
    })
    socket.on('error', (error) => settle(error))
    socket.on('close', () => settle(new Error(`redis ${host}:${port}: connection closed before a complete reply to ${args[0]}`)))
  })
}

// ---------------------------------------------------------------------------------------------
// One server
// ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Whether the process is gone, or never started (a failed spawn has no pid). */
function exited(child: ChildProcess): boolean {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit)
      resolve(false)
    }, ms)
    const onExit = () => {
      clearTimeout(timer)
      resolve(true)
    }
    child.once('exit', onExit)
  })
}

class RedisProcess implements RedisServer {
  readonly host = HOST
  private child: ChildProcess | undefined
  private output = ''
  private spawnError: Error | undefined
  private watchdog: ChildProcess | undefined

  constructor(
    public port: number,
    readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`
  }

  get pid(): number {
    return this.child?.pid ?? -1
  }

  private args(): string[] {
    return [
      '--save', '',
      '--appendonly', 'no',
      '--bind', HOST,
      '--port', String(this.port),
      '--daemonize', 'no',
      '--dir', this.dir,
      ...this.extraArgs,
    ]
  }

  private running(): boolean {
    return this.child !== undefined && !exited(this.child)
  }

  /** Spawns `redis-server` and waits until it answers PING; on failure it is killed and the error says why. */
  async launch(): Promise<void> {
    installHooks()
    mkdirSync(this.dir, { recursive: true })
    this.output = ''
    this.spawnError = undefined
    const child = spawn('redis-server', this.args(), { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    live.add(this)
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    child.on('error', (error) => {
      this.spawnError = error
    })
    child.on('exit', () => {
      if (this.child === child) live.delete(this)
    })
    await new Promise<void>((resolve) => {
      child.once('spawn', resolve)
      child.once('error', () => resolve())
    })
    if (child.pid !== undefined) this.guard(child.pid)
    // After an early exit, its last words may still be in the pipes: read them before reporting.
    const outputClosed = new Promise<void>((resolve) => {
      child.once('close', () => resolve())
      setTimeout(resolve, 1_000).unref()
    })

    const exitedEarly = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')))
    const deadline = Date.now() + PING_DEADLINE_MS
    let lastError = 'none yet'
    for (;;) {
      const spawnError = this.spawnError as NodeJS.ErrnoException | undefined // set by the 'error' listener
      if (spawnError) {
        live.delete(this)
        throw new Error(
          spawnError.code === 'ENOENT'
            ? 'redis-server is not on the PATH: install it (Debian: apt-get install -y redis-server)'
            : `redis-server could not be started: ${spawnError.message}`,
        )
      }
      if (exited(child)) {
        await outputClosed
        throw new Error(
          `redis-server on port ${this.port} exited (code ${child.exitCode}, signal ${child.signalCode}) before answering PING\n` +
            `--- its output (tail) ---\n${this.output}`,
        )
      }
      const left = deadline - Date.now()
      if (left <= 0) break
      try {
        // Raced with the exit: on a port someone else holds, PING may hang while the server is gone.
        const reply = await Promise.race([sendCommand(this.port, ['PING'], Math.min(1_000, left)), exitedEarly])
        if (exited(child)) continue
        if (reply === 'PONG') {
          // Ours, not a server that took the port first (ours then exits: address in use)?
          const info = String(await sendCommand(this.port, ['INFO', 'server'], Math.min(1_000, Math.max(1, deadline - Date.now()))))
          if (new RegExp(`^process_id:${child.pid}\\r?$`, 'm').test(info)) return
          lastError = `another server answers on port ${this.port}`
        } else {
          lastError = `unexpected reply ${JSON.stringify(reply)}`
        }
      } catch (error) {
        lastError = (error as Error).message
      }
      await sleep(25)
    }
    this.killSync(false)
    await waitForExit(child, STOP_GRACE_MS)
    live.delete(this)
    throw new Error(
      `redis-server on port ${this.port} did not answer PING within ${PING_DEADLINE_MS} ms (last: ${lastError})\n` +
        `--- its output (tail) ---\n${this.output}`,
    )
  }

  /**
   * A watchdog for the case no hook sees: this process killed by SIGKILL. A small `sh` reads
   * a pipe whose other end only this process holds; when this process dies, however it dies,
   * the read ends and the watchdog SIGKILLs the server and removes its directory. When the
   * server exits normally, the watchdog is SIGKILLed first.
   */
  private guard(pid: number): void {
    this.watchdog?.kill('SIGKILL')
    const script = 'trap "" INT TERM HUP; while read -r _; do :; done; kill -9 "$1" 2>/dev/null; rm -rf "$2"'
    const watchdog = spawn('sh', ['-c', script, 'redis-watchdog', String(pid), this.dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    watchdog.on('error', () => {}) // no sh: the exit hook still covers the ordinary cases
    watchdog.unref()
    ;(watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    this.watchdog = watchdog
    const server = this.child
    server?.once('exit', () => {
      if (this.watchdog === watchdog) this.watchdog = undefined
      watchdog.kill('SIGKILL')
    })
  }

  /** What the server printed lately (its log goes to stdout). */
  outputTail(): string {
    return this.output
  }

  /** SIGKILL without waiting (and, at exit, remove the directory). */
  killSync(removeDir: boolean): void {
    const child = this.child
    if (child && !exited(child)) {
      try {
        child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
    this.watchdog?.kill('SIGKILL')
    this.watchdog = undefined
    if (removeDir) {
      try {
        rmSync(this.dir, { recursive: true, force: true })
      } catch {
        // best effort at exit
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child
    if (child && !exited(child)) {
      // A stopped process keeps SIGTERM pending: let it run first.
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      if (!(await waitForExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL')
        await waitForExit(child, STOP_GRACE_MS)
      }
    }
    live.delete(this)
    rmSync(this.dir, { recursive: true, force: true })
  }

  async kill(): Promise<void> {
    const child = this.child
    if (!child || exited(child)) return
    child.kill('SIGKILL')
    await waitForExit(child, STOP_GRACE_MS)
    live.delete(this)
  }

  async restart(): Promise<void> {
    if (this.running()) {
      const child = this.child!
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      if (!(await waitForExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL')
        await waitForExit(child, STOP_GRACE_MS)
      }
    }
    await this.launch()
  }

  pause(): void {
    if (!this.running()) throw new Error(`redis-server on port ${this.port} is not running`)
    this.child!.kill('SIGSTOP')
  }

  resume(): void {
    if (!this.running()) throw new Error(`redis-server on port ${this.port} is not running`)
    this.child!.kill('SIGCONT')
  }

  command(...args: string[]): Promise<RespReply> {
    return sendCommand(this.port, args)
  }

  commandWithTimeout(ms: number, ...args: string[]): Promise<RespReply> {
    return sendCommand(this.port, args, ms)
  }
}

async function startOn(portOf: () => Promise<number>, args: string[], label: string): Promise<RedisProcess> {
  // Another process may take the port between our probe and redis-server's bind: try again then.
  const attempts = 5
  for (let attempt = 1; ; attempt++) {
    const port = await portOf()
    const dir = mkdtempSync(join(tmpdir(), `rustocache-${label}-`))
    const server = new RedisProcess(port, dir, args)
    try {
      await server.launch()
      return server
    } catch (error) {
      await server.stop()
      if (attempt >= attempts || !/Address already in use/i.test(server.outputTail())) throw error
    }
  }
}

/**
 * Starts a `redis-server` on a free loopback port, without persistence, in a fresh temporary
 * directory, and resolves once it answers PING. Call `stop()` when done (e.g. in `afterAll`).
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  return startOn(freePort, options.args ?? [], 'redis')
}

// ---------------------------------------------------------------------------------------------
// A cluster
// ---------------------------------------------------------------------------------------------

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code
        reject(
          code === 'ENOENT'
            ? new Error(`${file} is not on the PATH: install it (Debian: apt-get install -y redis-tools)`)
            : new Error(`${file} ${args.join(' ')} failed: ${error.message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`),
        )
      } else resolve({ stdout, stderr })
    })
    child.stdin?.end()
  })
}

/**
 * Starts `masters` (default 3) `redis-server`s in cluster mode, joins them into one cluster
 * with `redis-cli --cluster create … --cluster-yes` (no prompt), and resolves once every node
 * reports `cluster_state:ok`. Call `stop()` when done.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3
  if (!Number.isInteger(masters) || masters < 3) {
    throw new Error(`startRedisCluster: masters must be an integer of at least 3 (Redis Cluster's minimum), got ${masters}`)
  }
  await run('redis-cli', ['--version'], 10_000)

  const servers: RedisProcess[] = []
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()))
  }
  try {
    // One after another: a started node holds its port and its bus port, so the next probe
    // cannot hand either out again.
    for (let i = 0; i < masters; i++) {
      servers.push(
        await startOn(
          freeClusterPort,
          ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
          'redis-cluster',
        ),
      )
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...servers.map((s) => `${HOST}:${s.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      CLUSTER_DEADLINE_MS,
    )

    const deadline = Date.now() + CLUSTER_DEADLINE_MS
    for (;;) {
      const states = await Promise.all(
        servers.map(async (server) => {
          try {
            const info = String(await server.commandWithTimeout(1_000, 'CLUSTER', 'INFO'))
            return /^cluster_state:(\w+)/m.exec(info)?.[1] ?? 'unknown'
          } catch (error) {
            return `error: ${(error as Error).message}`
          }
        }),
      )
      if (states.every((state) => state === 'ok')) break
      if (Date.now() >= deadline) {
        throw new Error(
          `the cluster did not reach cluster_state:ok within ${CLUSTER_DEADLINE_MS} ms: ` +
            servers.map((s, i) => `${HOST}:${s.port} ${states[i]}`).join(', '),
        )
      }
      await sleep(100)
    }
  } catch (error) {
    await stopAll()
    throw error
  }

  return {
    nodes: servers.map((server) => ({ host: HOST, port: server.port })),
    urls: servers.map((server) => server.url),
    servers,
    stop: stopAll,
    command(nodeIndex: number, ...args: string[]) {
      const server = servers[nodeIndex]
      if (!server) return Promise.reject(new Error(`no node ${nodeIndex}: the cluster has ${servers.length}`))
      return server.command(...args)
    },
  }
}

/**
 * A server for the calling test file (or `describe` block): started before its tests,
 * flushed before each, stopped after them. What it returns stands for the server once
 * started (`redis.url`, `redis.command(...)`, `redis.kill()`...).
 */
export function redisForSuite(options: StartRedisOptions = {}): RedisServer {
  let server: RedisServer | undefined
  beforeAll(async () => {
    server = await startRedis(options)
  })
  afterAll(async () => {
    await server?.stop()
  })
  beforeEach(async () => {
    await server!.command('FLUSHALL')
  })
  return new Proxy({} as RedisServer, {
    get(_, property) {
      if (!server) throw new Error('redisForSuite(): the server is used before its suite started')
      const value = Reflect.get(server, property, server)
      return typeof value === 'function' ? value.bind(server) : value
    },
  })
}
