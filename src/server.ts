/**
 * @module The composition root of `serve`: builds every long-lived object once, starts them in
 * order, and stops whatever already started if a later step fails (Caddy's run()).
 */
import { certificateRoutes, createApiApp, createLogFollows, dockerServiceRoutes, externalServiceRoutes, metricsRoutes, portRoutes, proxyAuthRoutes, proxyOAuthServerRoutes, proxyResourceRoutes, proxyRouteRoutes, proxyTargetRoutes, routeRoutes, systemConfigRoutes, systemNodeRoutes, verifyRoutes, type LogFollows } from './api/index.ts'
import { serviceDependents, serviceExists, startDockerServices, watchDockerEngine } from './compose-docker.ts'
import { composeMetrics, edgeRequestLogging, logApiRoutes, startLogs } from './compose-logs.ts'
import { composeOAuthServer } from './compose-oauth.ts'
import { composeRateLimits } from './compose-rate-limits.ts'
import { composeResourceServer } from './compose-resource-server.ts'
import { openStoreOrExplain, waitForStore } from './compose-store.ts'
import { createCertificateManager, createCertificateSource, createChallengeStore, type CertificateManager } from './certs/index.ts'
import type { Config } from './config/index.ts'
import type { DockerServices } from './docker/index.ts'
import { resolveListenAddress, startEdge, type Edge, type EdgeOptions, type ForwardAuth } from './edge/index.ts'
import { createMemoryBus, createRedisBus, type EventBus } from './events/index.ts'
import { createLogger, describeBindError, systemClock, waitWhile, type Clock, type Logger } from './lib/index.ts'
import type { CaptureService, RequestLog } from './logs/index.ts'
import { apiResource, createKeyRing, type KeyRing } from './oauth/index.ts'
import { createPortAllocator } from './ports/index.ts'
import { compileRouteTable, createRouteStore, routesTargeting, type RouteStore, type RouteTable } from './routes/index.ts'
import { createExternalServices, type ExternalServices } from './services/index.ts'
import { createNodeHeartbeats, type Store } from './store/index.ts'
import { createProxyTargets, type ProxyTarget, type ProxyTargets } from './targets/index.ts'
import { createUiSession, loadUiFiles, mountUiAssets } from './ui/index.ts'
import { VERSION } from './version.ts'

/** Longer than the longest long poll the API answers (GET /certificates/{name}/status?wait=60). */
const API_IDLE_TIMEOUT_SEC = 75
/** How long ended live tails get to send their last bytes before the API closes its connections. */
const FOLLOW_END_GRACE_MS = 250

export interface RunningServer {
  readonly apiUrl: string
  readonly store: Store
  readonly bus: EventBus
  readonly keyRing: KeyRing
  readonly targets: ProxyTargets
  readonly routes: RouteStore
  readonly services: ExternalServices
  /** Docker services (#14); null when DOCKER_SERVICES=false (their API answers 503). */
  readonly dockerServices: DockerServices | null
  readonly edge: Edge
  readonly certificates: CertificateManager
  /** Header captures (POST /logs/capture): what the data plane feeds through captureFor and capture. */
  readonly captures: CaptureService
  /** The request log (#12): the records of every request through the edge, and their queries. */
  readonly requestLog: RequestLog
  /**
   * Every listener stops accepting at once; requests in flight, WebSocket and SSE streams get up to
   * drainMs (default 0) to finish; then the rest is closed, consumers stop and the store is flushed.
   */
  stop(drainMs?: number): Promise<void>
}

