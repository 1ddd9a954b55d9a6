/**
 * @module One instance per proxy hostname (DESIGN §3.2): the full HTTP server (Bun.serve) behind the
 * relay, for what the relay hands over (WebSocket, HTTP/1.0, the in-process API, https and PROXY
 * protocol backends, error answers). It listens on a loopback port for the hostname's plain HTTP
 * traffic and, with HTTPS enabled, on another for its HTTPS traffic, which arrives already decrypted
 * by the TLS terminator; each knows which scheme it serves. Certificates are the certificate table's
 * (certificate-table.ts). Configuration changes apply to the next request without touching the
 * servers. Changes to one hostname are applied one at a time, in order.
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

/** The self-signed certificate a proxy is served with until it has an issued one, and a key that changes with it. */
export type CertificateSource = (target: ProxyTarget) => Promise<CertificatePem & { readonly version: string }>

export interface InstanceManagerDeps {
  readonly ports: PortAllocator
  readonly routes: HostTable
  readonly pipeline: PipelineDeps
  readonly apiOrigin: string
  readonly apiResource: string
  readonly logger: Logger
  /** How long an old server may finish in-flight requests after a swap or delete before it is closed hard. */
  readonly drainMs: number
  /** How long an old server keeps listening after the table switch, for connections already on their way. */
  readonly handoverMs?: number
}

export interface InstanceManager {
  /** Starts, updates or stops the hostname's servers to match the target. */
  apply(target: ProxyTarget): Promise<void>
  /** Stops the hostname's servers and frees its ports. */
  remove(hostname: string): Promise<void>
  hostnames(): string[]
  /** The hostname's current configuration, read by the relay on every request. */
  siteOf(hostname: string): Site | undefined
  /** Every server stops accepting; what is in flight on them goes on (the start of a shutdown's drain). */
  stopAccepting(): void
  /** Requests and WebSockets in flight on every server. */
  inFlight(): number
  /** Every server stopped at once; for shutdown. */
  stopAll(): Promise<void>
}

interface Instance {
  site: Site
  http: Server<BridgeData> | null
  https: Server<BridgeData> | null
}

export function createInstanceManager(deps: InstanceManagerDeps): InstanceManager {
  const instances = new Map<string, Instance>()
  const servers = () => [...instances.values()].flatMap((instance) => [instance.http, instance.https]).filter((server) => server !== null)
  const queues = new Map<string, Promise<void>>()
  const { pipeline } = deps

  /** One change per hostname at a time; different hostnames proceed in parallel. */
  const serialize = (hostname: string, work: () => Promise<void>): Promise<void> => {
    const next = (queues.get(hostname) ?? Promise.resolve()).then(work, work)
    const settled = next.catch((error) => deps.logger.error('instance change failed', { hostname, error: String(error) }))
    queues.set(hostname, settled)
    void settled.then(() => queues.get(hostname) === settled && queues.delete(hostname))
    return next
  }

  const serve = (hostname: string, scheme: 'http' | 'https', port: number) => {
    const handler = createInstanceHandler(hostname, scheme, pipeline)
    return Bun.serve<BridgeData>({
      hostname: '127.0.0.1',
      port,
      // Streaming responses (SSE, downloads) may be quiet for long stretches; the backend decides.
      idleTimeout: 0,
      // Bodies stream through to the backend, which decides how large they may be (Bun's default is 128 MiB).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch: handler.fetch,
      websocket: handler.websocket,
      error: (error) => {
        deps.logger.error('instance error', { hostname, error: String(error) })
        return new Response('internal error\n', { status: 500 })
      },
    })
  }

  /**
   * The allocated port when it is free; an ephemeral one while an older server (being drained) still
   * holds it, or another process on this host does (another worker of serve --workers, or another node):
   * the hand-off is in-process, so each process's listeners reach only its own instances, wherever they listen.
   */
  const serveOnEitherPort = (hostname: string, scheme: 'http' | 'https', port: number) => {
    try {
      return serve(hostname, scheme, port)
    } catch (error) {
      if (port === 0 || !/in use|EADDRINUSE/i.test(String(error))) throw error
      return serve(hostname, scheme, 0)
    }
  }

  /**
   * Keeps listening briefly (connects already in flight still land), then stops accepting and lets
   * in-flight requests finish, then closes whatever is left.
   */
  const drain = (server: Server<BridgeData>) => {
    const handoverMs = deps.handoverMs ?? 1_000
    setTimeout(() => void server.stop(false), handoverMs).unref()
    setTimeout(() => void server.stop(true), handoverMs + deps.drainMs).unref()
  }

  const applyNow = async (target: ProxyTarget) => {
    const hostname = target.proxy_hostname
    const instance = instances.get(hostname) ?? { site: prepareSite(target, deps.apiOrigin, deps.apiResource), http: null, https: null }
    instance.site = prepareSite(target, deps.apiOrigin, deps.apiResource)
    instances.set(hostname, instance)

    if (target.enable_http && !instance.http) instance.http = serveOnEitherPort(hostname, 'http', await deps.ports.portFor(hostname, 'http'))
    if (!target.enable_http && instance.http) {
      drain(instance.http)
      instance.http = null
    }
    deps.routes.set(hostname, 'http', instance.http?.port)

    if (target.enable_https && !instance.https) instance.https = serveOnEitherPort(hostname, 'https', await deps.ports.portFor(hostname, 'https'))
    if (!target.enable_https && instance.https) {
      drain(instance.https)
      instance.https = null
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
    siteOf: (hostname) => instances.get(hostname)?.site,
    stopAccepting() {
      for (const server of servers()) void server.stop(false)
    },
    inFlight: () => servers().reduce((count, server) => count + server.pendingRequests + server.pendingWebSockets, 0),
    async stopAll() {
      const all = servers()
      instances.clear()
      await Promise.all(all.map((server) => server.stop(true)))
    },
  }
}
