import { fork, type ChildProcess } from 'node:child_process'

/**
 * A cache in a child process (a script of `__test__/support/`), called like a cache:
 * `await node.call('get', { key })`. The script answers `{ id, result }` or `{ id, error }`
 * to each `{ id, op, args }`, and sends one message once ready.
 */
export class ChildCache {
  #next = 0
  readonly #pending = new Map<number, { resolve(value: any): void; reject(error: Error): void }>()

  private constructor(readonly child: ChildProcess) {
    child.on('message', (reply: any) => {
      const waiter = this.#pending.get(reply.id)
      if (!waiter) return
      this.#pending.delete(reply.id)
      if ('error' in reply) waiter.reject(new Error(reply.error))
      else waiter.resolve(reply.result)
    })
  }

  /** Forks `script` with `args` (and Node.js flags `execArgv`) and waits until it is ready. */
  static async start(script: string, args: string[], execArgv: string[] = []): Promise<ChildCache> {
    const child = fork(script, args, { stdio: 'inherit', execArgv: [...process.execArgv, ...execArgv] })
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code) => reject(new Error(`cache process exited with ${code}`)))
    })
    return new ChildCache(child)
  }

  call(op: string, ...args: unknown[]): Promise<any> {
    const id = this.#next++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.child.send({ id, op, args })
    })
  }

  stats(): Promise<any> {
    return this.call('stats')
  }

  /**
   * Sends `op` (which disconnects the cache and lets go of IPC) and resolves with the exit
   * code once the process has exited by itself; rejects if it has not within `ms`.
   */
  async exitAfter(op: string, ms = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)))
    await this.call(op).catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the process did not exit within ${ms} ms of ${op}`)), ms)
    })
    try {
      return await Promise.race([exited, late])
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGKILL, for clean-up after a failure. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
  }
}
