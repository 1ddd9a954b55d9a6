/**
 * @module The core every public listener shares (DESIGN §3.1): one client connection's state, its
 * clock before the relay takes over (the read deadline for a PROXY header, a ClientHello or a
 * handshake) and after a hand-over (idle), closing and refusing, the byte pipe to a loopback
 * listener, and starting the relay. The listener kinds (http-listener.ts, tls-listener.ts,
 * proxied-https-listener.ts) are small handlers over it. It also admits connections under the caps
 * (connection-admission.ts): a public connection over one is closed as soon as it is known to be.
 */
import type { Socket, SocketHandler } from 'bun'
import { cidrContains, normalizeClientAddress, type Cidr, type Logger } from '../lib/index.ts'
import { openRelaySession, parseProxyHeader, type ClientInfo, type Deadlines, type Expiring, type RelayDeps, type RelaySession, type Scheme } from '../proxy/index.ts'
import { createConnectionAdmission, type HeldPlaces } from './connection-admission.ts'
import type { ConnectionLimits } from './connection-caps.ts'
import type { Handoff } from './handoff.ts'
import type { HostTable } from './host-table.ts'
import { PipedHttp } from './piped-http.ts'
import { concat, endSide, flush, openPipe, send, type Pipe } from './pipe.ts'

export type Phase = 'proxy-header' | 'peek' | 'handshake' | 'relay' | 'connecting' | 'piping' | 'closed'

export interface Connection extends Expiring, HeldPlaces {
  phase: Phase
  buffered: Uint8Array
  client: ClientInfo
  relay: RelaySession | null
  pipe: Pipe | null
  /** On a handed-over HTTP connection: its requests, watched one at a time for the relay's deadlines. */
  http: PipedHttp | null
  /** When the client last sent bytes (the deadlines' clock), for the idle timeout of a piped connection. */
  lastActivityMs: number
}

export interface CoreOptions {
  readonly routes: HostTable
  readonly handoff: Handoff
  readonly relay: RelayDeps
  readonly deadlines: Deadlines
  /** Peers whose PROXY protocol header is required and believed; everyone else is a plain client. */
  readonly trustedProxies: readonly Cidr[]
  /** A peer that has not sent its PROXY header / ClientHello (or finished its handshake) by then is dropped (slowloris). */
  readonly readDeadlineMs: number
  /** A piped connection with no bytes either way for this long is closed. */
  readonly idleTimeoutMs: number
  readonly maxPeekBytes: number
  /** The connection caps; DEFAULT_CONNECTION_LIMITS when absent. */
  readonly limits?: ConnectionLimits
  readonly logger: Logger
}

/** The settings' defaults (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxConnections: 10_000, maxConnectionsPerAddress: 256 }

export const EMPTY = new Uint8Array(0)
/** After a client's FIN, a piped pair closes once no byte has moved for this long. */
export const HALF_CLOSED_LINGER_SEC = 5

export type ConnectionCore = ReturnType<typeof createConnectionCore>

function isBusy(connection: Connection | undefined, kind: 'any' | 'piped'): boolean {
  switch (connection?.phase) {
    case 'connecting':
      return true
    case 'piping':
      // A TLS stream piped to the terminator (behind a PROXY-protocol balancer) is counted by its own connection there.
      return connection.http !== null
    case 'relay':
      return kind === 'any' && connection.relay !== null && !connection.relay.isIdle()
    default:
      return false
  }
}

