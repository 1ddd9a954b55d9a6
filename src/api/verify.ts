/**
 * @module /verify, forward auth (original-behaviour §4.7): nginx auth_request, Traefik ForwardAuth and
 * Caddy forward_auth ask whether a request they hold may pass, and get the edge's own answer for that
 * request (edge/forward-auth.ts): 200 with X-Auth-* to let it through, or the 401/403 challenge, 404,
 * sign-in redirect, … the edge would have given. Public: it authenticates the forwarded request (its
 * Authorization, cookies), not the caller.
 *
 * Which request that is: X-Forwarded-Host, -Proto, -Uri (Traefik, Caddy) or X-Original-URI (nginx) and
 * -Method describe it only when the caller's address is in FORWARD_AUTH_TRUSTED; anyone can write those
 * headers, and believing them from anyone would let a client have its request checked as if it were
 * for another host, path or method. From everyone else the request itself is checked: its own Host,
 * method and target (X-Forwarded-Host and -Proto ignored: the edge sets them on everything it forwards).
 * An untrusted caller that names a URI or a method is refused rather than answered for /verify itself:
 * that is a forward-auth proxy missing from the list (Caddy keeps the client's Host), and checking
 * "GET /verify" in place of its "POST /admin" would admit a write with a read token.
 * Identity headers (X-Auth-*) are never read from anyone.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import type { ForwardAuth, ForwardAuthRequest } from '../edge/index.ts'
import { cidrContains, normalizeClientAddress, parseCidr, type Cidr } from '../lib/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

export interface VerifyRoutesDeps {
  /** The edge's answer for a request; null until the edge runs (the API listens first). */
  readonly forwardAuth: () => ForwardAuth | null
  /** FORWARD_AUTH_TRUSTED: the callers whose X-Forwarded-* describe the request. */
  readonly trustedCallers: readonly string[]
}

