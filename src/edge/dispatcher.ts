/**
 * @module The public connections (DESIGN §3.1). Three kinds of listener share these handlers:
 * - `http`: reads the first request head's Host, picks the proxy, and gives the connection to the relay,
 *   which forwards plain requests itself and hands the rest to the proxy instance's full server.
 * - `tls`: the TLS terminator's connections (tls-terminator.ts); the handshake's SNI picks the proxy,
 *   and the relay takes it from there, as for `http`.
 * - `https`: used only when PROXY protocol peers are trusted, because their header precedes the
 *   ClientHello and the TLS engine cannot skip it: reads the header and the ClientHello's SNI, then pipes
 *   the still-encrypted bytes to the TLS terminator on loopback, with the client in the hand-off.
 */
import type { Socket, SocketHandler, TCPSocketListener } from 'bun'
import { cidrContains, describeBindError, type Cidr, type Logger } from '../lib/index.ts'
import { openRelaySession, parseProxyHeader, type ClientInfo, type RelayDeps, type RelaySession, type Scheme } from '../proxy/index.ts'
import { readClientHelloSni } from './client-hello.ts'
import type { Handoff } from './handoff.ts'
import type { HostTable, Route } from './host-table.ts'
import { readRequestHead } from './http-head.ts'
import { concat, endSide, flush, openPipe, send, type Pipe } from './pipe.ts'

export type ListenerKind = 'http' | 'https' | 'tls'

export interface ConnectionOptions {
  readonly kind: ListenerKind
  readonly routes: HostTable
  readonly handoff: Handoff
  readonly relay: RelayDeps
  /** Peers whose PROXY protocol header is required and believed; everyone else is a plain client. */
  readonly trustedProxies: readonly Cidr[]
  /** A peer that has not sent its Host / ClientHello (or finished its handshake) by then is dropped (slowloris). */
  readonly readDeadlineMs: number
  /** A connection with no bytes either way for this long is closed (a quiet keep-alive, a dead peer). */
  readonly idleTimeoutSec: number
  readonly maxPeekBytes: number
  /** For `https`: the TLS terminator's loopback port. */
  readonly terminatorPort?: () => number
  readonly logger: Logger
}

export interface ConnectionHandlers {
  readonly socket: SocketHandler<Connection>
  /** Open client connections, for leak checks. */
  count(): number
  closeAll(): void
}

type Phase = 'proxy-header' | 'peek' | 'handshake' | 'relay' | 'connecting' | 'piping' | 'closed'

export interface Connection {
  phase: Phase
  buffered: Uint8Array
  client: ClientInfo
  deadline: Timer | null
  relay: RelaySession | null
  pipe: Pipe | null
}

const EMPTY = new Uint8Array(0)
/** After a client's FIN, a piped pair closes once no byte has moved for this long. */
const HALF_CLOSED_LINGER_SEC = 5
/** RFC 8446 §6.2: a fatal alert record, unrecognized_name (112). */
const TLS_UNRECOGNIZED_NAME = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70])

