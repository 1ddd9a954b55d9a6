/**
 * @module The certificate manager: ACME certificates by name (requested through the API, or ordered for a
 * proxy's hostname), what each node serves for a hostname, and the renewal schedule. Orders run in the
 * background (issuance.ts); this file decides what to order and keeps the records.
 */
import type { EventBus } from '../events/index.ts'
import { randomToken, type Clock, type Logger } from '../lib/index.ts'
import type { Store } from '../store/index.ts'
import { createAcmeAccounts, DEFAULT_ACME_REQUEST_TIMEOUT_MS } from './acme-account.ts'
import { toView, type CertificateRecord, type CertificateView } from './certificate-record.ts'
import { createCertificateRecords } from './certificate-records.ts'
import {
  isSameDefinition,
  MAX_DOMAINS,
  normalizeRequest,
  toDefinition,
  type CertificateDefinition,
  type CertificateRequestInput,
  type NormalizedRequest,
  type PortableCertificateRequest,
} from './certificate-request.ts'
import type { ChallengeStore } from './challenges.ts'
import { needsOrder } from './due.ts'
import { CertificateError } from './errors.ts'
import { createIssuance, type IssuanceTiming } from './issuance.ts'
import { isLocalOnlyName, proxyCertificateRequest, type ProxyCertificateInput } from './proxy-certificates.ts'

export interface CertificateManagerConfig {
  readonly productionDirectoryUrl: string
  readonly stagingDirectoryUrl: string
  readonly defaultEmail: string | null
  readonly renewCheckIntervalMs: number
  readonly renewalThresholdDays: number
  /** Where a proxy's automatic certificate comes from when the proxy does not say (Config.acme.proxyDirectory). Default staging. */
  readonly proxyDirectory?: 'production' | 'staging'
}

/** Tuning for tests and unusual CAs; the defaults suit Let's Encrypt. */
export interface CertificateTiming extends IssuanceTiming {
  /** acme-client's polling of pending challenges and orders: first wait, longest wait, number of polls. */
  readonly pollMinMs: number
  readonly pollMaxMs: number
  readonly pollAttempts: number
  /** How long one request to the CA may wait for its answer. */
  readonly requestTimeoutMs: number
}

export interface CertificateManagerDeps {
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly config: CertificateManagerConfig
  readonly challenges: ChallengeStore
  readonly nodeId: string
  readonly timing?: Partial<CertificateTiming>
}

export interface ServedAcmeCertificate {
  /** Leaf and chain. */
  readonly certPem: string
  /** Secret. */
  readonly keyPem: string
  /** Changes whenever the certificate does. */
  readonly version: string
}

export interface CertificateManager {
  /**
   * Creates the certificate and orders it in the background. For a name that exists: the same domains,
   * email and directory return it unchanged (use renew() to order again); anything else re-orders it with
   * the new values, and the old certificate is served for the hostnames it covers until the new one is issued.
   * Throws CertificateError('invalid', field) for a bad name, wildcard ("DNS-01 is needed"), IP, > 100 domains,
   * bad email or a non-https directory.
   */
  request(input: CertificateRequestInput, actor: string | null): Promise<CertificateView>
  /**
   * Creates the certificate and orders it in the background, only if no certificate has the name: the
   * store's create-if-absent decides, so of concurrent creates (on any node) exactly one wins. Throws
   * CertificateError('conflict') when the name exists, and 'invalid' exactly as request() does, before any store read.
   */
  create(input: CertificateRequestInput, actor: string | null): Promise<CertificateView>
  /**
   * The definition request(input) would store, with this server's defaults (ACME_EMAIL, the production or
   * staging directory) filled in. Reads and writes nothing; throws CertificateError('invalid', field) exactly
   * as request() does, so a caller can check many requests before it makes any.
   */
  resolveRequest(input: CertificateRequestInput): CertificateDefinition
  /** The request that defines this certificate on any server (see PortableCertificateRequest); never key material. */
  portableRequest(certificate: CertificateView): PortableCertificateRequest
  /** Every certificate, by name. */
  list(): Promise<CertificateView[]>
  get(name: string): Promise<CertificateView | null>
  /** The issued certificate chain (leaf first), or null when none was issued yet. */
  chainPem(name: string): Promise<string | null>
  /** The issued certificate's private key, for the admin-only endpoint; null when none was issued yet. */
  privateKeyPem(name: string): Promise<string | null>
  /** Orders again now, also retrying a failed order before its backoff ends. CertificateError('not_found'). */
  renew(name: string): Promise<CertificateView>
  /** The same domains against the production directory; a no-op when it already uses it. CertificateError('not_found'). */
  convertToProduction(name: string): Promise<CertificateView>
  /** Deletes it (a running order's result is thrown away) and publishes certificate_deleted. CertificateError('not_found'). */
  remove(name: string): Promise<void>
  /** The issued certificate to serve for a hostname under this name, or null (self-signed fallback then). */
  servedFor(name: string, hostname: string): Promise<ServedAcmeCertificate | null>
  /**
   * Called by the edge for every HTTPS proxy (on start, reconcile and proxy events): orders `name`
   * (cert_name, else the hostname) for [hostname] when no certificate of that name exists yet; when it
   * exists without the hostname (proxies sharing a cert_name), orders it again for its domains and the
   * hostname. Never for IPs or localhost names, nor past MAX_DOMAINS. Directory: the proxy's acme_directory_url, else its
   * staging flag, else config.proxyDirectory (staging by default). Never throws for a bad hostname: logs it.
   */
  ensureForProxy(proxy: ProxyCertificateInput): Promise<void>
  /** Renewal scheduler: a check at start-up, then every renewCheckIntervalMs (±10 % jitter). */
  start(): Promise<void>
  stop(): Promise<void>
}

