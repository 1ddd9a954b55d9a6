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
import type { ClientInfo } from './client.ts'
import { decide, type DecisionTables } from './decide.ts'
import type { Deadlines } from './deadlines.ts'
import { forward, pathAndQueryOf, type LocalFetch } from './forward.ts'
import { prepareResponseHeaders } from './headers.ts'
import { normalizeHost } from './host.ts'
import { bridgeWebSocket, isWebSocketUpgrade, websocketBridgeHandler, type BridgeData } from './websocket.ts'

export type Scheme = 'http' | 'https'

export interface PipelineDeps {
  readonly tables: DecisionTables
  readonly gate: AuthGate
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
      const requestHost = request.headers.get('host') ?? ''
      const target = pathAndQueryOf(request.url)
      const hostname = normalizeHost(requestHost)
      const decision = decide(deps.tables, { scheme, connectionProxy: scheme === 'https' ? proxyHostname : null, method: request.method, target, hostname })
      if (decision.kind === 'answer') return answerResponse(decision, request.headers.get('accept'), request.method)
      let passed = null
      if (decision.auth !== null) {
        const { headers } = request
        const outcome = await deps.gate.check(decision.auth, decision.site.auth, decision.proxyHostname, {
          scheme,
          host: requestHost,
          hostname,
          method: request.method,
          target,
          authorization: headers.get('authorization'),
          cookies: headers.get('cookie'),
          origin: headers.get('origin'),
          accept: headers.get('accept'),
        })
        if (outcome.kind === 'answer') return gateAnswerResponse(outcome.answer, request.method)
        passed = outcome
      }

      const { backend } = decision
      const context = {
        client: deps.clientOf(request, server, scheme),
        instance: { address: server.hostname ?? '127.0.0.1', port: server.port ?? 0 },
        upstream: backend.upstream,
        path: decision.path,
        localFetch: backend.isLocalApi ? deps.apiFetch : undefined,
        deadlines: deps.deadlines,
        passed,
        onError: (detail: string) => deps.logger.warn('upstream failed', { proxy: decision.proxyHostname, detail }),
      }
      if (isWebSocketUpgrade(request)) return bridgeWebSocket(request, server, requestHost, context)
      const response = await forward(request, requestHost, context)
      // fetch's Response is ours to change: strip hop-by-hop headers in place rather than copy it.
      prepareResponseHeaders(response.headers, decision.responseRules.entries)
      return response
    },
    websocket: websocketBridgeHandler,
  }
}