export function createConnectionCore(options: CoreOptions) {
  const { handoff, deadlines, logger } = options
  const open = new Set<Socket<Connection>>()
  const isDraining = () => options.relay.shutdown?.isDraining === true
  const admission = createConnectionAdmission(options.limits ?? DEFAULT_CONNECTION_LIMITS, logger)

  const close = (socket: Socket<Connection>) => {
    const connection = socket.data as Connection | undefined
    // A socket can fail before its open handler ran (a peer that resets at once, as haproxy's checks do).
    if (!connection || connection.phase === 'closed') return
    connection.phase = 'closed'
    deadlines.untrack(connection)
    connection.relay?.onClose()
    const pipe = connection.pipe
    if (pipe) {
      handoff.forget(pipe.loopbackPort, pipe.targetPort)
      pipe.toLoopback.socket?.end()
      // The loopback side may close right after its last bytes; whatever of them still waits goes out first.
      endSide(pipe.toClient)
    } else socket.end()
  }

  /** Ends the connection with `reply`; an empty reply on a TLS socket that has not finished its handshake drops it. */
  const reject = (socket: Socket<Connection>, reply: Uint8Array | string, isTls = false) => {
    socket.data.phase = 'closed'
    deadlines.untrack(socket.data)
    if (isTls && reply.length === 0) socket.terminate()
    else socket.end(reply)
  }

  const httpError = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`

  /** Who is on the other end of a socket, as the runtime says (an IPv4 client of a dual-stack listener as plain IPv4). */
  const peerOf = (socket: Socket<Connection>, isTls: boolean): ClientInfo => ({
    address: normalizeClientAddress(socket.remoteAddress),
    port: socket.remotePort,
    isTls,
    isViaTrustedProxy: false,
  })

  const isTrustedPeer = (socket: Socket<Connection>) =>
    options.trustedProxies.length > 0 && options.trustedProxies.some((cidr) => cidrContains(cidr, normalizeClientAddress(socket.remoteAddress)))

  /** Closes a connection over a cap at once: no byte of it is read, and it never reaches the relay. */
  const refuse = (socket: Socket<Connection>): false => {
    reject(socket, EMPTY, socket.data.client.isTls)
    return false
  }
  /** A place under the cap of this client's address, for a connection not yet holding one; false once refused. */
  const admitAddress = (socket: Socket<Connection>, address: string): boolean =>
    admission.admitAddress(socket.data, address) || refuse(socket)

  /**
   * A new connection in its first phase, with the read deadline running; false when it was refused
   * over a cap. A public connection takes a place under the global cap, and one under its address's
   * cap unless it starts with a trusted PROXY header: the peer is then the load balancer, and the
   * client's address is known, and capped, once the header is read (takeProxyHeader). `isPublic`
   * false: a connection another listener already admitted, piped in on loopback.
   */
  const accept = (socket: Socket<Connection>, phase: Phase, client: ClientInfo, isPublic = true): boolean => {
    // Bun gives a socket with a timeout handler a 120 s timeout that traffic does not reset: every
    // connection (a WebSocket, an SSE stream, keep-alive) would be cut at 120 s. Our deadlines time
    // connections; the handler stays for the half-close linger, which sets its own timeout.
    socket.timeout(0)
    const connection: Connection = {
      phase,
      buffered: EMPTY,
      client,
      relay: null,
      pipe: null,
      http: null,
      lastActivityMs: deadlines.nowMs,
      deadlineAtMs: 0,
      previousExpiring: null,
      nextExpiring: null,
      expire: () => expire(socket),
      holdsGlobalPlace: false,
      addressPlace: null,
    }
    socket.data = connection
    open.add(socket)
    if (isPublic) {
      if (phase !== 'proxy-header' && !admitAddress(socket, client.address)) return false
      if (!admission.admitGlobal(connection, client.address)) return refuse(socket)
    }
    deadlines.track(connection, options.readDeadlineMs)
    return true
  }

  /**
   * The connection's clock passed: before the relay, the read deadline; when piped, the idle timeout,
   * and on a handed-over HTTP connection also the head deadline and the body rate, as on the relay.
   */
  const expire = (socket: Socket<Connection>) => {
    const connection = socket.data
    if (connection.phase === 'closed' || connection.phase === 'relay') return
    if (connection.phase !== 'piping') return reject(socket, EMPTY, socket.data.client.isTls)
    const { headMs, minBodyBytesPerSec } = options.relay.timeouts
    const http = connection.http
    if (http?.phase === 'head' && http.headStartedMs >= 0) {
      const leftMs = headMs - (deadlines.nowMs - http.headStartedMs)
      return leftMs > 0 ? deadlines.track(connection, leftMs) : close(socket)
    }
    if (http?.phase === 'body') {
      // A hand-over server slow to take the body (bytes wait for it) is not the client's fault.
      const isServerSlow = connection.pipe?.toLoopback.pending != null
      if (!isServerSlow && http.bodyBytesInWindow < (minBodyBytesPerSec * headMs) / 1000) return close(socket)
      http.bodyBytesInWindow = 0
      return deadlines.track(connection, headMs)
    }
    // A request waiting for its answer is not idle: the hand-over server answers 504 at upstream_timeout.
    if (http?.phase === 'wait') return deadlines.track(connection, options.idleTimeoutMs)
    const lastMs = Math.max(connection.lastActivityMs, connection.pipe?.lastActivityMs ?? 0)
    const quietMs = deadlines.nowMs - lastMs
    if (quietMs < options.idleTimeoutMs) return deadlines.track(connection, options.idleTimeoutMs - quietMs)
    close(socket)
  }

  /** A piped HTTP connection's requests, watched one at a time (piped-http.ts). */
  const watchHttp = (socket: Socket<Connection>, pipe: Pipe): PipedHttp =>
    new PipedHttp(
      {
        release: (bytes) => send(pipe.toLoopback, socket as Socket<unknown>, bytes),
        refuse(reply) {
          if (reply) send(pipe.toClient, null, Buffer.from(reply, 'latin1'))
          close(socket)
        },
        pauseClient: () => socket.pause(),
        resumeClient: () => socket.resume(),
        rearm: () => deadlines.track(socket.data, options.relay.timeouts.headMs),
      },
      () => deadlines.nowMs,
    )

  /**
   * Pipes the connection to a loopback port; `first` is what the client sent that the target must see.
   * `isHttp`: a hand-over of plain HTTP (watched request by request), not a TLS stream for the terminator.
   */
  const startPipe = (socket: Socket<Connection>, port: number, first: Uint8Array, isHttp: boolean) => {
    const connection = socket.data
    connection.phase = 'connecting'
    connection.buffered = first
    deadlines.track(connection, options.idleTimeoutMs)
    const fromServer = isHttp ? (bytes: Uint8Array) => connection.http?.fromServer(bytes) : undefined
    openPipe(socket as Socket<unknown>, port, connection.client, handoff, deadlines, { onClose: () => close(socket), fromServer }).then(
      (pipe) => {
        if ((connection.phase as Phase) === 'closed') {
          handoff.forget(pipe.loopbackPort, pipe.targetPort)
          return void pipe.toLoopback.socket?.end()
        }
        connection.pipe = pipe
        connection.phase = 'piping'
        if (isHttp) connection.http = watchHttp(socket, pipe)
        const waiting = connection.buffered
        connection.buffered = EMPTY
        if (waiting.length > 0) passOn(socket, Buffer.from(waiting.buffer, waiting.byteOffset, waiting.length))
      },
      (error) => {
        if (connection.phase === 'closed') return
        // Still at a request boundary: an HTTP answer is possible, except inside a TLS stream not yet decrypted.
        // During a shutdown the instances no longer accept: a request that needs one is turned away, not failed.
        if (isDraining()) return reject(socket, isHttp ? httpError('503 Service Unavailable', 'the server is shutting down\n') : EMPTY)
        logger.warn('loopback listener unreachable', { port, error: String(error) })
        reject(socket, isHttp ? httpError('502 Bad Gateway', 'the proxy instance is not reachable\n') : EMPTY)
      },
    )
  }

  /** The relay serves the connection from here, handing it to a hand-over server when it must. */
  const startRelay = (socket: Socket<Connection>, scheme: Scheme, connectionProxy: string | null) => {
    const connection = socket.data
    deadlines.untrack(connection)
    connection.phase = 'relay'
    const relay = openRelaySession(options.relay, {
      scheme,
      connectionProxy,
      client: connection.client,
      socket: socket as Socket<unknown>,
      handOver: (bytes, isClientEnded, port) => {
        connection.relay = null
        startPipe(socket, port, bytes.length > 0 ? new Uint8Array(bytes) : EMPTY, true)
        // The client's FIN came while the relay had the connection: linger as a piped half-closed pair does.
        if (isClientEnded) socket.timeout(HALF_CLOSED_LINGER_SEC)
      },
    })
    connection.relay = relay
    const first = connection.buffered
    connection.buffered = EMPTY
    if (first.length > 0) relay.onData(Buffer.from(first.buffer, first.byteOffset, first.length))
  }

  /**
   * Reads a trusted load balancer's PROXY header from what is buffered; the client it names replaces the
   * peer. Returns false while incomplete or once the connection is refused.
   */
  const takeProxyHeader = (socket: Socket<Connection>): boolean => {
    const connection = socket.data
    const parsed = parseProxyHeader(connection.buffered)
    if (parsed.status === 'incomplete') return false
    if (parsed.status === 'invalid') {
      reject(socket, EMPTY)
      return false
    }
    if (parsed.header.kind === 'proxy') {
      const { sourceAddress, sourcePort } = parsed.header.addresses
      connection.client = { address: normalizeClientAddress(sourceAddress), port: sourcePort, isTls: connection.client.isTls, isViaTrustedProxy: true }
      // A LOCAL header (the balancer's own health check) names no client: only the global cap applies.
      if (!admitAddress(socket, connection.client.address)) return false
    }
    connection.buffered = connection.buffered.subarray(parsed.headerLength)
    return true
  }

  /** The handlers every kind shares once a connection is relayed or piped. */
  const shared: Pick<SocketHandler<Connection>, 'drain' | 'timeout' | 'close' | 'error'> = {
    drain(socket) {
      const connection = socket.data
      if (connection.relay) connection.relay.onDrain()
      else if (connection.pipe) flush(connection.pipe.toClient, connection.pipe.toLoopback.socket)
    },
    timeout: (socket) => close(socket),
    close(socket) {
      open.delete(socket)
      admission.release(socket.data as Connection | undefined)
      close(socket)
    },
    error(socket) {
      open.delete(socket)
      admission.release(socket.data as Connection | undefined)
      close(socket)
    },
  }

  /** Client bytes in the relayed or piped phases; false when the phase is the listener's own to handle. */
  const passOn = (socket: Socket<Connection>, bytes: Buffer): boolean => {
    const connection = socket.data
    switch (connection.phase) {
      case 'relay':
        connection.relay!.onData(bytes)
        return true
      case 'piping':
        connection.lastActivityMs = deadlines.nowMs
        if (connection.http) connection.http.fromClient(bytes)
        else send(connection.pipe!.toLoopback, socket as Socket<unknown>, bytes)
        return true
      case 'connecting':
        connection.lastActivityMs = deadlines.nowMs
        connection.buffered = concat(connection.buffered, bytes)
        return true
      case 'closed':
        return true
      default:
        return false
    }
  }

  /** The client half-closed. */
  const onEnd = (socket: Socket<Connection>) => {
    const connection = socket.data
    if (connection.phase === 'relay') return connection.relay!.onEnd()
    // Half-closed before its request head was complete: nothing more will come.
    if (connection.phase === 'peek' || connection.phase === 'proxy-header' || connection.phase === 'handshake') return close(socket)
    // A client may send its request and then FIN (RFC 9112 §9.6 allows it). Passing the FIN on would
    // make the hand-over server drop the response, so keep the client half-open and close the pair
    // once the response has gone quiet.
    socket.timeout(HALF_CLOSED_LINGER_SEC)
  }

  return {
    options,
    accept,
    close,
    reject,
    httpError,
    peerOf,
    isTrustedPeer,
    startPipe,
    startRelay,
    takeProxyHeader,
    shared,
    passOn,
    onEnd,
    count: () => open.size,
    /** Connections refused over a cap since start, by reason (ohp_connections_refused_total). */
    refused: () => admission.refused(),
    /** Places held under the caps (tests check that every one is given back). */
    capsHeld: () => admission.held(),
    closeAll() {
      for (const socket of open) socket.end()
      open.clear()
    },
    /**
     * Connections with work under way, for a shutdown's drain: a request being read, forwarded or
     * answered by the relay, or a hand-over (piped to an instance, which drains its own). A connection
     * between requests, or that has not sent one yet, is idle.
     */
    busyCount(kind: 'any' | 'piped' = 'any'): number {
      let count = 0
      for (const socket of open) if (isBusy(socket.data, kind)) count++
      return count
    },
    /** Closes every idle connection (the end of a shutdown's drain). */
    closeIdle() {
      for (const socket of open) if (!isBusy(socket.data, 'any')) close(socket)
    },
  }
}