export function createConnectionHandlers(options: ConnectionOptions): ConnectionHandlers {
  const { kind, routes, handoff, logger } = options
  const open = new Set<Socket<Connection>>()
  const isTrustedPeer = (address: string) => options.trustedProxies.some((cidr) => cidrContains(cidr, address))

  const close = (socket: Socket<Connection>) => {
    const connection = socket.data
    if (connection.phase === 'closed') return
    connection.phase = 'closed'
    if (connection.deadline) clearTimeout(connection.deadline)
    connection.relay?.onClose()
    const pipe = connection.pipe
    if (pipe) {
      handoff.forget(pipe.loopbackPort, pipe.targetPort)
      pipe.toLoopback.socket?.end()
      // The loopback side may close right after its last bytes; whatever of them still waits goes out first.
      endSide(pipe.toClient)
    } else socket.end()
  }

  const reject = (socket: Socket<Connection>, reply: Uint8Array | string) => {
    socket.data.phase = 'closed'
    if (socket.data.deadline) clearTimeout(socket.data.deadline)
    // A TLS socket that has not finished its handshake cannot end cleanly; drop it.
    if (kind === 'tls' && reply.length === 0) socket.terminate()
    else socket.end(reply)
  }

  const httpError = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`

  const stopDeadline = (socket: Socket<Connection>) => {
    if (socket.data.deadline) clearTimeout(socket.data.deadline)
    socket.data.deadline = null
    socket.timeout(options.idleTimeoutSec)
  }

  /** Pipes the connection to a loopback port; `first` is what the client sent that the target must see. */
  const startPipe = (socket: Socket<Connection>, port: number, first: Uint8Array) => {
    const connection = socket.data
    connection.phase = 'connecting'
    connection.buffered = first
    openPipe(socket as Socket<unknown>, port, connection.client, handoff, { onClose: () => close(socket) }).then(
      (pipe) => {
        if ((connection.phase as Phase) === 'closed') {
          handoff.forget(pipe.loopbackPort, pipe.targetPort)
          return void pipe.toLoopback.socket?.end()
        }
        connection.pipe = pipe
        connection.phase = 'piping'
        const waiting = connection.buffered
        connection.buffered = EMPTY
        if (waiting.length > 0) send(pipe.toLoopback, socket as Socket<unknown>, waiting)
      },
      (error) => {
        logger.warn('loopback listener unreachable', { listener: kind, port, error: String(error) })
        if (connection.phase === 'closed') return
        // Still at a request boundary: an HTTP answer is possible, except inside a TLS stream not yet decrypted.
        reject(socket, kind === 'https' ? EMPTY : httpError('502 Bad Gateway', 'the proxy instance is not reachable\n'))
      },
    )
  }

  /** The proxy is known: the relay serves the connection, handing it to the instance when it must. */
  const startRelay = (socket: Socket<Connection>, route: Route, scheme: Scheme) => {
    stopDeadline(socket)
    const connection = socket.data
    connection.phase = 'relay'
    const relay = openRelaySession(options.relay, {
      proxyHostname: route.proxyHostname,
      scheme,
      client: connection.client,
      socket: socket as Socket<unknown>,
      idleTimeoutSec: options.idleTimeoutSec,
      handOver: (bytes, isClientEnded) => {
        connection.relay = null
        startPipe(socket, route.port, bytes.length > 0 ? new Uint8Array(bytes) : EMPTY)
        // The client's FIN came while the relay had the connection: linger as a piped half-closed pair does.
        if (isClientEnded) socket.timeout(HALF_CLOSED_LINGER_SEC)
      },
    })
    connection.relay = relay
    const first = connection.buffered
    connection.buffered = EMPTY
    if (first.length > 0) relay.onData(Buffer.from(first.buffer, first.byteOffset, first.length))
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
      const found = routes.lookup(head.host, 'http')
      if (!found) return reject(socket, httpError('404 Not Found', `no proxy for ${head.host}\n`))
      return startRelay(socket, found, 'http')
    }
    const hello = readClientHelloSni(connection.buffered, options.maxPeekBytes)
    if (hello.status === 'incomplete') return
    if (hello.status === 'invalid' || !hello.serverName) return reject(socket, hello.status === 'invalid' ? EMPTY : TLS_UNRECOGNIZED_NAME)
    if (!routes.lookup(hello.serverName, 'https')) return reject(socket, TLS_UNRECOGNIZED_NAME)
    stopDeadline(socket)
    const first = connection.buffered
    connection.buffered = EMPTY
    return startPipe(socket, options.terminatorPort!(), first)
  }

  const readProxyHeader = (socket: Socket<Connection>) => {
    const connection = socket.data
    const parsed = parseProxyHeader(connection.buffered)
    if (parsed.status === 'incomplete') return
    if (parsed.status === 'invalid') return reject(socket, EMPTY)
    if (parsed.header.kind === 'proxy') {
      const { sourceAddress, sourcePort } = parsed.header.addresses
      connection.client = { address: sourceAddress, port: sourcePort, isTls: kind !== 'http', isViaTrustedProxy: true }
    }
    connection.buffered = connection.buffered.subarray(parsed.headerLength)
    connection.phase = 'peek'
    if (connection.buffered.length > 0) route(socket)
  }

  /** Who is on the other end: the socket's peer, or for the terminator, the client the `https` dispatcher recorded. */
  const clientOf = (socket: Socket<Connection>): ClientInfo => {
    const handed = kind === 'tls' ? handoff.find(socket.remotePort, socket.localPort) : undefined
    return handed ?? { address: socket.remoteAddress, port: socket.remotePort, isTls: kind !== 'http', isViaTrustedProxy: false }
  }

  const socket: SocketHandler<Connection> = {
    open(socket) {
      const isTrusted = kind !== 'tls' && options.trustedProxies.length > 0 && isTrustedPeer(socket.remoteAddress)
      socket.data = {
        phase: kind === 'tls' ? 'handshake' : isTrusted ? 'proxy-header' : 'peek',
        buffered: EMPTY,
        client: clientOf(socket),
        deadline: setTimeout(() => reject(socket, EMPTY), options.readDeadlineMs),
        relay: null,
        pipe: null,
      }
      open.add(socket)
    },
    handshake(socket, success) {
      if (!success || socket.data.phase !== 'handshake') return reject(socket, EMPTY)
      // The SNI chose the certificate; it must also name a proxy that still exists.
      const serverName = (socket as unknown as { getServername(): string }).getServername?.() ?? ''
      const found = serverName ? routes.lookup(serverName.toLowerCase(), 'https') : undefined
      if (!found) return reject(socket, EMPTY)
      // Asked only now: the `https` dispatcher records the client once its loopback connect completes,
      // which may be after this side's open, but is always before its ClientHello is sent.
      socket.data.client = clientOf(socket)
      startRelay(socket, found, 'https')
    },
    data(socket, bytes) {
      const connection = socket.data
      switch (connection.phase) {
        case 'relay':
          return connection.relay!.onData(bytes)
        case 'piping':
          return send(connection.pipe!.toLoopback, socket as Socket<unknown>, bytes)
        case 'closed':
          return
        case 'connecting':
        case 'handshake':
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
      const connection = socket.data
      if (connection.relay) connection.relay.onDrain()
      else if (connection.pipe) flush(connection.pipe.toClient, connection.pipe.toLoopback.socket)
    },
    timeout(socket) {
      close(socket)
    },
    end(socket) {
      const connection = socket.data
      if (connection.phase === 'relay') return connection.relay!.onEnd()
      // Half-closed before its request head was complete: nothing more will come.
      if (connection.phase === 'peek' || connection.phase === 'proxy-header' || connection.phase === 'handshake') return close(socket)
      // A client may send its request and then FIN (RFC 9112 §9.6 allows it). Passing the FIN on would
      // make the instance drop the response, so keep the client half-open and close the pair once the
      // response has gone quiet.
      socket.timeout(HALF_CLOSED_LINGER_SEC)
    },
    close(socket) {
      open.delete(socket)
      close(socket)
    },
    error(socket) {
      open.delete(socket)
      close(socket)
    },
  }

  return {
    socket,
    count: () => open.size,
    closeAll() {
      for (const connection of open) connection.end()
      open.clear()
    },
  }
}

export interface Dispatcher {
  readonly port: number
  connectionCount(): number
  stop(): Promise<void>
}

/** A public plain-TCP listener (`http`, or `https` in front of the TLS terminator). */
export function startDispatcher(options: ConnectionOptions & { readonly hostname: string; readonly port: number; readonly setting: string }): Dispatcher {
  const handlers = createConnectionHandlers(options)
  let listener: TCPSocketListener<Connection>
  try {
    listener = Bun.listen<Connection>({ hostname: options.hostname, port: options.port, allowHalfOpen: true, socket: handlers.socket })
  } catch (error) {
    throw describeBindError(options.setting, options.hostname, options.port, error)
  }
  return {
    port: listener.port,
    connectionCount: handlers.count,
    async stop() {
      listener.stop(true)
      handlers.closeAll()
    },
  }
}
