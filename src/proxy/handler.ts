/**
 * @module The hand-over server behind every proxy (DESIGN §3.2): what the relay hands over (WebSocket,
 * HTTP/1.0, https and PROXY-protocol backends, the in-process API, heads its strict parser does not
 * take). Each request is decided by the same decide() as the relay's, then answered or forwarded
 * (HTTP, or a WebSocket bridge); the decision's response rules are applied to what comes back.
 */
import type { Server } from 'bun'
import type { Logger } from '../lib/index.ts'
import { answerResponse, gateAnswerResponse } from './answer.ts'
import type { AuthGate } from './auth/gate.ts'
import type { BackendErrorKind } from '../logs/index.ts'
import { REQUEST_ID } from './relay/request-head.ts'
import { backendErrorOf, newRequestId, requestStart, writeRecord, type RecordInput, type RequestLogging, type RequestOutcome } from './request-log.ts'
import type { ClientInfo } from './client.ts'
import { decide, type DecisionTables } from './decide.ts'
import { rateLimitAnswer, type ProxyRateLimiter } from './rate-limit.ts'
import type { Deadlines } from './deadlines.ts'
import { forward, pathAndQueryOf, type LocalFetch } from './forward.ts'
import { prepareResponseHeaders } from './headers.ts'
import { normalizeHost } from './host.ts'
import { bridgeWebSocket, isWebSocketUpgrade, websocketBridgeHandler, type BridgeData } from './websocket.ts'

export type Scheme = 'http' | 'https'

export interface PipelineDeps {
  readonly tables: DecisionTables
  readonly gate: AuthGate
  /** Proxies' rate_limit (proxy/rate-limit.ts); absent: none is enforced. */
  readonly rateLimiter?: ProxyRateLimiter | null
  readonly logging: RequestLogging
  readonly clientOf: (request: Request, server: Server<BridgeData>, scheme: Scheme) => ClientInfo
  readonly apiFetch: LocalFetch
  readonly deadlines: Deadlines
  readonly logger: Logger
}

/**
 * `proxyHostname` is the proxy whose server this is. On HTTPS it is the one the connection's SNI chose;
 * on plain HTTP it means nothing to the decision, since every request is routed by its own Host.
 */
export function createInstanceHandler(proxyHostname: string, scheme: Scheme, deps: PipelineDeps) {
  return {
    async fetch(request: Request, server: Server<BridgeData>): Promise<Response | undefined> {
      const start = requestStart()
      const { headers } = request
      const requestHost = headers.get('host') ?? ''
      const target = pathAndQueryOf(request.url)
      const hostname = normalizeHost(requestHost)
      const clientId = headers.get('x-request-id')
      const requestId = clientId !== null && REQUEST_ID.test(clientId) ? clientId : newRequestId()
      const client = deps.clientOf(request, server, scheme)
      const record = (status: number, outcome: RequestOutcome, extra: Partial<Pick<RecordInput, 'proxy' | 'user' | 'clientId' | 'routeId' | 'backend' | 'backendError' | 'bytesOut'>> = {}) =>
        writeRecord(deps.logging, {
          start,
          requestId,
          scheme,
          hostname,
          proxy: null,
          method: request.method,
          target,
          status,
          bytesIn: Number(headers.get('content-length')) || 0,
          bytesOut: 0,
          clientIp: client.address,
          userAgent: headers.get('user-agent'),
          user: null,
          clientId: null,
          routeId: null,
          backend: null,
          outcome,
          backendError: null,
          ...extra,
        })

      const decision = decide(deps.tables, { scheme, connectionProxy: scheme === 'https' ? proxyHostname : null, method: request.method, target, hostname })
      if (decision.kind === 'answer') {
        record(decision.status, 'answered')
        const answered = answerResponse(decision, headers.get('accept'), request.method)
        answered.headers.set('x-request-id', requestId)
        return answered
      }
      // The relay hands requests over before this step, so each request is counted once, here or there.
      const limited = rateLimitAnswer(deps.rateLimiter ?? null, decision.site, decision.proxyHostname, client.address, headers.get('accept'))
      if (limited !== null) {
        record(limited.status, 'answered', { proxy: decision.proxyHostname })
        const answered = gateAnswerResponse(limited, request.method)
        answered.headers.set('x-request-id', requestId)
        return answered
      }
      let passed = decision.auth === null ? deps.gate.unprotected(headers.get('cookie')) : null
      if (decision.auth !== null) {
        const outcome = await deps.gate.check(decision.auth, decision.site.auth, decision.proxyHostname, {
          scheme,
          host: requestHost,
          hostname,
          method: request.method,
          target,
          authorization: headers.get('authorization'),
          cookies: headers.get('cookie'),
          origin: headers.get('origin'),
          referer: headers.get('referer'),
          accept: headers.get('accept'),
          isPreflight: headers.has('access-control-request-method'),
        })
        if (outcome.kind === 'answer') {
          record(outcome.answer.status, 'auth', { proxy: decision.proxyHostname })
          const answered = gateAnswerResponse(outcome.answer, request.method)
          answered.headers.set('x-request-id', requestId)
          return answered
        }
        passed = outcome
      }

      const { backend } = decision
      let backendError: BackendErrorKind | null = null
      const context = {
        client,
        instance: { address: server.hostname ?? '127.0.0.1', port: server.port ?? 0 },
        upstream: backend.upstream,
        path: decision.path,
        localFetch: backend.isLocalApi ? deps.apiFetch : undefined,
        deadlines: deps.deadlines,
        passed,
        requestId,
        trustedHeaders: decision.site.trustedRequestHeaders,
        onError: (detail: string) => {
          backendError = backendErrorOf(detail)
          deps.logger.warn('upstream failed', { proxy: decision.proxyHostname, detail })
        },
      }
      const forwarded = { proxy: decision.proxyHostname, user: passed?.user ?? null, clientId: passed?.clientId ?? null, routeId: decision.routeId, backend: backend.origin }
      if (isWebSocketUpgrade(request)) {
        const bridged = await bridgeWebSocket(request, server, requestHost, context)
        record(bridged?.status ?? 101, backendError === null ? 'handed_over' : 'backend_error', { ...forwarded, backendError })
        return bridged
      }
      const response = await forward(request, requestHost, context)
      // fetch's Response is ours to change: strip hop-by-hop headers in place rather than copy it.
      prepareResponseHeaders(response.headers, decision.responseRules.entries)
      response.headers.set('x-request-id', requestId)
      const { tap } = deps.logging
      if (tap && tap.captureFor(hostname) !== null) tap.capture(hostname, headers, response.status, response.headers, { method: request.method, target })
      // The body streams on after this: its size is known here only when the backend declared it.
      record(response.status, backendError === null ? 'handed_over' : 'backend_error', { ...forwarded, backendError, bytesOut: Number(response.headers.get('content-length')) || 0 })
      return response
    },
    websocket: websocketBridgeHandler,
  }
}
