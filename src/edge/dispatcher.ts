/**
 * @module The public listeners (DESIGN §3.1). A dispatcher reads only as much of a new connection as it
 * needs to pick an instance (the HTTP request head's Host, or the TLS ClientHello's SNI), then connects
 * to that instance on loopback and pipes bytes both ways with backpressure. It never terminates TLS and
 * never parses more than the first request head.
 */
import type { Socket, TCPSocketListener } from 'bun'
import { cidrContains, describeBindError, type Cidr, type Logger } from '../lib/index.ts'
import type { ClientInfo } from '../proxy/index.ts'
import { readClientHelloSni } from './client-hello.ts'
import type { Handoff } from './handoff.ts'
import type { HostTable } from './host-table.ts'
import { readRequestHead } from './http-head.ts'
import { parseProxyHeader } from '../proxy/index.ts'

export type ListenerKind = 'http' | 'https'

export interface DispatcherOptions {
  readonly kind: ListenerKind
  readonly hostname: string
  readonly port: number
  readonly routes: HostTable
  readonly handoff: Handoff
  /** Peers whose PROXY protocol header is required and believed; everyone else is a plain client. */
  readonly trustedProxies: readonly Cidr[]
  /** A peer that has not sent its Host / ClientHello by then is dropped (slowloris). */
  readonly readDeadlineMs: number
  /** A piped connection with no bytes either way for this long is closed (a quiet keep-alive, a dead peer). */
  readonly idleTimeoutSec: number
  readonly maxPeekBytes: number
  readonly logger: Logger
}

export interface Dispatcher {
  readonly port: number
  /** Open client connections, for leak checks. */
  connectionCount(): number
  stop(): Promise<void>
}

type Phase = 'proxy-header' | 'peek' | 'connecting' | 'piping' | 'closed'

/** One side of a pipe: bytes that could not be written yet wait here, and the source is paused. */
interface Side {
  socket: Socket<Connection> | Socket<Upstream> | null
  pending: Uint8Array | null
  endWhenFlushed: boolean
}

interface Connection {
  phase: Phase
  buffered: Uint8Array
  client: ClientInfo | null
  deadline: Timer | null
  /** Where bytes to the client go (this socket) and where bytes to the instance go. */
  toClient: Side
  toInstance: Side
  loopbackPort: number
  instancePort: number
}

interface Upstream {
  connection: Connection
  client: Socket<Connection>
}

const EMPTY = new Uint8Array(0)
/** After a client's FIN, the pair closes once no byte has moved for this long. */
const HALF_CLOSED_LINGER_SEC = 5
/** RFC 8446 §6.2: a fatal alert record, unrecognized_name (112). */
const TLS_UNRECOGNIZED_NAME = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70])