export interface ServerOptions {
  readonly logger?: Logger
  readonly clock?: Clock
  /** Data-plane timings that have no setting (tests shorten the slowloris deadline). */
  readonly edge?: Pick<EdgeOptions, 'readDeadlineMs' | 'drainMs' | 'reconcileIntervalMs' | 'idleTimeoutSec' | 'minBodyBytesPerSec'>
  /** One of several workers on this host (serve --workers): its listeners share their ports (SO_REUSEPORT), and `bus` links it to the others. */
  readonly worker?: { readonly bus?: EventBus }
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel)
  const clock = options.clock ?? systemClock
  const cleanups: (() => Promise<void>)[] = []
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error) => logger.error('stop failed', { error: String(error) }))
  }
  const onStop = (cleanup: () => Promise<void>) => void cleanups.push(cleanup)

  try {
    const store = openStoreOrExplain(config)
    onStop(() => store.close())
    await waitForStore(store, config)

    const keyRing = createKeyRing(store, clock, { retireAfterSec: config.oauth.accessTokenLifetimeSec })
    await keyRing.ensureActive()

    const bus = options.worker?.bus ?? (config.redisUrl ? createRedisBus({ url: config.redisUrl, nodeId: config.nodeId, logger: logger.child('events') }) : createMemoryBus(logger.child('events')))
    await bus.start()
    onStop(() => bus.stop())
    const logs = await startLogs({ config, store, bus, clock, logger }, onStop)
    const { oauthActivity, requestLog, captures } = logs

    const targets = createProxyTargets(store, bus, clock)
    const ports = createPortAllocator(store, config.proxyPorts)
    const services = createExternalServices(store, bus, clock)
    const dockerServices = await startDockerServices({ config, store, bus, clock, logger: logger.child('docker') }, onStop)
    const challenges = createChallengeStore(store, bus)
    const certificates = createCertificateManager({
      store,
      bus,
      clock,
      logger: logger.child('certs'),
      challenges,
      nodeId: config.nodeId,
      config: {
        productionDirectoryUrl: config.acme.directoryUrl,
        stagingDirectoryUrl: config.acme.stagingUrl,
        defaultEmail: config.acme.email ?? null,
        renewCheckIntervalMs: config.acme.renewCheckIntervalSec * 1000,
        renewalThresholdDays: config.acme.renewalThresholdDays,
        proxyDirectory: config.acme.proxyDirectory,
      },
    })
    await certificates.start()
    onStop(() => certificates.stop())
    const routes = createRouteStore(store, bus, clock, {
      serviceExists: (ref) => serviceExists(ref, services, dockerServices),
      proxyExists: async (hostname) => (await targets.get(hostname)) !== null,
    })
    const audience = apiResource(config)
    let apiRouteTable: RouteTable | undefined
    // Known once the API listens (API_PORT=0 picks the port then); the issuer resolver asks per request.
    let apiUrl = ''
    const rateLimits = composeRateLimits({ config, store, clock, logger: logger.child('ratelimit') })
    const oauth = composeOAuthServer({ config, store, bus, clock, logger: logger.child('oauth'), keyRing, targets, apiOrigin: () => apiUrl, activity: oauthActivity, rateLimitCounts: rateLimits.counts })
    // One verifier per node for the API and every proxy, browser sign-in, and the edge's auth gate.
    const resourceServer = composeResourceServer({ config, store, bus, clock, logger: logger.child('auth'), keyRing, grants: oauth.grants, isOurIssuer: oauth.isOurIssuer })
    onStop(async () => resourceServer.close())
    // /verify answers with the edge's decision; the edge starts after the API listens.
    let forwardAuth: ForwardAuth | null = null
    // Known once it started: GET /metrics and the heartbeats read its connections.
    let runningEdge: Edge | null = null
    // This node's presence for GET /system/nodes: beats once it serves, and leaves the list when it stops.
    const heartbeats = createNodeHeartbeats({
      store,
      clock,
      logger: logger.child('store'),
      node: { node_id: config.nodeId, version: VERSION, runtime: `bun ${Bun.version}`, started_at: new Date(clock.nowMs()).toISOString() },
      connections: () => runningEdge?.stats().connections ?? null,
    })
    const metrics = composeMetrics({ edge: () => runningEdge, certificates, tokenVerifications: () => resourceServer.verifier.stats(), requestLog, rateLimitCounts: rateLimits.counts, logger })
    onStop(async () => metrics.close())
    // The web UI signs in on whichever of the API's origins it is opened (its issuer there).
    const uiSession = createUiSession({
      login: resourceServer.uiLogin,
      originOf: async (request) => {
        const issuer = await oauth.resolveIssuer(request)
        return issuer === null ? null : new URL(issuer).origin
      },
      apiResource: audience,
      verifyToken: (token) => resourceServer.verifier.verify(token, audience),
    })
    const dependentsOfService = serviceDependents(targets, routes)
    // Docker services' log follows (SSE): ended by the drain, as the request log's tails are.
    const serviceLogFollows = createLogFollows()
    const app = createApiApp({
      config,
      store,
      clock,
      logger: logger.child('api'),
      keyRing,
      startedAtMs: clock.nowMs(),
      verifyToken: (token) => resourceServer.verifier.verify(token, audience),
      sessionCredential: uiSession.credential,
      mountUi: (api) => {
        uiSession.mount(api)
        mountUiAssets(api, loadUiFiles, logger.child('ui'))
      },
      rateLimits: rateLimits.api,
      extraRoutes: [
        ...proxyTargetRoutes(targets, {
          dependentsOfProxy: async (hostname) => ({ routes: routesTargeting(await routes.list(), 'hostname', hostname).map((route) => route.route_id) }),
          deleteCertificate: async (certName) => (await certificates.get(certName)) !== null && (await certificates.remove(certName), true),
        }),
        ...proxyAuthRoutes(targets),
        ...proxyResourceRoutes(targets),
        ...proxyOAuthServerRoutes(targets),
        ...proxyRouteRoutes(targets, {
          // The matcher's own rule, on the stored routes: the API cannot disagree with the edge.
          applicableRoutes: async (target) => (apiRouteTable = compileRouteTable(await routes.list(), apiRouteTable)).applicable(target),
          routeExists: async (routeId) => (await routes.get(routeId)) !== null,
        }),
        ...externalServiceRoutes(services, { dependentsOfService }),
        // After /services/external: /services/{name} would otherwise match it (the order is dockerServiceRoutes' own too).
        ...dockerServiceRoutes(dockerServices, {
          targets,
          externalServices: services,
          dependentsOfService,
          baseDomain: config.baseDomain,
          acmeEmail: config.acme.email ?? null,
          clock,
          follows: serviceLogFollows,
          logger: logger.child('api'),
        }),
        ...portRoutes(ports),
        ...certificateRoutes(certificates, {
          // The edge's own rule (edge/certificate-table.ts): a proxy serves cert_name, else its hostname.
          proxiesUsing: async (name) => (await targets.list()).filter((target) => (target.cert_name ?? target.proxy_hostname) === name).map((target) => target.proxy_hostname),
          logger,
        }),
        ...routeRoutes(routes),
        ...oauth.routes,
        ...logApiRoutes(logs, { config, bus, clock, logger, targets }),
        ...systemNodeRoutes({ nodes: () => heartbeats.list(), nodeId: config.nodeId, clock }),
        ...systemConfigRoutes({ targets, routes, services, dockerServices, clients: oauth.clients, grants: oauth.grants, certificates, clock }),
        ...verifyRoutes({ forwardAuth: () => forwardAuth, trustedCallers: config.forwardAuthTrusted }),
        ...metricsRoutes({ metrics, trustedScrapers: config.metricsTrusted }),
      ],
    })
    let api: ReturnType<typeof Bun.serve>
    try {
      // Long polls (a certificate's status, up to 60 s) must outlive Bun's 10 s default idle timeout.
      api = Bun.serve({ hostname: config.apiHost, port: config.apiPort, fetch: app.fetch, idleTimeout: API_IDLE_TIMEOUT_SEC, reusePort: options.worker !== undefined })
    } catch (error) {
      throw describeBindError('API_PORT', config.apiHost, config.apiPort, error)
    }
    onStop(() => api.stop())
    // Live tails never end by themselves; the API's stop waits for its requests, so they end first.
    onStop(async () => requestLog.endFollows())
    onStop(async () => serviceLogFollows.endAll())
    apiUrl = `http://${config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost}:${api.port}`

    keepTrying(() => ensureLocalhostProxy(targets, apiUrl), logger, 'localhost proxy')
    const edge = await startEdge(
      {
        bindAddress: resolveListenAddress(config.listenAddress, logger),
        httpPort: config.httpPort,
        httpsPort: config.httpsPort,
        trustedProxies: config.proxyProtocolTrusted,
        maxConnections: config.connections.max,
        maxConnectionsPerAddress: config.connections.maxPerAddress,
        reusePort: options.worker !== undefined,
        ...options.edge,
      },
      {
        targets,
        routes,
        services,
        dockerServiceUrl: dockerServices ? (name, port) => dockerServices.urlOf(name, port) : undefined,
        bus,
        ports,
        certificateFor: createCertificateSource(store, clock),
        acme: proxyCertificates(certificates, config.acme.email ?? null),
        challenges,
        apiOrigin: apiUrl,
        apiResource: audience,
        gate: resourceServer.gate,
        logging: edgeRequestLogging(config, logs, metrics),
        rateLimiter: rateLimits.proxies,
        apiFetch: (request) => app.fetch(request),
        logger: logger.child('edge'),
      },
    )
    onStop(() => edge.stop())
    forwardAuth = edge.forwardAuth
    runningEdge = edge
    await heartbeats.start()
    await watchDockerEngine(dockerServices)
    onStop(() => heartbeats.stop())
    logger.info('serving', { api: apiUrl, http: edge.httpPort, https: edge.httpsPort, store: store.kind, node: config.nodeId })

    let stopping: Promise<void> | null = null
    const stop = (drainMs = 0) => (stopping ??= drainThenStop({ edge, api, requestLog, serviceLogFollows }, drainMs, stopAll))
    return { apiUrl, store, bus, keyRing, targets, routes, services, dockerServices, certificates, captures, requestLog, edge, stop }
  } catch (error) {
    await stopAll()
    throw error
  }
}

