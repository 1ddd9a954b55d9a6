/**
 * @module The public HTTPS listener used only when PROXY protocol peers are trusted: their header
 * precedes the ClientHello, which the TLS engine cannot skip. It reads the header and the ClientHello's
 * SNI, then pipes the still-encrypted bytes to the TLS terminator on loopback, with the client in the
 * hand-off.
 */
import type { SocketHandler } from 'bun'
import { normalizeHost } from '../proxy/index.ts'
import { readClientHelloSni } from './client-hello.ts'
import { EMPTY, type Connection, type ConnectionCore } from './connection.ts'
import { concat } from './pipe.ts'

/** RFC 8446 §6.2: a fatal alert record, unrecognized_name (112). */
const TLS_UNRECOGNIZED_NAME = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70])

export function proxiedHttpsListenerHandlers(core: ConnectionCore, terminatorPort: () => number): SocketHandler<Connection> {
  const { routes, maxPeekBytes } = core.options
  return {
    ...core.shared,
    open(socket) {
      // Refused over a cap, the connection is closed and its phase says so: data() passes nothing on.
      core.accept(socket, core.isTrustedPeer(socket) ? 'proxy-header' : 'peek', core.peerOf(socket, true))
    },
    data(socket, bytes) {
      if (core.passOn(socket, bytes)) return
      const connection = socket.data
      connection.buffered = concat(connection.buffered, bytes)
      if (connection.phase === 'proxy-header') {
        if (!core.takeProxyHeader(socket)) return
        connection.phase = 'peek'
        if (connection.buffered.length === 0) return
      }
      const hello = readClientHelloSni(connection.buffered, maxPeekBytes)
      if (hello.status === 'incomplete') return
      if (hello.status === 'invalid' || !hello.serverName) return core.reject(socket, hello.status === 'invalid' ? EMPTY : TLS_UNRECOGNIZED_NAME)
      if (!routes.lookup(normalizeHost(hello.serverName), 'https')) return core.reject(socket, TLS_UNRECOGNIZED_NAME)
      const first = connection.buffered
      connection.buffered = EMPTY
      core.startPipe(socket, terminatorPort(), first, false)
    },
    end: (socket) => core.onEnd(socket),
  }
}