/** RFC 9110 §7.2 uri-host [":" port], the names and IP literals a proxy can have (the relay's own rule). */
const HOST_VALUE = /^([A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/
/** RFC 9110 §9.1: method = token. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** RFC 9112 §3.2.1 origin-form, in visible ASCII (RFC 3986 characters; anything else arrives percent-encoded). */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/
/** What only a forward-auth proxy sends: from a caller outside FORWARD_AUTH_TRUSTED, a misconfiguration. */
const HELD_REQUEST_HEADERS = ['X-Forwarded-Uri', 'X-Original-URI', 'X-Forwarded-Method'] as const

const QuerySchema = v.object({
  redirect_status: v.optional(v.picklist(['302', '401'], 'expected 302 or 401')),
})

const PASSES =
  'the request may pass (no body): X-Auth-User, X-Auth-User-Id, X-Auth-Email, X-Auth-Scopes and X-Auth-Client-Id say who sent it, for the caller to copy onto it ' +
  '(absent when nothing was checked). The request is described by X-Forwarded-Host, X-Forwarded-Proto (default https), X-Forwarded-Uri or X-Original-URI ' +
  'and X-Forwarded-Method from callers in FORWARD_AUTH_TRUSTED; for anyone else, the request to /verify is itself the one checked'

export function verifyRoutes(deps: VerifyRoutesDeps): RouteSpec[] {
  const trusted = deps.trustedCallers.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null)

  const handler = async (c: Context, { query }: { query: v.InferOutput<typeof QuerySchema> }) => {
    const forwardAuth = deps.forwardAuth()
    if (!forwardAuth) throw new ApiError(503, 'server_error', 'the edge is starting; try again', { 'Retry-After': '1' })
    const headers = c.req.raw.headers
    const caller = callerAddress(c)
    const isTrusted = caller !== null && trusted.some((cidr) => cidrContains(cidr, caller))
    if (!isTrusted) {
      const held = HELD_REQUEST_HEADERS.find((name) => headers.has(name))
      if (held) throw new ApiError(403, 'access_denied', `header ${held}: read only from callers in FORWARD_AUTH_TRUSTED, and this caller is not`)
    }
    const own = ownRequest(c)
    const described = isTrusted ? forwardedRequest(headers, own) : own
    const answer = await forwardAuth({
      ...described,
      authorization: headers.get('authorization'),
      cookies: headers.get('cookie'),
      origin: headers.get('origin'),
      referer: headers.get('referer'),
      accept: headers.get('accept'),
    })
    return query.redirect_status === '401' ? redirectAs401(answer) : answer
  }

  const spec = (method: 'get' | 'post') =>
    defineRoute({
      method,
      path: '/verify',
      scope: 'public',
      tag: 'oauth',
      summary: method === 'get' ? 'Forward auth: may the request the caller holds pass? (GET and HEAD)' : 'Forward auth, by POST',
      query: QuerySchema,
      responses: {
        200: { description: PASSES },
        302: { description: 'redirect mode: sign in first. With redirect_status=401, every redirect is a 401 keeping its Location (nginx auth_request accepts only 2xx, 401 and 403)' },
        308: { description: 'the proxy redirects HTTP to HTTPS' },
        400: { description: 'a malformed X-Forwarded-* header (named), or a Bearer credential that is not one' },
        401: { description: 'no token, or a bad one: the Bearer challenge with resource_metadata (RFC 6750 §3, RFC 9728 §5.1)' },
        403: { description: 'insufficient_scope, a user or origin the proxy does not admit, or X-Forwarded-Uri, X-Original-URI or X-Forwarded-Method from a caller outside FORWARD_AUTH_TRUSTED' },
        404: { description: 'no proxy serves the host' },
        503: { description: 'the token could not be checked now; try again' },
      },
      handler,
    })
  return [spec('get'), spec('post')]
}

/** The caller's address as Bun.serve saw the connection; null when the app was called in-process (the edge's own API proxy). */
function callerAddress(c: Context): string | null {
  const server = c.env as { requestIP?: (request: Request) => { address: string } | null } | undefined
  const peer = typeof server?.requestIP === 'function' ? server.requestIP(c.req.raw) : null
  return peer ? normalizeClientAddress(peer.address) : null
}

type DescribedRequest = Pick<ForwardAuthRequest, 'scheme' | 'host' | 'method' | 'uri'>

/**
 * A trusted caller's description of the request it holds. Each header that is present must be
 * well-formed (400 naming it); one that is absent leaves the request's own value.
 */
function forwardedRequest(headers: Headers, own: DescribedRequest): DescribedRequest {
  const proto = headers.get('x-forwarded-proto')
  if (proto !== null && !/^https?$/i.test(proto)) throw badHeader('X-Forwarded-Proto', 'expected http or https')
  const host = headers.get('x-forwarded-host')
  if (host !== null && !HOST_VALUE.test(host)) throw badHeader('X-Forwarded-Host', 'expected one host[:port]')
  const method = headers.get('x-forwarded-method')
  if (method !== null && !METHOD.test(method)) throw badHeader('X-Forwarded-Method', 'expected an HTTP method')
  return {
    scheme: proto === null ? own.scheme : proto.toLowerCase() === 'http' ? 'http' : 'https',
    host: host ?? own.host,
    method: method ?? own.method,
    uri: forwardedUri(headers) ?? own.uri,
  }
}

/**
 * Traefik and Caddy name the target X-Forwarded-Uri, nginx's convention is X-Original-URI. Each passes
 * the client's other headers on, so a client could add the one its proxy does not set: when both are
 * present they must agree.
 */
function forwardedUri(headers: Headers): string | null {
  const forwarded = headers.get('x-forwarded-uri')
  const original = headers.get('x-original-uri')
  if (forwarded !== null && original !== null && forwarded !== original) throw badHeader('X-Forwarded-Uri', 'differs from X-Original-URI; send one of them')
  const uri = forwarded ?? original
  if (uri === null) return null
  if (!ORIGIN_FORM.test(uri)) throw badHeader(forwarded !== null ? 'X-Forwarded-Uri' : 'X-Original-URI', 'expected a path and query starting with /')
  return uri
}

/** The request to /verify itself: what is checked for a caller whose X-Forwarded-* are not believed. */
function ownRequest(c: Context): DescribedRequest {
  const host = c.req.header('host') ?? ''
  if (!HOST_VALUE.test(host)) throw badHeader('Host', 'expected one host[:port]')
  const url = new URL(c.req.url)
  // The scheme of the public side: the API itself listens on plain HTTP behind whatever fronts it.
  return { scheme: 'https', host, method: c.req.method, uri: `${url.pathname}${url.search}` }
}

/**
 * nginx's auth_request accepts 2xx, 401 and 403 and turns anything else into a 500. With
 * redirect_status=401, a redirect (sign in, the sign-in callback setting its cookie, HTTPS) comes as a
 * 401 that keeps its Location and cookies, for `error_page 401` to send on (README "Forward auth").
 */
function redirectAs401(answer: Response): Response {
  if (answer.status < 300 || answer.status > 399 || !answer.headers.has('location')) return answer
  const headers = new Headers(answer.headers)
  // RFC 9110 §15.5.2: a 401 carries a challenge. A client that gets this one as it is can still sign in by token.
  if (!headers.has('www-authenticate')) headers.set('www-authenticate', 'Bearer')
  return new Response(null, { status: 401, headers })
}

function badHeader(name: string, expected: string): ApiError {
  return new ApiError(400, 'invalid_request', `header ${name}: ${expected}`)
}