/**
 * A shutdown: the edge's listeners and the API's stop accepting at once; what is under way gets until
 * the drain ends. Live tails (GET /logs/follow) never end by themselves, so they are ended once
 * everything else has, with the records of the last requests in them.
 */
async function drainThenStop(parts: { edge: Edge; api: ReturnType<typeof Bun.serve>; requestLog: RequestLog; serviceLogFollows: LogFollows }, drainMs: number, stopAll: () => Promise<void>): Promise<void> {
  const { edge, api, requestLog, serviceLogFollows } = parts
  const untilMs = performance.now() + drainMs
  void api.stop(false)
  const edgeDrained = edge.drain(drainMs)
  await waitWhile(() => api.pendingRequests + api.pendingWebSockets > requestLog.followers() + serviceLogFollows.count(), untilMs)
  await edgeDrained
  requestLog.endFollows()
  serviceLogFollows.endAll()
  // The tails' last bytes, and the answers still due, get a moment within the drain.
  await waitWhile(() => api.pendingRequests > 0, Math.min(untilMs, performance.now() + FOLLOW_END_GRACE_MS))
  void api.stop(true)
  await stopAll()
}

/**
 * The built-in `localhost` proxy reaches the API through the edge (http://localhost/ in a browser on
 * the host). It follows the API's address when that changes, unless an admin has taken it over.
 */
