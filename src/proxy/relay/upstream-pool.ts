/**
 * @module Keep-alive connections to backends, shared by every relayed request to the same origin
 * (RFC 9112 §9.3). A connection serves one exchange at a time; afterwards it waits, idle, for the next
 * request to that origin. Idle connections close after a while, before a typical backend's own
 * keep-alive timeout (Node's is 5 s, Bun's 10 s), which keeps the race between our reuse and the
 * backend's close rare; the relay retries the requests that may safely be retried when it happens.
 */
import type { Socket } from 'bun'

export interface UpstreamOrigin {
  /** "host:port": connections are pooled by it. */
  readonly key: string
  readonly hostname: string
  readonly port: number
}

/** What a connection's events are reported to while it serves an exchange. */
export interface UpstreamListener {
  onUpstreamData(bytes: Buffer): void
  onUpstreamDrain(): void
  /** The backend closed the connection, or (`isError`) it failed: a reset, a write error. */
  onUpstreamClose(isError: boolean): void
}

export interface UpstreamConnection {
  readonly socket: Socket<UpstreamConnection>
  readonly origin: UpstreamOrigin
  listener: UpstreamListener | null
  /** It served an earlier exchange: the backend may have closed it meanwhile. */
  isReused: boolean
  isClosed: boolean
  /** Reads are stopped (backpressure from the client). */
  isPaused: boolean
}

export interface UpstreamPool {
  /** An idle connection to the origin, now serving `listener`, or null: then call connect. */
  takeIdle(origin: UpstreamOrigin, listener: UpstreamListener): UpstreamConnection | null
  /** A new connection; rejects when the backend cannot be reached. */
  connect(origin: UpstreamOrigin, listener: UpstreamListener): Promise<UpstreamConnection>
  /** The exchange is over and the connection may carry another. */
  release(connection: UpstreamConnection): void
  /** The connection's state is unknown (exchange aborted, framing broken): close it. */
  discard(connection: UpstreamConnection): void
  idleCount(): number
  closeAll(): void
}

/** Stops reading the backend (the client is not keeping up); a system call, so only when it changes something. */
export function pauseReading(connection: UpstreamConnection | null | undefined): void {
  if (!connection || connection.isPaused) return
  connection.isPaused = true
  connection.socket.pause()
}

export function resumeReading(connection: UpstreamConnection | null | undefined): void {
  if (!connection?.isPaused) return
  connection.isPaused = false
  connection.socket.resume()
}

/** Seconds an idle backend connection is kept. */
const IDLE_TIMEOUT_SEC = 4
/** Idle connections kept per origin; more are closed when released. */
const MAX_IDLE_PER_ORIGIN = 128

export function createUpstreamPool(): UpstreamPool {
  const idle = new Map<string, UpstreamConnection[]>()

  const removeIdle = (connection: UpstreamConnection) => {
    const list = idle.get(connection.origin.key)
    const at = list ? list.indexOf(connection) : -1
    if (at !== -1) list!.splice(at, 1)
  }

  const closed = (connection: UpstreamConnection, isError: boolean) => {
    if (connection.isClosed) return
    connection.isClosed = true
    const listener = connection.listener
    connection.listener = null
    if (listener) listener.onUpstreamClose(isError)
    else removeIdle(connection)
  }

  const handlers = {
    data(socket: Socket<UpstreamConnection>, bytes: Buffer) {
      const listener = socket.data.listener
      // Bytes from an idle connection belong to no request: the connection is out of step.
      if (listener) listener.onUpstreamData(bytes)
      else discard(socket.data)
    },
    drain(socket: Socket<UpstreamConnection>) {
      socket.data.listener?.onUpstreamDrain()
    },
    timeout(socket: Socket<UpstreamConnection>) {
      if (!socket.data.listener) discard(socket.data)
    },
    close(socket: Socket<UpstreamConnection>, error?: Error) {
      closed(socket.data, error !== undefined)
    },
    error(socket: Socket<UpstreamConnection>) {
      closed(socket.data, true)
    },
  }

  const discard = (connection: UpstreamConnection) => {
    connection.listener = null
    removeIdle(connection)
    if (!connection.isClosed) {
      connection.isClosed = true
      connection.socket.terminate()
    }
  }

  return {
    takeIdle(origin, listener) {
      const connection = idle.get(origin.key)?.pop()
      if (!connection) return null
      connection.listener = listener
      connection.socket.timeout(0)
      return connection
    },
    async connect(origin, listener) {
      // No listener until connected: a failed connect is reported by the rejection alone.
      const data = { origin, listener: null, isReused: false, isClosed: false, isPaused: false } as unknown as UpstreamConnection
      const socket = await Bun.connect<UpstreamConnection>({ hostname: origin.hostname, port: origin.port, data, socket: handlers })
      ;(data as { socket: Socket<UpstreamConnection> }).socket = socket
      if (data.isClosed) throw new Error('the backend closed the connection at once')
      data.listener = listener
      return data
    },
    release(connection) {
      if (connection.isClosed) return
      connection.listener = null
      connection.isReused = true
      const list = idle.get(connection.origin.key) ?? []
      if (list.length >= MAX_IDLE_PER_ORIGIN) return discard(connection)
      list.push(connection)
      idle.set(connection.origin.key, list)
      connection.socket.timeout(IDLE_TIMEOUT_SEC)
    },
    discard,
    idleCount: () => [...idle.values()].reduce((sum, list) => sum + list.length, 0),
    closeAll() {
      for (const list of idle.values()) for (const connection of [...list]) discard(connection)
      idle.clear()
    },
  }
}
