/**
 * @module Forwards one request (one the relay handed over) to its backend with the raw-socket client
 * (plain HTTP, with a PROXY protocol header when the backend wants one) or fetch (https), streaming both
 * bodies: nothing is buffered, compressed bodies pass untouched, redirects are the client's business.
 * Failures become 502 (refused, reset, broken framing) or 504 (no response head in time), never a stack
 * trace.
 */
import type { ClientInfo } from './client.ts'
import { errorResponse } from './error-page.ts'
import type { Deadlines } from './deadlines.ts'
import type { GateOutcome } from './auth/gate.ts'
import { buildUpstreamHeaders } from './headers.ts'
import { buildProxyPreamble, rawFetch, type ProxyProtocolVersion, type SocketAddress } from './raw-forward.ts'

const NO_PREAMBLE = new Uint8Array(0)

export interface Upstream {
  /** The backend's base URL; its path is a prefix of every forwarded path. */
  readonly url: URL
  readonly preserveHost: boolean
  readonly customHeaders: Readonly<Record<string, string>>
  readonly timeoutMs: number
  /** Open each backend connection with this PROXY protocol header (the target's `proxy_protocol`), or null for plain fetch. */
  readonly proxyProtocol: ProxyProtocolVersion | null
}

/** Sends a request somewhere other than the network (the in-process API). */
export type LocalFetch = (request: Request) => Response | Promise<Response>

export interface ForwardContext {
  readonly client: ClientInfo
  /** Where the client's connection arrived (the instance's listener): the PROXY header's destination. */
  readonly instance: SocketAddress
  readonly upstream: Upstream
  /** The request target for the backend, before the backend URL's own path (the decision's). */
  readonly path: string
  readonly deadlines: Deadlines
  /** When set, requests go to this function instead of over the network. */
  readonly localFetch?: LocalFetch
  readonly onError?: (detail: string) => void
  /** What the auth step let through (credentials removed, identity added); null when no step ran. */
  readonly passed?: (GateOutcome & { kind: 'pass' }) | null
  /** Sent to the backend as X-Request-Id (the client's own when it was usable). */
  readonly requestId?: string
  /** The client-address headers the serving proxy passes on as sent (its site's trustedRequestHeaders). */
  readonly trustedHeaders?: ReadonlySet<string>
}

/** Joins the target's path prefix and the request's path without producing "//". */
export function upstreamUrl(base: URL, pathAndQuery: string): string {
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname
  return `${base.origin}${prefix}${pathAndQuery}`
}

/** The request target without parsing a URL object: the hot path does this on every request. */
export function pathAndQueryOf(requestUrl: string): string {
  const schemeEnd = requestUrl.indexOf('://')
  const pathStart = requestUrl.indexOf('/', schemeEnd + 3)
  return pathStart === -1 ? '/' : requestUrl.slice(pathStart)
}

export async function forward(request: Request, requestHost: string, context: ForwardContext): Promise<Response> {
  const { upstream, client } = context
  const headers = buildUpstreamHeaders(request.headers, {
    client,
    requestHost,
    upstreamHost: upstream.preserveHost ? requestHost : upstream.url.host,
    customHeaders: upstream.customHeaders,
    passed: context.passed ?? null,
    requestId: context.requestId,
    trustedHeaders: context.trustedHeaders,
  })
  const url = upstreamUrl(upstream.url, context.path)
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD'
  const body = hasBody ? request.body : null
  // Not the client's request.signal: Bun 1.4.5 aborts it as soon as a second pipelined request arrives
  // behind this one, which would cancel a request the client still waits for. A client that leaves
  // mid-response cancels the response body instead, which closes the backend connection; one that leaves
  // before the head costs at most upstream_timeout.
  const init = { method: request.method, headers, body, redirect: 'manual', decompress: false, duplex: 'half' } as RequestInit
  let pending: Promise<Response>
  let cancelOnTimeout: AbortController | null = null
  if (context.localFetch) pending = Promise.resolve(context.localFetch(new Request(url, init)))
  else if (upstream.proxyProtocol || upstream.url.protocol === 'http:') {
    // The raw client sends exactly these headers; fetch would add its own User-Agent, Accept and
    // Accept-Encoding, and a backend would then compress for a client that never asked. It also owns its
    // socket, so a timeout must be able to close it.
    cancelOnTimeout = new AbortController()
    const preamble = upstream.proxyProtocol ? buildProxyPreamble(upstream.proxyProtocol, client, context.instance) : NO_PREAMBLE
    pending = rawFetch({ url: new URL(url), method: request.method, headers, body, preamble, signal: cancelOnTimeout.signal })
  } else {
    // fetch (https backends) adds Accept-Encoding when there is none: say "identity" (RFC 9110 §12.5.3) so
    // that a client that asked for no coding gets none.
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'identity')
    pending = fetch(url, init)
  }

  let response: Response | 'timeout'
  try {
    response = await context.deadlines.withDeadline(pending, upstream.timeoutMs)
  } catch (error) {
    return failure(error, request, context)
  }
  if (response === 'timeout') {
    // A backend that answers after all gets its body cancelled, which closes that connection.
    cancelOnTimeout?.abort()
    pending.then((late) => late.body?.cancel(), () => {})
    return failure(new TimeoutError(), request, context)
  }
  return request.method === 'HEAD' && response.body ? new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers }) : response
}

class TimeoutError extends Error {
  constructor() {
    super('upstream response timeout')
    this.name = 'TimeoutError'
  }
}

function failure(error: unknown, request: Request, context: ForwardContext): Response {
  const accept = request.headers.get('accept')
  const isTimeout = error instanceof TimeoutError || (error as { name?: string })?.name === 'TimeoutError'
  // Bun's message alone ("Unable to connect…") does not say why; its code does (ConnectionRefused, ECONNRESET, …).
  const code = (error as { code?: unknown })?.code
  context.onError?.(`${isTimeout ? 'timeout' : 'connect'}: ${(error as Error)?.message ?? error}${typeof code === 'string' ? ` (${code})` : ''}`)
  return isTimeout
    ? errorResponse(504, 'the backend did not answer in time', accept)
    : errorResponse(502, 'the backend could not be reached', accept)
}
