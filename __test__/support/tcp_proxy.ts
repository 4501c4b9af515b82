import net from 'node:net'

/**
 * A loopback TCP proxy in front of a server, for the chaos tests: it can delay every chunk
 * in both directions (a slow network or a slow Redis) and cut every connection, refusing
 * new ones, until healed (a partition).
 */
export class TcpProxy {
  readonly #server: net.Server
  readonly #sockets = new Set<net.Socket>()
  /** ms added to every chunk, each way. */
  delayMs = 0
  #cut = false

  private constructor(server: net.Server, readonly port: number) {
    this.#server = server
  }

  /** A proxy on a free loopback port forwarding to `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined
    const server = net.createServer((client) => proxy!.#accept(client, targetPort))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port)
    return proxy
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Destroys every connection and refuses new ones until {@link heal}. */
  cut(): void {
    this.#cut = true
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
  }

  heal(): void {
    this.#cut = false
  }

  async stop(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #accept(client: net.Socket, targetPort: number): void {
    if (this.#cut) {
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.setNoDelay(true)
      socket.on('error', () => {})
      socket.on('close', () => {
        this.#sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    this.#pipe(client, upstream)
    this.#pipe(upstream, client)
  }

  /** Forwards `from` to `to`, each chunk `delayMs` later, in order. */
  #pipe(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk) => {
      if (this.delayMs <= 0) to.write(chunk)
      else setTimeout(() => to.writable && to.write(chunk), this.delayMs)
    })
  }
}
