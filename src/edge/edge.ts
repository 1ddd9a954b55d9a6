/**
 * @module The data plane as one object: the public listeners (HTTP, and HTTPS through the TLS
 * terminator), the relay and its backend connection pool, the per-hostname instances, and the sync that
 * keeps instances matching the stored proxies. Events apply a change at once; a periodic reconcile
 * repairs anything an event missed, including instances whose proxy is gone (DESIGN §5).
 */
import type { Server } from 'bun'
import type { EventBus } from '../events/index.ts'
import { parseCidr, type Cidr, type Logger } from '../lib/index.ts'
import type { PortAllocator } from '../ports/index.ts'
import { createUpstreamPool, type BridgeData, type ClientInfo, type LocalFetch, type RequestInterceptor, type Scheme } from '../proxy/index.ts'
import type { ProxyTargets } from '../targets/index.ts'
import { createConnectionHandlers, startDispatcher, type ConnectionOptions, type Dispatcher } from './dispatcher.ts'
import { createHandoff } from './handoff.ts'
import { createHostTable } from './host-table.ts'
import { createInstanceManager, type CertificateSource } from './instances.ts'
import { startTlsTerminator, type TlsTerminator } from './tls-terminator.ts'

export interface EdgeOptions {
  readonly bindAddress: string
  readonly httpPort: number
  readonly httpsPort: number
  /** The HTTPS port clients see, for redirects (differs from httpsPort behind port mapping). */
  readonly publicHttpsPort?: number
  readonly trustedProxies: readonly string[]
  readonly readDeadlineMs?: number
  /** Idle piped connections close after this long; SSE and WebSocket peers should send keep-alives sooner. */
  readonly idleTimeoutSec?: number
  readonly reconcileIntervalMs?: number
  readonly drainMs?: number
}

export interface EdgeDeps {
  readonly targets: ProxyTargets
  readonly bus: EventBus
  readonly ports: PortAllocator
  readonly certificateFor: CertificateSource
  readonly apiOrigin: string
  readonly apiFetch: LocalFetch
  readonly interceptors?: readonly RequestInterceptor[]
  readonly logger: Logger
}

export interface Edge {
  readonly httpPort: number
  readonly httpsPort: number
  /** Makes the instances match the store now. */
  reconcile(): Promise<void>
  /** Open connections and hand-off entries, for leak checks. */
  stats(): { connections: number; handoffs: number; instances: number }
  stop(): Promise<void>
}

const MAX_PEEK_BYTES = 16 * 1024