export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const { kind, routes, handoff, logger } = options
  const open = new Set<Socket<Connection>>()

  const isTrustedPeer = (address: string) => options.trustedProxies.some((cidr) => cidrContains(cidr, address))

  const close = (connection: Connection) => {
    if (connection.phase === 'closed') return
    connection.phase = 'closed'
    if (connection.deadline) clearTimeout(connection.deadline)
    if (connection.loopbackPort) handoff.forget(connection.loopbackPort, connection.instancePort)
    connection.toInstance.socket?.end()
    // The instance may close right after its last bytes; whatever of them still waits for the client
    // goes out first (drain ends the socket then).
    const toClient = connection.toClient
    if (toClient.pending) toClient.endWhenFlushed = true
    else toClient.socket?.end()
  }

  const reject = (socket: Socket<Connection>, reply: Uint8Array | string) => {
    socket.data.phase = 'closed'
    if (socket.data.deadline) clearTimeout(socket.data.deadline)
    socket.end(reply)
  }

  const httpError = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`

  /** Writes to one side; on a short write keeps the rest and pauses the other side until drain. */
  const send = (side: Side, source: Socket<Connection> | Socket<Upstream> | null, bytes: Uint8Array) => {
    if (side.pending) {
      side.pending = concat(side.pending, bytes)
      return
    }
    const written = side.socket!.write(bytes)
    if (written < bytes.length) {
      // A copy (Buffer#slice would be a view): the runtime may reuse the buffer it handed to the callback.
      side.pending = new Uint8Array(bytes.subarray(Math.max(written, 0)))
      source?.pause()
    }
  }

  const flush = (side: Side, source: Socket<Connection> | Socket<Upstream> | null) => {
    if (!side.pending || !side.socket) return
    const bytes = side.pending
    const written = side.socket.write(bytes)
    if (written < bytes.length) {
      side.pending = bytes.subarray(Math.max(written, 0))
      return
    }
    side.pending = null
    if (side.endWhenFlushed) side.socket.end()
    else source?.resume()
  }

  const connectInstance = async (socket: Socket<Connection>, instancePort: number) => {
    const connection = socket.data
    connection.phase = 'connecting'
    try {
      const upstream = await Bun.connect<Upstream>({
        hostname: '127.0.0.1',
        port: instancePort,
        data: { connection, client: socket },
        socket: {
          data(up, bytes) {
            send(up.data.connection.toClient, up, bytes)
          },
          drain(up) {
            flush(up.data.connection.toInstance, up.data.client)
          },
          end(up) {
            const side = up.data.connection.toClient
            if (side.pending) side.endWhenFlushed = true
            else up.data.client.end()
          },
          close(up) {
            close(up.data.connection)
          },
          error(up) {
            close(up.data.connection)
          },
        },
      })
      if ((connection.phase as Phase) === 'closed') return void upstream.end()
      connection.toInstance.socket = upstream
      connection.loopbackPort = upstream.localPort
      connection.instancePort = instancePort
      handoff.record(upstream.localPort, instancePort, connection.client!)
      connection.phase = 'piping'
      const first = connection.buffered
      connection.buffered = EMPTY
      send(connection.toInstance, socket, first)
    } catch (error) {
      logger.warn('instance unreachable', { listener: kind, port: instancePort, error: String(error) })
      if (kind === 'http') reject(socket, httpError('502 Bad Gateway', 'the proxy instance is not reachable\n'))
      else reject(socket, EMPTY)
    }
  }

  /** Decides where the connection goes once the Host or SNI is known. */
  const route = (socket: Socket<Connection>) => {
    const connection = socket.data
    if (kind === 'http') {
      const head = readRequestHead(connection.buffered, options.maxPeekBytes)
      if (head.status === 'incomplete') return
      if (head.status === 'too_large') return reject(socket, httpError('431 Request Header Fields Too Large', 'request head too large\n'))
      if (head.status === 'invalid') return reject(socket, httpError('400 Bad Request', 'malformed request\n'))
      if (!head.host) return reject(socket, httpError('400 Bad Request', 'a Host header is required\n'))
      const port = routes.lookup(head.host, 'http')
      if (port === undefined) return reject(socket, httpError('404 Not Found', `no proxy for ${head.host}\n`))
      return startPipe(socket, port)
    }
    const hello = readClientHelloSni(connection.buffered, options.maxPeekBytes)
    if (hello.status === 'incomplete') return
    if (hello.status === 'invalid' || !hello.serverName) return reject(socket, hello.status === 'invalid' ? EMPTY : TLS_UNRECOGNIZED_NAME)
    const port = routes.lookup(hello.serverName, 'https')
    if (port === undefined) return reject(socket, TLS_UNRECOGNIZED_NAME)
    return startPipe(socket, port)
  }

  const startPipe = (socket: Socket<Connection>, port: number) => {
    if (socket.data.deadline) clearTimeout(socket.data.deadline)
    socket.data.deadline = null
    socket.timeout(options.idleTimeoutSec)
    void connectInstance(socket, port)
  }

  const readProxyHeader = (socket: Socket<Connection>) => {
    const connection = socket.data
    const parsed = parseProxyHeader(connection.buffered)
    if (parsed.status === 'incomplete') return
    if (parsed.status === 'invalid') return reject(socket, EMPTY)
    if (parsed.header.kind === 'proxy') {
      const { sourceAddress, sourcePort } = parsed.header.addresses
      connection.client = { address: sourceAddress, port: sourcePort, isTls: kind === 'https', isViaTrustedProxy: true }
    }
    connection.buffered = connection.buffered.subarray(parsed.headerLength)
    connection.phase = 'peek'
    if (connection.buffered.length > 0) route(socket)
  }

  let listener: TCPSocketListener<Connection>
  try {
    listener = Bun.listen<Connection>({
      hostname: options.hostname,
      port: options.port,
      allowHalfOpen: true,
      socket: {
        open(socket) {
          const isTrusted = options.trustedProxies.length > 0 && isTrustedPeer(socket.remoteAddress)
          const toClient: Side = { socket, pending: null, endWhenFlushed: false }
          socket.data = {
            phase: isTrusted ? 'proxy-header' : 'peek',
            buffered: EMPTY,
            client: { address: socket.remoteAddress, port: socket.remotePort, isTls: kind === 'https', isViaTrustedProxy: false },
            deadline: setTimeout(() => reject(socket, EMPTY), options.readDeadlineMs),
            toClient,
            toInstance: { socket: null, pending: null, endWhenFlushed: false },
            loopbackPort: 0,
            instancePort: 0,
          }
          open.add(socket)
        },
        data(socket, bytes) {
          const connection = socket.data
          switch (connection.phase) {
            case 'piping':
              return send(connection.toInstance, socket, bytes)
            case 'closed':
              return
            case 'connecting':
              connection.buffered = concat(connection.buffered, bytes)
              return
            case 'proxy-header':
              connection.buffered = concat(connection.buffered, bytes)
              return readProxyHeader(socket)
            case 'peek':
              connection.buffered = concat(connection.buffered, bytes)
              return route(socket)
          }
        },
        drain(socket) {
          flush(socket.data.toClient, socket.data.toInstance.socket)
        },
        timeout(socket) {
          close(socket.data)
        },
        end(socket) {
          const connection = socket.data
          // Half-closed before its request head was complete: nothing more will come.
          if (connection.phase === 'peek' || connection.phase === 'proxy-header') return close(connection)
          // A client may send its request and then FIN (RFC 9112 §9.6 allows it). Passing the FIN on
          // would make the instance drop the response, so keep the client half-open and close the pair
          // once the response has gone quiet.
          socket.timeout(HALF_CLOSED_LINGER_SEC)
        },
        close(socket) {
          open.delete(socket)
          close(socket.data)
        },
        error(socket) {
          open.delete(socket)
          close(socket.data)
        },
      },
    })
  } catch (error) {
    throw describeBindError(kind === 'http' ? 'HTTP_PORT' : 'HTTPS_PORT', options.hostname, options.port, error)
  }

  return {
    port: listener.port,
    connectionCount: () => open.size,
    async stop() {
      listener.stop(true)
      for (const socket of open) socket.end()
      open.clear()
    },
  }
}

/** Always a fresh copy: the runtime may reuse the buffer it handed to the data callback. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a)
  joined.set(b, a.length)
  return joined
}
