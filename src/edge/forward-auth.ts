/**
 * @module Forward auth: another proxy (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth)
 * holds a request and asks whether it may pass. The answer is the edge's own for that request, from
 * the same decide() and the same auth gate as the relay and the hand-over server, so /verify can never
 * admit what the edge would refuse (or the reverse). Only the rendering differs: where the edge would
 * forward, the caller forwards, so a pass is a 200 carrying the identity headers the edge would have
 * added (identity.ts), and no body.
 */
import type { GateAnswer } from '../auth/index.ts'
import { decide, errorResponse, normalizeHost, type AnswerDecision, type AuthGate, type DecisionTables, type Scheme } from '../proxy/index.ts'

/** The request the caller holds, as it describes it (the API decides which of its headers to believe). */
export interface ForwardAuthRequest {
  readonly scheme: Scheme
  /** The Host the client sent, port included. */
  readonly host: string
  readonly method: string
  /** The request target in origin-form: path and query, as the client sent it. */
  readonly uri: string
  readonly authorization: string | null
  readonly cookies: string | null
  readonly origin: string | null
  readonly referer: string | null
  readonly accept: string | null
}

/** Answers with the edge's verdict: 200 and X-Auth-* to let the request pass, anything else to be given to the client. */
export type ForwardAuth = (request: ForwardAuthRequest) => Promise<Response>

export function createForwardAuth(tables: DecisionTables, gate: AuthGate): ForwardAuth {
  return async (request) => {
    const hostname = normalizeHost(request.host)
    const target = resolvedTarget(request.uri)
    // No TLS connection reaches us, so no SNI holds the request to one proxy: it is routed by its Host
    // alone, as on the plain HTTP listener.
    const decision = decide(tables, { scheme: request.scheme, connectionProxy: null, method: request.method, target, hostname })
    if (decision.kind === 'answer') return decisionAnswer(decision, request.accept)
    if (decision.auth === null) return allowed([])
    const outcome = await gate.check(decision.auth, decision.site.auth, decision.proxyHostname, {
      scheme: request.scheme,
      host: request.host,
      hostname,
      method: request.method,
      target,
      authorization: request.authorization,
      cookies: request.cookies,
      origin: request.origin,
      referer: request.referer,
      accept: request.accept,
      // The front proxy asks about the request it holds; a preflight it answers (or passes) itself.
      isPreflight: false,
    })
    return outcome.kind === 'pass' ? allowed(outcome.identity) : gateAnswer(outcome.answer)
  }
}

/**
 * The target as the hand-over server sees it (a URL parser's view, RFC 3986 §5.2.4): dot segments,
 * also percent-encoded, resolved and a backslash read as "/". Unresolved, `/public/../admin` would be
 * checked as if it were under an excluded /public while the caller's backend serves /admin.
 */
function resolvedTarget(uri: string): string {
  const url = new URL(`http://forward-auth.invalid${uri}`)
  return `${url.pathname}${url.search}`
}

/**
 * The request may pass: the identity (empty when nothing was checked, or for an anonymous request in
 * passthrough mode) for the caller to copy onto the request it forwards. Never stored: it is about one
 * request's credentials.
 */
function allowed(identity: readonly (readonly [string, string])[]): Response {
  const headers = new Headers({ 'cache-control': 'no-store' })
  for (const [name, value] of identity) headers.set(name, value)
  return new Response(null, { status: 200, headers })
}

/** The decision's own answer (no such proxy, misdirected, a redirect to HTTPS, …), as the edge renders it. */
function decisionAnswer(decision: AnswerDecision, accept: string | null): Response {
  switch (decision.status) {
    // A pending ACME challenge: the edge answers it without auth, so nothing stops the request here.
    case 200:
      return allowed([])
    case 308:
      return new Response(null, { status: 308, headers: { location: decision.location!, 'cache-control': 'no-store' } })
    default:
      return errorResponse(decision.status, decision.detail, accept)
  }
}

/** The auth step's answer: a challenge, a 403, a sign-in redirect with its cookies, the RFC 9728 metadata. */
function gateAnswer(answer: GateAnswer): Response {
  const headers = new Headers()
  for (const [name, value] of answer.headers) headers.append(name, value)
  return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers })
}