async function ensureLocalhostProxy(targets: ProxyTargets, apiUrl: string): Promise<void> {
  const existing = await targets.get('localhost')
  if (!existing) {
    await targets.ensure({ proxy_hostname: 'localhost', target_url: apiUrl })
  } else if (existing.created_by === 'system' && existing.target_url !== apiUrl) {
    await targets.update('localhost', { target_url: apiUrl })
  }
}

/**
 * The original's rule (original-behaviour §6): a proxy's certificate is ordered only with an account
 * email, its own cert_email or ACME_EMAIL. Without one it keeps its self-signed certificate, and nothing
 * is sent to a CA the operator never chose to talk to.
 */
function proxyCertificates(certificates: CertificateManager, defaultEmail: string | null) {
  return {
    servedFor: (name: string, hostname: string) => certificates.servedFor(name, hostname),
    ensureForProxy: async (proxy: ProxyTarget) => {
      if ((proxy.cert_email ?? defaultEmail) !== null) await certificates.ensureForProxy(proxy)
    },
  }
}

/** Runs work now and, while it fails (a store outage), again every few seconds, without blocking start-up. */
function keepTrying(work: () => Promise<void>, logger: Logger, what: string): void {
  work().catch((error) => {
    logger.warn(`${what} failed; retrying`, { error: String(error) })
    setTimeout(() => keepTrying(work, logger, what), 5_000).unref()
  })
}
