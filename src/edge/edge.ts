/**
 * @module The data plane as one object: the two public dispatchers, the per-hostname instances, and the
 * sync that keeps instances matching the stored proxies. Events apply a change at once; a periodic
 * reconcile repairs anything an event missed, including instances whose proxy is gone (DESIGN §5).
 */
import type { Server } from 'bun'
import type { EventBus } from '../events/index.ts'
import { parseCidr, type Cidr, type Logger } from '../lib/index.ts'
import type { PortAllocator } from '../ports/index.ts'
import type { BridgeData, ClientInfo, LocalFetch, RequestInterceptor, Scheme } from '../proxy/index.ts'
import type { ProxyTargets } from '../targets/index.ts'
import { startDispatcher, type Dispatcher } from './dispatcher.ts'
import { createHandoff } from './handoff.ts'
import { createHostTable } from './host-table.ts'
import { createInstanceManager, type CertificateSource } from './instances.ts'

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

  const dispatchers: Dispatcher[] = []
  const manager = createInstanceManager({
    ports: deps.ports,
    routes,
    certificateFor: deps.certificateFor,
    apiOrigin: deps.apiOrigin,
    logger,
    drainMs: options.drainMs ?? 30_000,
    pipeline: {
      clientOf,
      apiFetch: deps.apiFetch,
      httpsPort: () => options.publicHttpsPort ?? dispatchers[1]?.port ?? options.httpsPort,
      interceptors: deps.interceptors,
      logger,
    },
  })

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

  const dispatcherOptions = { hostname: options.bindAddress, routes, handoff, trustedProxies, readDeadlineMs: options.readDeadlineMs ?? 10_000, idleTimeoutSec: options.idleTimeoutSec ?? 300, maxPeekBytes: MAX_PEEK_BYTES, logger }
  try {
    // A store outage at this moment must not stop the server: the periodic reconcile catches up.
    await reconcile().catch((error) => logger.warn('initial reconcile failed; retrying periodically', { error: String(error) }))
    dispatchers.push(startDispatcher({ ...dispatcherOptions, kind: 'http', port: options.httpPort }))
    dispatchers.push(startDispatcher({ ...dispatcherOptions, kind: 'https', port: options.httpsPort }))
  } catch (error) {
    unsubscribe()
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()))
    await manager.stopAll()
    throw error
  }

  const timer = setInterval(() => {
    reconcile().catch((error) => logger.warn('reconcile failed', { error: String(error) }))
  }, options.reconcileIntervalMs ?? 30_000)
  timer.unref()

  return {
    httpPort: dispatchers[0]!.port,
    httpsPort: dispatchers[1]!.port,
    reconcile,
    stats: () => ({
      connections: dispatchers.reduce((sum, dispatcher) => sum + dispatcher.connectionCount(), 0),
      handoffs: handoff.size(),
      instances: manager.hostnames().length,
    }),
    async stop() {
      clearInterval(timer)
      unsubscribe()
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()))
      await manager.stopAll()
    },
  }
}