const DEFAULT_TIMING: CertificateTiming = {
  propagationDelayMs: 250,
  orderTimeoutMs: 10 * 60_000,
  maxConcurrentOrders: 4,
  maxConcurrentOrdersPerDirectory: 2,
  pollMinMs: 1_000,
  pollMaxMs: 10_000,
  pollAttempts: 12,
  requestTimeoutMs: DEFAULT_ACME_REQUEST_TIMEOUT_MS,
}

export function createCertificateManager(deps: CertificateManagerDeps): CertificateManager {
  const { config, clock, logger } = deps
  const timing = { ...DEFAULT_TIMING, ...deps.timing }
  const records = createCertificateRecords(deps.store)
  const accounts = createAcmeAccounts({
    store: deps.store,
    clock,
    poll: { minMs: timing.pollMinMs, maxMs: timing.pollMaxMs, attempts: timing.pollAttempts },
    requestTimeoutMs: timing.requestTimeoutMs,
  })
  const issuance = createIssuance({ ...deps, accounts, records, renewalThresholdDays: config.renewalThresholdDays, timing })
  const defaults = { productionDirectoryUrl: config.productionDirectoryUrl, stagingDirectoryUrl: config.stagingDirectoryUrl, defaultEmail: config.defaultEmail }
  const view = (record: CertificateRecord) => toView(record, config.stagingDirectoryUrl)
  const nowIso = () => new Date(clock.nowMs()).toISOString()
  let checkTimer: ReturnType<typeof setTimeout> | null = null
  let isStarted = false
  const unorderable = new Set<string>()

  function newRecord(request: NormalizedRequest, actor: string | null): CertificateRecord {
    const now = nowIso()
    return {
      cert_name: request.certName,
      domains: request.domains,
      email: request.email,
      directory_url: request.directoryUrl,
      status: 'pending',
      error: null,
      attempts: 0,
      next_attempt_at: null,
      generation: randomToken(12),
      created_at: now,
      updated_at: now,
      created_by: actor,
      issued: null,
    }
  }

  /** A new order for the record: fresh generation, so a running order for the old one drops its result. */
  function reorder(current: CertificateRecord, changes: Partial<Pick<CertificateRecord, 'domains' | 'email' | 'directory_url' | 'attempts'>>): CertificateRecord {
    return { ...current, ...changes, status: 'pending', next_attempt_at: null, generation: randomToken(12), updated_at: nowIso() }
  }

  /** Applies `change` (null: nothing to do) and kicks an order when it wrote; not_found when the name does not exist. */
  async function changeExisting(name: string, change: (current: CertificateRecord) => CertificateRecord | null): Promise<CertificateView> {
    const saved = await records.update(name, change)
    if (saved) {
      issuance.kick(name)
      return view(saved)
    }
    const current = await records.get(name)
    if (!current) throw new CertificateError('not_found', `no certificate named ${name}`)
    return view(current)
  }

  /** Kicks every name that needs an order: new, interrupted (its node died), failed and due, or due for renewal. */
  async function checkAll(): Promise<void> {
    try {
      const nowMs = clock.nowMs()
      for (const record of await records.list()) {
        if (needsOrder(record, nowMs, config.renewalThresholdDays)) issuance.kick(record.cert_name)
      }
    } catch (error) {
      logger.warn('certificate renewal check failed', { error: error instanceof Error ? error.message : String(error) })
    }
  }

  /** Jitter keeps the nodes of a cluster (and restarts) from checking in step. */
  function scheduleCheck(): void {
    const delayMs = config.renewCheckIntervalMs * (0.9 + Math.random() * 0.2)
    checkTimer = setTimeout(() => void checkAll().finally(() => isStarted && scheduleCheck()), delayMs)
    checkTimer.unref?.()
  }

  /** Stores a new certificate and kicks its order; false when the name exists. */
  async function createNew(request: NormalizedRequest, actor: string | null): Promise<CertificateView | null> {
    const created = newRecord(request, actor)
    if (!(await records.create(created))) return null
    logger.info('certificate requested', { cert_name: created.cert_name, domains: created.domains.join(','), directory_url: created.directory_url, by: actor ?? undefined })
    issuance.kick(created.cert_name)
    return view(created)
  }

  return {
    async create(input, actor) {
      const request = normalizeRequest(input, defaults)
      const created = await createNew(request, actor)
      if (!created) throw new CertificateError('conflict', `a certificate named ${request.certName} exists; renew it, or delete it first`)
      return created
    },
    async request(input, actor) {
      const request = normalizeRequest(input, defaults)
      const created = await createNew(request, actor)
      if (created) return created
      return changeExisting(request.certName, (current) =>
        isSameOrder(current, request) ? null : reorder(current, { domains: request.domains, email: request.email, directory_url: request.directoryUrl, attempts: 0 }),
      )
    },
    resolveRequest: (input) => toDefinition(normalizeRequest(input, defaults)),
    portableRequest(certificate) {
      const isOwnDirectory = certificate.directory_url === config.productionDirectoryUrl || certificate.directory_url === config.stagingDirectoryUrl
      return {
        cert_name: certificate.cert_name,
        domains: [...certificate.domains],
        email: certificate.email,
        acme_directory_url: isOwnDirectory ? null : certificate.directory_url,
        staging: certificate.directory_url === config.stagingDirectoryUrl,
      }
    },
    list: async () => (await records.list()).map(view).sort((a, b) => (a.cert_name < b.cert_name ? -1 : a.cert_name > b.cert_name ? 1 : 0)),
    async get(name) {
      const record = await records.get(name)
      return record && view(record)
    },
    chainPem: async (name) => (await records.get(name))?.issued?.chain_pem ?? null,
    privateKeyPem: async (name) => (await records.get(name))?.issued?.key_pem ?? null,
    renew: (name) => changeExisting(name, (current) => reorder(current, {})),
    convertToProduction: (name) =>
      changeExisting(name, (current) =>
        current.directory_url === config.productionDirectoryUrl ? null : reorder(current, { directory_url: config.productionDirectoryUrl, attempts: 0 }),
      ),
    async remove(name) {
      if (!(await records.remove(name))) throw new CertificateError('not_found', `no certificate named ${name}`)
      logger.info('certificate deleted', { cert_name: name })
      await deps.bus.publish({ type: 'certificate_deleted', certName: name })
    },
    async servedFor(name, hostname) {
      const issued = (await records.get(name))?.issued
      if (!issued || !issued.domains.includes(hostname.toLowerCase()) || Date.parse(issued.not_after) <= clock.nowMs()) return null
      return { certPem: issued.chain_pem, keyPem: issued.key_pem, version: `${name}@${issued.serial}` }
    },
    async ensureForProxy(proxy) {
      if (!proxy.enable_https || isLocalOnlyName(proxy.proxy_hostname)) return
      let request: NormalizedRequest
      try {
        request = normalizeRequest(proxyCertificateRequest(proxy, config), defaults)
      } catch (error) {
        // Once per hostname and process: the edge calls this at every reconcile.
        if (!unorderable.has(proxy.proxy_hostname)) {
          unorderable.add(proxy.proxy_hostname)
          logger.warn('no certificate can be ordered for this proxy', { hostname: proxy.proxy_hostname, error: error instanceof Error ? error.message : String(error) })
        }
        return
      }
      const name = request.certName
      const [hostname] = request.domains as [string]
      const existing = await records.get(name)
      if (!existing) {
        const record = newRecord(request, null)
        // Every node calls this for every proxy; the first create wins and the others see the name exists.
        if (!(await records.create(record))) return
        logger.info('certificate requested for proxy', { cert_name: name, hostname, directory_url: record.directory_url })
        issuance.kick(name)
        return
      }
      if (existing.domains.includes(hostname)) return
      if (existing.domains.length >= MAX_DOMAINS) {
        if (!unorderable.has(proxy.proxy_hostname)) {
          unorderable.add(proxy.proxy_hostname)
          logger.warn('the proxy\'s certificate holds the most domains a certificate can; the proxy keeps its self-signed certificate', { cert_name: name, hostname })
        }
        return
      }
      // Proxies sharing a cert_name: the name is ordered again with this hostname added (its other domains
      // stay served meanwhile). Each node may get here; the compare-and-set adds it once.
      const saved = await records.update(name, (current) =>
        current.domains.includes(hostname) || current.domains.length >= MAX_DOMAINS ? null : reorder(current, { domains: [...current.domains, hostname], attempts: 0 }),
      )
      if (!saved) return
      logger.info('certificate extended for proxy', { cert_name: name, hostname, domains: saved.domains.join(',') })
      issuance.kick(name)
    },
    async start() {
      if (isStarted) return
      isStarted = true
      issuance.resume()
      await checkAll()
      if (isStarted) scheduleCheck()
    },
    async stop() {
      isStarted = false
      if (checkTimer !== null) clearTimeout(checkTimer)
      checkTimer = null
      await issuance.stop()
    },
  }
}

function isSameOrder(current: CertificateRecord, request: NormalizedRequest): boolean {
  return isSameDefinition(current, toDefinition(request))
}
