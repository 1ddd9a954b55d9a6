/**
 * @module The data plane as one object: the public listeners (HTTP, and HTTPS through the TLS
 * terminator), the relay and its backend connection pool, the per-hostname hand-over servers, the
 * tables the decision step reads, and the sync that keeps all of them matching the store. Events apply
 * a change at once; a periodic reconcile repairs anything an event missed, including instances whose
 * proxy is gone (DESIGN §5).
 */
import type { Server } from 'bun'
import type { EventBus } from '../events/index.ts'
import { normalizeClientAddress, parseCidr, waitWhile, type Cidr, type Logger } from '../lib/index.ts'
import type { PortAllocator } from '../ports/index.ts'
import { createUpstreamPool, Deadlines, NO_REQUEST_LOG, type AuthGate, type RequestLogging, type BridgeData, type ClientInfo, type DecisionTables, type LocalFetch, type ProxyRateLimiter, type Scheme } from '../proxy/index.ts'
import type { ProxyTargets } from '../targets/index.ts'
import type { RefusalReason } from './connection-caps.ts'
import { createConnectionCore, DEFAULT_CONNECTION_LIMITS, type CoreOptions } from './connection.ts'
import { startDispatcher, type Dispatcher } from './dispatcher.ts'
import { createForwardAuth, type ForwardAuth } from './forward-auth.ts'
import { createHandoff } from './handoff.ts'
import { createHostTable } from './host-table.ts'
import { httpListenerHandlers } from './http-listener.ts'
import { createCertificateTable, type AcmeCertificates } from './certificate-table.ts'
import { createChallengeTable, type ChallengeSource } from './challenge-table.ts'
import { createInstanceManager, type CertificateSource } from './instances.ts'
import { proxiedHttpsListenerHandlers } from './proxied-https-listener.ts'
import { createRoutingState, type DockerServiceUrl, type RouteSource, type ServiceSource } from './routing-state.ts'
import { startTlsTerminator, type TlsTerminator } from './tls-terminator.ts'
import { tlsListenerHandlers } from './tls-listener.ts'

export interface EdgeOptions {
  readonly bindAddress: string
  readonly httpPort: number
  readonly httpsPort: number
  /** The HTTPS port clients see, for redirects (differs from httpsPort behind port mapping). */
  readonly publicHttpsPort?: number
  readonly trustedProxies: readonly string[]
  /** A request head (or a PROXY header, ClientHello, handshake) must be complete this long after it began (slowloris). */
  readonly readDeadlineMs?: number
  /** A connection with no bytes either way for this long is closed; SSE and WebSocket peers should send keep-alives sooner. */
  readonly idleTimeoutSec?: number
  /** The slowest average rate a request body may arrive at while it is read (slow POST). */
  readonly minBodyBytesPerSec?: number
  readonly reconcileIntervalMs?: number
  readonly drainMs?: number
  /** Open client connections on the public listeners at most, in all and from one client address (MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS). */
  readonly maxConnections?: number
  readonly maxConnectionsPerAddress?: number
  /** SO_REUSEPORT on the public listeners, for several processes (workers) on the same ports. Never on the instances: the hand-off is in-process. */
  readonly reusePort?: boolean
}

export interface EdgeDeps {
  readonly targets: ProxyTargets
  readonly routes: RouteSource
  readonly services: ServiceSource
  /** Docker services' URLs (`service://name[:port]`); none when absent. */
  readonly dockerServiceUrl?: DockerServiceUrl
  readonly bus: EventBus
  readonly ports: PortAllocator
  /** The self-signed certificate of a proxy without an issued one. */
  readonly certificateFor: CertificateSource
  /** Issued (ACME) certificates; null serves self-signed ones only. */
  readonly acme: AcmeCertificates | null
  readonly challenges: ChallengeSource
  readonly apiOrigin: string
  /** The management API's resource (PUBLIC_URL): a proxy in front of the API takes its tokens. */
  readonly apiResource: string
  /** The auth step of every decision (proxy/auth/gate.ts). */
  readonly gate: AuthGate
  /** Where the one record per request goes (the request log); none when absent. */
  readonly logging?: RequestLogging
  /** Proxies' rate_limit, counted per client address in this node's memory; none enforced when absent. */
  readonly rateLimiter?: ProxyRateLimiter
  readonly apiFetch: LocalFetch
  readonly logger: Logger
}

export interface Edge {
  readonly httpPort: number
  readonly httpsPort: number
  /** Makes the instances and the decision's tables match the store now. */
  reconcile(): Promise<void>
  /** Open connections and hand-off entries, for leak checks; connections refused over a cap since start, by reason. */
  stats(): { connections: number; handoffs: number; instances: number; refused: Readonly<Record<RefusalReason, number>> }
  /** The edge's answer for a request another proxy holds (/verify): the same decision and auth step as its own listeners'. */
  readonly forwardAuth: ForwardAuth
  /**
   * The first part of a shutdown: every listener (public and instances) stops accepting at once; requests
   * in flight, streams and WebSockets go on, each connection closing after its current response. Resolves
   * once nothing is under way (idle connections are then closed) or after timeoutMs; stop() ends the rest.
   */
  drain(timeoutMs: number): Promise<void>
  stop(): Promise<void>
}

