/**
 * @module The one decision per request (DESIGN §1): from what the listener knows of a request to
 * exactly one outcome. The relay and the hand-over server both call it, so they cannot answer the
 * same request differently.
 *
 * Order: host → proxy (exact name, then its wildcard) → misdirected? → enabled? → HTTPS redirect →
 * routes → the proxy's own target → what auth the request needs (checked by the auth step, which
 * both paths call next: auth/gate.ts). Synchronous and free of I/O: everything it reads (sites, the
 * compiled route table, services) is prepared when configuration changes.
 */
import type { RouteTable } from '../routes/index.ts'
import { authStepFor, type AuthStep } from './auth/requirement.ts'
import type { Scheme } from './handler.ts'
import type { ResponseHeaderRules } from './relay/response-head.ts'
import type { Backend, HandOverReason, Site } from './site.ts'

/** What the decision reads; the edge keeps it current as configuration changes. */
export interface DecisionTables {
  /** The proxy that serves a hostname on this scheme (exact name first, then its wildcard) and its hand-over server's port. */
  lookup(hostname: string, scheme: Scheme): { readonly proxyHostname: string; readonly port: number } | undefined
  siteOf(proxyHostname: string): Site | undefined
  /** The compiled routes of every proxy, current as of the last change. */
  routes(): RouteTable
  /** The URL `service://<ref>` reaches now (`name` or `name:port`: an external or a Docker service), or undefined when there is none. */
  serviceUrl(ref: string): string | undefined
  /** The public HTTPS port, for redirects (443 is left out of the URL). */
  httpsPort(): number
  /** A port the public listeners listen on: a backend on this machine at that port is the edge itself. */
  isListenerPort(port: number): boolean
  /** A pending ACME HTTP-01 challenge by its token. */
  challenge(token: string): { readonly key_authorization: string; readonly domain: string } | undefined
}

export interface DecisionInput {
  readonly scheme: Scheme
  /**
   * On a TLS connection, the proxy its SNI chose: a request for a host served by another proxy is
   * misdirected (RFC 9110 §15.5.20), since the certificate was not chosen for it. null on plain HTTP,
   * where each request is routed on its own (clients and load balancers pool connections by address).
   */
  readonly connectionProxy: string | null
  readonly method: string
  /** The request target in origin-form: path and query. */
  readonly target: string
  /** The requested host, normalised (normalizeHost); '' when the request named none. */
  readonly hostname: string
}

export interface ForwardDecision {
  /** `forward`: the relay can send it; `handover`: only the hand-over server can (the reason says why). */
  readonly kind: 'forward' | 'handover'
  readonly reason: HandOverReason | null
  readonly proxyHostname: string
  /** The proxy's hand-over server for this scheme. */
  readonly instancePort: number
  readonly site: Site
  readonly backend: Backend
  /** The request target for the backend (the backend URL's own path is put before it): the client's, or with a route's prefix stripped. */
  readonly path: string
  readonly routeId: string | null
  /** The headers set on the response (custom_response_headers, HSTS): the one place they are decided. */
  readonly responseRules: ResponseHeaderRules
  /** What the request must prove before it is forwarded (the auth step, auth/gate.ts); null when nothing asks for auth. */
  readonly auth: AuthStep | null
}

export type AnswerStatus = 200 | 308 | 400 | 404 | 421 | 502 | 508

export interface AnswerDecision {
  readonly kind: 'answer'
  readonly status: AnswerStatus
  /** For the error page; the body itself for 200 (an ACME key authorization). */
  readonly detail: string
  readonly location: string | null
}

export type Decision = ForwardDecision | AnswerDecision

/** RFC 8555 §8.3: where the CA fetches an HTTP-01 key authorization. */
const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/'

