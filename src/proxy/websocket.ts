/**
 * @module WebSocket bridging (RFC 6455): the backend connection is opened first, so the subprotocol it
 * chose can be returned to the client in the upgrade response (§4.2.2); then frames flow both ways,
 * text stays text, binary stays binary, and a close code on one side closes the other with the same.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun'
import type { ClientInfo } from './client.ts'
import { errorResponse } from './error-page.ts'
import type { Upstream } from './forward.ts'
import { upstreamUrl } from './forward.ts'
import type { GateOutcome } from './auth/gate.ts'
import { buildUpstreamHeaders } from './headers.ts'

export interface BridgeData {
  readonly upstream: WebSocket
  /** Frames the backend sent before the client side finished opening. */
  readonly early: (string | ArrayBuffer)[]
  readonly stopBuffering: () => void
}

const OPEN_TIMEOUT_MS = 10_000
/** RFC 6455 §7.4.1: 1005 and 1006 must never be sent in a close frame. */
const sendableCode = (code: number) => (code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) ? code : 1000)

export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get('upgrade')?.toLowerCase() === 'websocket'
}

export async function bridgeWebSocket(
  request: Request,
  server: Server<BridgeData>,
  requestHost: string,
  context: { client: ClientInfo; upstream: Upstream; path: string; passed?: (GateOutcome & { kind: 'pass' }) | null; requestId?: string; trustedHeaders?: ReadonlySet<string> },
): Promise<Response | undefined> {
  const { upstream, client } = context
  const target = upstreamUrl(upstream.url, context.path).replace(/^http/, 'ws')
  const forwarded = buildUpstreamHeaders(request.headers, { client, requestHost, upstreamHost: upstream.preserveHost ? requestHost : upstream.url.host, customHeaders: upstream.customHeaders, passed: context.passed ?? null, requestId: context.requestId, trustedHeaders: context.trustedHeaders })
  // The WebSocket client writes its own handshake headers; Host it takes from the headers given, so
  // preserve_host_header holds here too.
  for (const name of ['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol']) forwarded.delete(name)
  const protocols = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim()).filter(Boolean)
  const socket = new WebSocket(target, { headers: Object.fromEntries(forwarded), protocols } as unknown as string[])
  socket.binaryType = 'arraybuffer'
  const early: (string | ArrayBuffer)[] = []
  const buffer = (event: MessageEvent) => void early.push(event.data as string | ArrayBuffer)
  socket.addEventListener('message', buffer)
  const stopBuffering = () => socket.removeEventListener('message', buffer)

  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), OPEN_TIMEOUT_MS)
    socket.addEventListener('open', () => (clearTimeout(timer), resolve(true)), { once: true })
    socket.addEventListener('error', () => (clearTimeout(timer), resolve(false)), { once: true })
    socket.addEventListener('close', () => (clearTimeout(timer), resolve(false)), { once: true })
  })
  if (!opened) {
    socket.close()
    return errorResponse(502, 'the backend refused the WebSocket connection', request.headers.get('accept'))
  }
  const headers = socket.protocol ? { 'Sec-WebSocket-Protocol': socket.protocol } : undefined
  if (server.upgrade(request, { data: { upstream: socket, early, stopBuffering }, headers })) return undefined
  socket.close()
  return errorResponse(400, 'not a valid WebSocket upgrade', request.headers.get('accept'))
}

export const websocketBridgeHandler: WebSocketHandler<BridgeData> = {
  open(ws: ServerWebSocket<BridgeData>) {
    const { upstream, early } = ws.data
    ws.data.stopBuffering()
    upstream.onmessage = (event) => void ws.send(event.data as string | ArrayBuffer)
    upstream.onclose = (event) => ws.close(sendableCode(event.code), event.reason)
    upstream.onerror = () => ws.close(1011, 'backend error')
    for (const frame of early.splice(0)) ws.send(frame)
    if (upstream.readyState >= WebSocket.CLOSING) ws.close(1000)
  },
  message(ws, message) {
    if (ws.data.upstream.readyState === WebSocket.OPEN) ws.data.upstream.send(message)
  },
  close(ws, code, reason) {
    ws.data.upstream.close(sendableCode(code), reason)
  },
}
