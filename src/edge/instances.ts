/**
 * @module One instance per proxy hostname (DESIGN §3.2): a Bun.serve on a loopback HTTP port and, with
 * HTTPS enabled, another on a loopback HTTPS port holding that hostname's certificate. Configuration
 * changes apply to the next request without touching the servers; a certificate change starts a new
 * server on the same port (SO_REUSEPORT), then drains the old one, because Bun.serve cannot swap TLS in
 * place. Changes to one hostname are applied one at a time, in order.
 */
import type { Server } from 'bun'
import type { Logger } from '../lib/index.ts'
import type { PortAllocator } from '../ports/index.ts'
import { createInstanceHandler, prepareSite, type BridgeData, type PipelineDeps, type Site } from '../proxy/index.ts'
import type { ProxyTarget } from '../targets/index.ts'
import type { HostTable } from './host-table.ts'

export interface CertificatePem {
  readonly certPem: string
  readonly keyPem: string
}

/** The certificate an HTTPS instance serves and a key that changes when the certificate does. */
export type CertificateSource = (target: ProxyTarget) => Promise<CertificatePem & { readonly version: string }>

export interface InstanceManagerDeps {
  readonly ports: PortAllocator
  readonly routes: HostTable
  readonly certificateFor: CertificateSource
  readonly pipeline: Omit<PipelineDeps, 'siteOf'>
  readonly apiOrigin: string
  readonly logger: Logger
  /** How long an old server may finish in-flight requests after a swap or delete before it is closed hard. */
  readonly drainMs: number
}

export interface InstanceManager {
  /** Starts, updates or stops the hostname's servers to match the target. */
  apply(target: ProxyTarget): Promise<void>
  /** Stops the hostname's servers and frees its ports. */
  remove(hostname: string): Promise<void>
  hostnames(): string[]
  /** Every server stopped at once; for shutdown. */
  stopAll(): Promise<void>
}

interface Instance {
  site: Site
  http: Server<BridgeData> | null
  https: Server<BridgeData> | null
  certificateVersion: string | null
}

export function createInstanceManager(deps: InstanceManagerDeps): InstanceManager {
  const instances = new Map<string, Instance>()
  const queues = new Map<string, Promise<void>>()
  const pipeline: PipelineDeps = { ...deps.pipeline, siteOf: (hostname) => instances.get(hostname)?.site }

  /** One change per hostname at a time; different hostnames proceed in parallel. */
  const serialize = (hostname: string, work: () => Promise<void>): Promise<void> => {
    const next = (queues.get(hostname) ?? Promise.resolve()).then(work, work)
    const settled = next.catch((error) => deps.logger.error('instance change failed', { hostname, error: String(error) }))
    queues.set(hostname, settled)
    void settled.then(() => queues.get(hostname) === settled && queues.delete(hostname))
    return next
  }

  const serve = (hostname: string, scheme: 'http' | 'https', port: number, tls?: CertificatePem) => {
    const handler = createInstanceHandler(hostname, scheme, pipeline)
    return Bun.serve<BridgeData>({
      hostname: '127.0.0.1',
      port,
      reusePort: true,
      // Streaming responses (SSE, downloads) may be quiet for long stretches; the backend decides.
      idleTimeout: 0,
      ...(tls ? { tls: { cert: tls.certPem, key: tls.keyPem } } : {}),
      fetch: handler.fetch,
      websocket: handler.websocket,
      error: (error) => {
        deps.logger.error('instance error', { hostname, error: String(error) })
        return new Response('internal error\n', { status: 500 })
      },
    })
  }

  /** Lets in-flight requests finish, then closes whatever is left. */
  const drain = (server: Server<BridgeData>) => {
    void server.stop(false)
    setTimeout(() => void server.stop(true), deps.drainMs).unref()
  }

  const applyNow = async (target: ProxyTarget) => {
    const hostname = target.proxy_hostname
    const instance = instances.get(hostname) ?? { site: prepareSite(target, deps.apiOrigin), http: null, https: null, certificateVersion: null }
    instance.site = prepareSite(target, deps.apiOrigin)
    instances.set(hostname, instance)

    if (target.enable_http && !instance.http) instance.http = serve(hostname, 'http', await deps.ports.portFor(hostname, 'http'))
    if (!target.enable_http && instance.http) {
      drain(instance.http)
      instance.http = null
    }
    deps.routes.set(hostname, 'http', instance.http?.port)

    if (target.enable_https) {
      const certificate = await deps.certificateFor(target)
      if (certificate.version !== instance.certificateVersion) {
        const port = await deps.ports.portFor(hostname, 'https')
        const previous = instance.https
        // Start the new server before the old one stops listening: no connection is refused meanwhile.
        instance.https = serve(hostname, 'https', port, certificate)
        instance.certificateVersion = certificate.version
        if (previous) drain(previous)
      }
    } else if (instance.https) {
      drain(instance.https)
      instance.https = null
      instance.certificateVersion = null
    }
    deps.routes.set(hostname, 'https', instance.https?.port)
  }

  const removeNow = async (hostname: string) => {
    const instance = instances.get(hostname)
    deps.routes.delete(hostname)
    instances.delete(hostname)
    if (instance?.http) drain(instance.http)
    if (instance?.https) drain(instance.https)
    await deps.ports.release(hostname)
  }

  return {
    apply: (target) => serialize(target.proxy_hostname, () => applyNow(target)),
    remove: (hostname) => serialize(hostname, () => removeNow(hostname)),
    hostnames: () => [...instances.keys()],
    async stopAll() {
      const servers = [...instances.values()].flatMap((instance) => [instance.http, instance.https]).filter((server) => server !== null)
      instances.clear()
      await Promise.all(servers.map((server) => server.stop(true)))
    },
  }
}
