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
import { wildcardParent } from '../targets/index.ts'
import type { Connection } from './connection.ts'
import type { CertificatePem } from './instances.ts'

export interface TlsTerminator {
  readonly port: number
  /** Serves this certificate for the name from the next handshake on ("*.parent" for a wildcard proxy). */
  setCertificate(serverName: string, certificate: CertificatePem): void
  /** The name stops completing handshakes, unless a wildcard proxy covers it: then it gets the wildcard's certificate. */
  removeCertificate(serverName: string): void
  /** No new connections; the open ones go on (the edge closes them). Safe to call more than once. */
  stop(): void
}

export interface TlsTerminatorOptions {
  readonly hostname: string
  readonly port: number
  /** The setting that chose the port, for the error when it cannot be bound. */
  readonly setting: string
  /** SO_REUSEPORT, for several processes (workers) on one port. */
  readonly reusePort?: boolean
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
    server.listen({ port: options.port, host: options.hostname, reusePort: options.reusePort === true }, () => resolve())
  })
  const handle = (server as Server & { _handle?: Partial<NativeHandle> })._handle
  if (typeof handle?.reload !== 'function') {
    server.close()
    throw new Error('this Bun version does not expose the node:tls listener handle the TLS terminator needs')
  }
  handle.reload({ socket: options.socket })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port

  /** The certificates set per name, and the names that stand in with their wildcard's (see removeCertificate). */
  const certificates = new Map<string, CertificatePem>()
  const coveredByWildcard = new Set<string>()
  const serve = (serverName: string, certificate: CertificatePem | null) =>
    // A context without a certificate makes the name's handshakes fail (node:tls has no removeContext).
    server.addContext(serverName, certificate ? { cert: certificate.certPem, key: certificate.keyPem } : {})

  return {
    port,
    setCertificate(serverName, certificate) {
      certificates.set(serverName, certificate)
      coveredByWildcard.delete(serverName)
      serve(serverName, certificate)
      for (const name of coveredByWildcard) if (wildcardParent(name) === serverName) serve(name, certificate)
    },
    removeCertificate(serverName) {
      certificates.delete(serverName)
      // An exact name under a wildcard proxy is the wildcard's again; its own (now empty) entry would
      // otherwise shadow the wildcard's certificate, so it gets a copy of that one.
      const parent = wildcardParent(serverName)
      const cover = parent && !serverName.startsWith('*.') ? certificates.get(parent) : undefined
      if (cover) coveredByWildcard.add(serverName)
      serve(serverName, cover ?? null)
      for (const name of coveredByWildcard) {
        if (wildcardParent(name) !== serverName) continue
        coveredByWildcard.delete(name)
        serve(name, null)
      }
    },
    stop() {
      if (server.listening) server.close()
    },
  }
}
