/**
 * @module TLS termination for every HTTPS proxy on one listener, with the certificate chosen by SNI.
 * Bun.listen takes one certificate; node:tls's server takes one per name (addContext, which also
 * replaces a name's certificate in place: new handshakes get the new one, open connections keep
 * theirs). So the listener is made by node:tls, and its native Bun listener is then given our own
 * socket handlers (`reload`), which turns node's stream wrappers off: connections reach the relay
 * as raw Bun TLS sockets, as fast as a plain Bun.listen.
 *
 * There is no default certificate: a ClientHello without a configured name fails the handshake.
 */
import { createServer, type Server } from 'node:tls'
import type { SocketHandler } from 'bun'
import { describeBindError } from '../lib/index.ts'
import type { Connection } from './dispatcher.ts'
import type { CertificatePem } from './instances.ts'

export interface TlsTerminator {
  readonly port: number
  /** Serves this certificate for the name from the next handshake on ("*.parent" for a wildcard proxy). */
  setCertificate(serverName: string, certificate: CertificatePem): void
  /** The name stops completing handshakes. */
  removeCertificate(serverName: string): void
  stop(): void
}

export interface TlsTerminatorOptions {
  readonly hostname: string
  readonly port: number
  /** The setting that chose the port, for the error when it cannot be bound. */
  readonly setting: string
  readonly socket: SocketHandler<Connection>
}

/** The part of Bun's node:tls server this module relies on (its native listener), checked at start-up. */
interface NativeHandle {
  reload(options: { socket: SocketHandler<Connection> }): void
}

export async function startTlsTerminator(options: TlsTerminatorOptions): Promise<TlsTerminator> {
  const server = createServer({ allowHalfOpen: false })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(describeBindError(options.setting, options.hostname, options.port, error)))
    server.listen(options.port, options.hostname, () => resolve())
  })
  const handle = (server as Server & { _handle?: Partial<NativeHandle> })._handle
  if (typeof handle?.reload !== 'function') {
    server.close()
    throw new Error('this Bun version does not expose the node:tls listener handle the TLS terminator needs')
  }
  handle.reload({ socket: options.socket })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port

  return {
    port,
    setCertificate(serverName, certificate) {
      server.addContext(serverName, { cert: certificate.certPem, key: certificate.keyPem })
    },
    removeCertificate(serverName) {
      // node:tls has no removeContext; a context without a certificate makes the name's handshakes fail.
      try {
        server.addContext(serverName, {})
      } catch {
        // Then the old certificate stays; the listener still closes connections for names it has no proxy for.
      }
    },
    stop() {
      server.close()
    },
  }
}