const MAX_PEEK_BYTES = 16 * 1024
/** At a drain's end, how long hand-overs get to pass on their instances' closing bytes (a WebSocket's close frame). */
const CLOSE_FRAME_GRACE_MS = 250
/** Apache's mod_reqtimeout default: a body slower than this on average is a slow-POST attack. */
const MIN_BODY_BYTES_PER_SEC = 500

export async function startEdge(options: EdgeOptions, deps: EdgeDeps): Promise<Edge> {
  const { logger, targets } = deps
  const handoff = createHandoff()
  const hosts = createHostTable()
  const deadlines = new Deadlines()
  const routing = createRoutingState(deps.routes, deps.services, deps.dockerServiceUrl)
  const trustedProxies = options.trustedProxies.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null)
  const shutdown = { isDraining: false }

  const clientOf = (request: Request, server: Server<BridgeData>, scheme: Scheme): ClientInfo => {
    const peer = server.requestIP(request)
    const handed = peer ? handoff.find(peer.port, server.port ?? 0) : undefined
    return handed ?? { address: normalizeClientAddress(peer?.address ?? ''), port: peer?.port ?? 0, isTls: scheme === 'https', isViaTrustedProxy: false }
  }

  const dispatchers: Dispatcher[] = []
  let terminator: TlsTerminator | null = null
  /** Where the HTTPS listener really listens (known once it does: HTTPS_PORT may be 0). */
  let httpsListenPort = options.httpsPort
  let httpListenPort = options.httpPort
  const challenges = createChallengeTable(deps.challenges)
  const tables: DecisionTables = {
    lookup: (hostname, scheme) => hosts.lookup(hostname, scheme),
    siteOf: (proxyHostname) => manager.siteOf(proxyHostname),
    routes: () => routing.routes(),
    serviceUrl: (name) => routing.serviceUrl(name),
    httpsPort: () => options.publicHttpsPort ?? httpsListenPort,
    isListenerPort: (port) => port === httpListenPort || port === httpsListenPort,
    challenge: (token) => challenges.lookup(token),
  }
  const manager = createInstanceManager({
    ports: deps.ports,
    routes: hosts,
    apiOrigin: deps.apiOrigin,
    apiResource: deps.apiResource,
    logger,
    drainMs: options.drainMs ?? 30_000,
    pipeline: { tables, gate: deps.gate, rateLimiter: deps.rateLimiter ?? null, logging: deps.logging ?? NO_REQUEST_LOG, clientOf, apiFetch: deps.apiFetch, deadlines, logger },
  })
  /** Set once the terminator runs, which is before the first reconcile. */
  let certificates: ReturnType<typeof createCertificateTable> | null = null
  const pool = createUpstreamPool()

  /**
   * Counts event-driven syncs. A reconcile whose snapshot was read before a hostname's event came skips
   * that hostname: its snapshot is older than what the event applied (or removed).
   */
  let epoch = 0
  const syncedAt = new Map<string, number>()

  const syncOne = async (hostname: string) => {
    syncedAt.set(hostname, ++epoch)
    const target = await targets.get(hostname)
    if (target) await manager.apply(target)
    else await manager.remove(hostname)
    await certificates?.sync(target, hostname)
  }

  /** A certificate changed: every proxy serving that name gets it (or its fallback) from the next handshake. */
  const syncCertificate = async (certName: string) => {
    const hostnames = new Set([...(certificates?.hostnamesUsing(certName) ?? []), ...(manager.siteOf(certName) ? [certName] : [])])
    const proxies = await Promise.all([...hostnames].map(async (hostname) => ({ target: await targets.get(hostname), hostname })))
    await certificates?.syncTogether(proxies)
  }

  const reconcile = async () => {
    const startEpoch = epoch
    const [stored] = await Promise.all([targets.list(), routing.reload(), challenges.reload()])
    const isSyncedSince = (hostname: string) => (syncedAt.get(hostname) ?? 0) > startEpoch
    const wanted = new Set(stored.map((target) => target.proxy_hostname))
    const gone = manager.hostnames().filter((hostname) => !wanted.has(hostname) && !isSyncedSince(hostname))
    await Promise.all([
      ...stored.filter((target) => !isSyncedSince(target.proxy_hostname)).map(async (target) => {
        await manager.apply(target)
        await certificates?.sync(target, target.proxy_hostname)
      }),
      ...gone.map(async (hostname) => {
        await manager.remove(hostname)
        await certificates?.sync(null, hostname)
      }),
    ])
    for (const [hostname, at] of syncedAt) if (at <= startEpoch) syncedAt.delete(hostname)
  }

  const unsubscribe = deps.bus.subscribe(async (event) => {
    switch (event.type) {
      case 'proxy_created':
      case 'proxy_updated':
      case 'proxy_deleted':
        return syncOne(event.hostname)
      case 'route_changed':
        return routing.refreshRoute(event.routeId)
      case 'service_changed':
        return routing.refreshService(event.name)
      case 'acme_challenge':
        return challenges.refresh(event.token)
      case 'certificate_ready':
      case 'certificate_deleted':
        return syncCertificate(event.certName)
    }
  })

  const idleTimeoutMs = (options.idleTimeoutSec ?? 300) * 1000
  const readDeadlineMs = options.readDeadlineMs ?? 10_000
  const coreOptions: CoreOptions = {
    routes: hosts,
    handoff,
    deadlines,
    trustedProxies,
    relay: {
      tables,
      gate: deps.gate,
      rateLimiter: deps.rateLimiter ?? null,
      logging: deps.logging ?? NO_REQUEST_LOG,
      pool,
      deadlines,
      timeouts: { headMs: readDeadlineMs, idleMs: idleTimeoutMs, minBodyBytesPerSec: options.minBodyBytesPerSec ?? MIN_BODY_BYTES_PER_SEC },
      logger,
      shutdown,
    },
    readDeadlineMs,
    idleTimeoutMs,
    maxPeekBytes: MAX_PEEK_BYTES,
    limits: {
      maxConnections: options.maxConnections ?? DEFAULT_CONNECTION_LIMITS.maxConnections,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? DEFAULT_CONNECTION_LIMITS.maxConnectionsPerAddress,
    },
    logger,
  }
  const core = createConnectionCore(coreOptions)
  try {
    // The terminator first: every certificate the first reconcile installs goes straight into it. A PROXY
    // protocol header comes before the ClientHello, which the TLS engine cannot skip: with trusted load
    // balancers, a plain listener reads it and pipes the rest to the terminator on loopback.
    const behindProxies = trustedProxies.length > 0
    terminator = await startTlsTerminator({
      hostname: behindProxies ? '127.0.0.1' : options.bindAddress,
      port: behindProxies ? 0 : options.httpsPort,
      setting: 'HTTPS_PORT',
      // The loopback terminator behind the PROXY-fed listener is each process's own.
      reusePort: !behindProxies && options.reusePort === true,
      socket: tlsListenerHandlers(core, !behindProxies),
    })
    certificates = createCertificateTable({ tls: terminator, selfSigned: deps.certificateFor, acme: deps.acme, logger })
    // A store outage at this moment must not stop the server: the periodic reconcile catches up.
    await reconcile().catch((error) => logger.warn('initial reconcile failed; retrying periodically', { error: String(error) }))
    dispatchers.push(startDispatcher(httpListenerHandlers(core), { hostname: options.bindAddress, port: options.httpPort, setting: 'HTTP_PORT', reusePort: options.reusePort }))
    httpListenPort = dispatchers[0]!.port
    const terminatorPort = terminator.port
    if (behindProxies) {
      dispatchers.push(startDispatcher(proxiedHttpsListenerHandlers(core, () => terminatorPort), { hostname: options.bindAddress, port: options.httpsPort, setting: 'HTTPS_PORT', reusePort: options.reusePort }))
    }
    httpsListenPort = behindProxies ? dispatchers[1]!.port : terminatorPort
  } catch (error) {
    unsubscribe()
    for (const dispatcher of dispatchers) dispatcher.stop()
    terminator?.stop()
    await manager.stopAll()
    deadlines.stop()
    throw error
  }

  const timer = setInterval(() => {
    reconcile().catch((error) => logger.warn('reconcile failed', { error: String(error) }))
  }, options.reconcileIntervalMs ?? 30_000)
  timer.unref()

  /** No new connections anywhere, and no new instances either (configuration changes no longer apply). */
  const stopAccepting = () => {
    clearInterval(timer)
    unsubscribe()
    for (const dispatcher of dispatchers) dispatcher.stopAccepting()
    terminator?.stop()
    manager.stopAccepting()
  }

  return {
    httpPort: dispatchers[0]!.port,
    httpsPort: httpsListenPort,
    reconcile,
    stats: () => ({ connections: core.count(), handoffs: handoff.size(), instances: manager.hostnames().length, refused: core.refused() }),
    forwardAuth: createForwardAuth(tables, deps.gate),
    async drain(timeoutMs) {
      const untilMs = performance.now() + timeoutMs
      shutdown.isDraining = true
      stopAccepting()
      await waitWhile(() => core.busyCount() > 0 || manager.inFlight() > 0, untilMs)
      if (core.busyCount() === 0 && manager.inFlight() === 0) return core.closeIdle()
      // Out of time: the instances close their WebSockets (1001, going away), and those frames get a moment to pass.
      await manager.stopAll()
      await waitWhile(() => core.busyCount('piped') > 0, performance.now() + CLOSE_FRAME_GRACE_MS)
    },
    async stop() {
      shutdown.isDraining = true
      stopAccepting()
      for (const dispatcher of dispatchers) dispatcher.stop()
      core.closeAll()
      pool.closeAll()
      await manager.stopAll()
      deadlines.stop()
    },
  }
}