export function decide(tables: DecisionTables, input: DecisionInput): Decision {
  if (input.scheme === 'http' && input.target.startsWith(ACME_CHALLENGE_PATH)) {
    // Before proxies, routes and auth: an HTTPS-only proxy, or one whose routes would take this path,
    // still proves its name (the original failed exactly there).
    const answered = challengeAnswer(tables, input)
    if (answered) return answered
  }
  const found = tables.lookup(input.hostname, input.scheme)
  const site = siteServing(tables, input, found)
  if (site.kind === 'answer') return site
  if (input.scheme === 'http' && site.target.redirect_http_to_https && site.target.enable_https) {
    // RFC 9110 §15.4.9: 308 keeps the method and body.
    const httpsPort = tables.httpsPort()
    return { kind: 'answer', status: 308, detail: 'moved to HTTPS', location: `https://${input.hostname}${httpsPort === 443 ? '' : `:${httpsPort}`}${input.target}` }
  }

  // RFC 3986 §6.2.2.2: /%61pi is /api. Routes match the normalised path, and the backend gets that same
  // path, so a route (and, later, its auth) cannot be stepped round by spelling a letter as %XX.
  const target = input.target.includes('%') ? decodeUnreserved(input.target) : input.target
  const queryAt = target.indexOf('?')
  const path = queryAt === -1 ? target : target.slice(0, queryAt)
  const match = site.routeSettings.route_mode === 'none' ? null : tables.routes().match(site.routeSettings, input.method, path)
  let backend: Backend | undefined
  let upstreamPath = target
  if (match) {
    const { route } = match
    backend = routeBackend(tables, site, route.target_type, route.target_value)
    // The names stay out of the answer (anyone may ask); the route id is enough for the operator.
    if (!backend) return answer(502, `the target of route ${route.route_id} does not exist`)
    if (route.strip_prefix && match.matchedLength > 0) {
      const rest = target.slice(match.matchedLength)
      upstreamPath = rest.charCodeAt(0) === 0x2f /* / */ ? rest : `/${rest}`
    }
  } else {
    backend = ownBackend(tables, site)
    if (!backend) return answer(502, `the target of ${found!.proxyHostname} does not exist`)
  }
  // A backend that is this edge's own listener would receive the request again, and again (RFC 5842
  // §7.2: 508 Loop Detected); preserve_host_header, on by default, brings it back to the same proxy.
  if (backend.localPort !== null && tables.isListenerPort(backend.localPort)) return answer(508, 'the target is this edge itself (a forwarding loop)')
  return {
    kind: backend.handOver === null ? 'forward' : 'handover',
    reason: backend.handOver,
    proxyHostname: found!.proxyHostname,
    instancePort: found!.port,
    site,
    backend,
    path: upstreamPath,
    routeId: match ? match.route.route_id : null,
    responseRules: site.responseRules[input.scheme],
    auth: authStepFor(site.auth, match ? match.route.auth : null, input.method, path),
  }
}

/** Percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") decoded in the path; the query is left alone. */
function decodeUnreserved(target: string): string {
  const queryAt = target.indexOf('?')
  const path = queryAt === -1 ? target : target.slice(0, queryAt)
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const code = parseInt(hex, 16)
    const isUnreserved = (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e
    return isUnreserved ? String.fromCharCode(code) : escape
  })
  return queryAt === -1 ? decoded : decoded + target.slice(queryAt)
}

/**
 * The first half of the decision, for a request whose head only the hand-over server can read (the
 * relay learned just its host): an answer about the host itself, or the port of the server to hand
 * it to, which then decides the rest.
 */
export function decideHost(tables: DecisionTables, input: Pick<DecisionInput, 'scheme' | 'connectionProxy' | 'hostname'>): AnswerDecision | { readonly kind: 'handover'; readonly instancePort: number } {
  const found = tables.lookup(input.hostname, input.scheme)
  const site = siteServing(tables, input, found)
  return site.kind === 'answer' ? site : { kind: 'handover', instancePort: found!.port }
}

/** The key authorization for a pending challenge of this host; undefined lets the request be decided as any other. */
function challengeAnswer(tables: DecisionTables, input: DecisionInput): AnswerDecision | undefined {
  if (input.method !== 'GET' && input.method !== 'HEAD') return undefined
  const queryAt = input.target.indexOf('?')
  const token = input.target.slice(ACME_CHALLENGE_PATH.length, queryAt === -1 ? undefined : queryAt)
  const challenge = tables.challenge(token)
  return challenge && challenge.domain === input.hostname ? { kind: 'answer', status: 200, detail: challenge.key_authorization, location: null } : undefined
}

type Found = ReturnType<DecisionTables['lookup']>

/** The site that serves the request's host on this connection, or why none does. */
function siteServing(tables: DecisionTables, input: Pick<DecisionInput, 'scheme' | 'connectionProxy' | 'hostname'>, found: Found): (Site & { readonly kind?: undefined }) | AnswerDecision {
  const { hostname } = input
  if (hostname === '') return answer(400, 'a Host header is required')
  if (!found) return answer(404, `no proxy for ${hostname}`)
  if (input.connectionProxy !== null && found.proxyHostname !== input.connectionProxy) {
    return answer(421, `this connection serves ${input.connectionProxy}, not ${hostname}`)
  }
  const site = tables.siteOf(found.proxyHostname)
  return site && site.target.enabled ? site : answer(404, `no proxy for ${hostname}`)
}

function answer(status: AnswerStatus, detail: string): AnswerDecision {
  return { kind: 'answer', status, detail, location: null }
}

/** A proxy's own backend: its target URL, or the URL of the service it names, as the service is now. */
function ownBackend(tables: DecisionTables, site: Site): Backend | undefined {
  if (site.ownBackend) return site.ownBackend
  const url = tables.serviceUrl(site.targetService!)
  return url === undefined ? undefined : site.backendFor(url)
}

/** A route's target as a backend of the proxy serving the request (its forwarding settings apply). */
function routeBackend(tables: DecisionTables, site: Site, type: string, value: string): Backend | undefined {
  switch (type) {
    case 'url':
      return site.backendFor(value)
    case 'port':
      return site.backendFor(`http://127.0.0.1:${value}`)
    case 'service': {
      const url = tables.serviceUrl(value)
      return url === undefined ? undefined : site.backendFor(url)
    }
    case 'hostname': {
      // Another proxy's backend, reached as that proxy would reach it; a disabled proxy serves nobody.
      const other = tables.siteOf(value)
      return other && other.target.enabled ? ownBackend(tables, other) : undefined
    }
    default:
      return undefined
  }
}
