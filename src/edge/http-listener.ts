/**
 * @module The public plain-HTTP listener's handlers: the relay takes every connection at once (each
 * request is routed by its own Host), after the PROXY header when the peer is a trusted load balancer.
 */
import type { SocketHandler } from 'bun'
import type { Connection, ConnectionCore } from './connection.ts'
import { concat } from './pipe.ts'

export function httpListenerHandlers(core: ConnectionCore): SocketHandler<Connection> {
  return {
    ...core.shared,
    open(socket) {
      const isTrusted = core.isTrustedPeer(socket)
      if (!core.accept(socket, isTrusted ? 'proxy-header' : 'peek', core.peerOf(socket, false))) return
      if (!isTrusted) core.startRelay(socket, 'http', null)
    },
    data(socket, bytes) {
      if (core.passOn(socket, bytes)) return
      // Only a trusted peer's PROXY header is read here; the relay takes everything after it.
      socket.data.buffered = concat(socket.data.buffered, bytes)
      if (core.takeProxyHeader(socket)) core.startRelay(socket, 'http', null)
    },
    end: (socket) => core.onEnd(socket),
  }
}
