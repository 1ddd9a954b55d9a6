/**
 * @module The TLS terminator's connection handlers: the handshake's SNI picks the proxy, which the
 * connection then serves (a request for a host of another proxy is misdirected, 421), and the relay
 * takes it from there. A connection piped in by the PROXY-fed HTTPS listener carries its real client
 * in the hand-off.
 */
import type { Socket, SocketHandler } from 'bun'
import type { ClientInfo } from '../proxy/index.ts'
import { normalizeHost } from '../proxy/index.ts'
import { EMPTY, type Connection, type ConnectionCore } from './connection.ts'
import { concat } from './pipe.ts'

/**
 * `isPublic`: clients connect to this listener themselves, and it applies the connection caps; false
 * when it is fed on loopback by the PROXY-fed listener, which has applied them already.
 */
export function tlsListenerHandlers(core: ConnectionCore, isPublic: boolean): SocketHandler<Connection> {
  const { handoff, routes } = core.options
  /** The client the PROXY-fed listener recorded for this loopback connection, or the socket's peer. */
  const clientOf = (socket: Socket<Connection>): ClientInfo => handoff.find(socket.remotePort, socket.localPort) ?? core.peerOf(socket, true)

  return {
    ...core.shared,
    open(socket) {
      core.accept(socket, 'handshake', clientOf(socket), isPublic)
    },
    handshake(socket, success) {
      if (!success || socket.data.phase !== 'handshake') return core.reject(socket, EMPTY, true)
      // The SNI chose the certificate; it must also name a proxy that still exists.
      const serverName = (socket as unknown as { getServername(): string }).getServername?.() ?? ''
      const found = serverName ? routes.lookup(normalizeHost(serverName), 'https') : undefined
      if (!found) return core.reject(socket, EMPTY, true)
      // Asked only now: the PROXY-fed listener records the client once its loopback connect completes,
      // which may be after this side's open, but is always before its ClientHello is sent.
      socket.data.client = clientOf(socket)
      core.startRelay(socket, 'https', found.proxyHostname)
    },
    data(socket, bytes) {
      if (core.passOn(socket, bytes)) return
      socket.data.buffered = concat(socket.data.buffered, bytes)
    },
    end: (socket) => core.onEnd(socket),
  }
}