export async function startEdge(options: EdgeOptions, deps: EdgeDeps): Promise<Edge> {
  const { logger, targets } = deps
  const handoff = createHandoff()
  const routes = createHostTable()
  const trustedProxies = options.trustedProxies.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null)

  const clientOf = (request: Request, server: Server<BridgeData>, scheme: Scheme): ClientInfo => {
    const peer = server.requestIP(request)
    const handed = peer ? handoff.find(peer.port, server.port ?? 0) : undefined
    return handed ?? { address: peer?.address ?? '', port: peer?.port ?? 0, isTls: scheme === 'https', isViaTrustedProxy: false }
  }

  const proxyFor = (hostname: string, scheme: Scheme) => routes.lookup(hostname, scheme)?.proxyHostname
  const dispatchers: Dispatcher[] = []
  let terminator: TlsTerminator | null = null
  // The TLS terminator must exist before instances install their certificates; its handlers are set below.
  const certificates = new Map<string, Parameters<TlsTerminator['setCertificate']>[1]>()
  const tls = {
    setCertificate: (name: string, certificate: Parameters<TlsTerminator['setCertificate']>[1]) => (terminator ? terminator.setCertificate(name, certificate) : void certificates.set(name, certificate)),
    removeCertificate: (name: string) => (terminator ? terminator.removeCertificate(name) : void certificates.delete(name)),
  }
  /** Where the HTTPS listener really listens (known once it does: HTTPS_PORT may be 0). */
  let httpsListenPort = options.httpsPort
  const manager = createInstanceManager({
    ports: deps.ports,
    routes,
    certificateFor: deps.certificateFor,
    tls,
    apiOrigin: deps.apiOrigin,
    logger,
    drainMs: options.drainMs ?? 30_000,
    pipeline: {
      clientOf,
      proxyFor,
      apiFetch: deps.apiFetch,
      httpsPort: () => options.publicHttpsPort ?? httpsListenPort,
      interceptors: deps.interceptors,
      logger,
    },
  })
  const pool = createUpstreamPool()

  const syncOne = async (hostname: string) => {
    const target = await targets.get(hostname)
    if (target) await manager.apply(target)
    else await manager.remove(hostname)
  }

  const reconcile = async () => {
    const stored = await targets.list()
    const wanted = new Set(stored.map((target) => target.proxy_hostname))
    await Promise.all([
      ...stored.map((target) => manager.apply(target)),
      ...manager.hostnames().filter((hostname) => !wanted.has(hostname)).map((hostname) => manager.remove(hostname)),
    ])
  }

  const unsubscribe = deps.bus.subscribe(async (event) => {
    if (event.type === 'proxy_created' || event.type === 'proxy_updated' || event.type === 'proxy_deleted') await syncOne(event.hostname)
  })

  const connectionOptions: Omit<ConnectionOptions, 'kind'> = {
    routes,
    handoff,
    trustedProxies,
    relay: { siteOf: manager.siteOf, proxyFor, pool, hasInterceptors: (deps.interceptors?.length ?? 0) > 0, logger },
    readDeadlineMs: options.readDeadlineMs ?? 10_000,
    idleTimeoutSec: options.idleTimeoutSec ?? 300,
    maxPeekBytes: MAX_PEEK_BYTES,
    logger,
  }
  const tlsHandlers = createConnectionHandlers({ ...connectionOptions, kind: 'tls' })
  try {
    // A store outage at this moment must not stop the server: the periodic reconcile catches up.
    await reconcile().catch((error) => logger.warn('initial reconcile failed; retrying periodically', { error: String(error) }))
    dispatchers.push(startDispatcher({ ...connectionOptions, kind: 'http', hostname: options.bindAddress, port: options.httpPort, setting: 'HTTP_PORT' }))
    // A PROXY protocol header comes before the ClientHello, which the TLS engine cannot skip: with trusted
    // load balancers, a plain listener reads it and pipes the rest to the terminator on loopback.
    const behindProxies = trustedProxies.length > 0
    terminator = await startTlsTerminator({
      hostname: behindProxies ? '127.0.0.1' : options.bindAddress,
      port: behindProxies ? 0 : options.httpsPort,
      setting: 'HTTPS_PORT',
      socket: tlsHandlers.socket,
    })
    for (const [name, certificate] of certificates) terminator.setCertificate(name, certificate)
    certificates.clear()
    const terminatorPort = terminator.port
    if (behindProxies) dispatchers.push(startDispatcher({ ...connectionOptions, kind: 'https', hostname: options.bindAddress, port: options.httpsPort, setting: 'HTTPS_PORT', terminatorPort: () => terminatorPort }))
    httpsListenPort = behindProxies ? dispatchers[1]!.port : terminatorPort
  } catch (error) {
    unsubscribe()
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()))
    terminator?.stop()
    await manager.stopAll()
    throw error
  }

  const timer = setInterval(() => {
    reconcile().catch((error) => logger.warn('reconcile failed', { error: String(error) }))
  }, options.reconcileIntervalMs ?? 30_000)
  timer.unref()

  return {
    httpPort: dispatchers[0]!.port,
    httpsPort: httpsListenPort,
    reconcile,
    stats: () => ({
      connections: dispatchers.reduce((sum, dispatcher) => sum + dispatcher.connectionCount(), tlsHandlers.count()),
      handoffs: handoff.size(),
      instances: manager.hostnames().length,
    }),
    async stop() {
      clearInterval(timer)
      unsubscribe()
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()))
      terminator?.stop()
      tlsHandlers.closeAll()
      pool.closeAll()
      await manager.stopAll()
    },
  }
}
