/**
 * Adversarial review: which route takes a request, and what path its backend gets, must not depend on
 * which forwarding path read it (DESIGN §1, one decision per request). The hand-over server reads the
 * target through Bun.serve, which resolves dot segments (RFC 3986 §5.2.4), their encoded forms `%2e%2e`
 * and `.%2E`, and `\` as `/` (WHATWG URL) before decide() sees it. The relay passes the raw target to
 * decide() and on to the backend. So on the relay:
 *
 * - `/x/../api/secret` misses the `/api` route and goes to the proxy's own backend, which (any WHATWG or
 *   RFC 3986 server) resolves it to `/own/api/secret`: the route is bypassed;
 * - `/../secret` on a proxy whose target_url is `http://backend/sandbox` reaches `/sandbox/../secret`,
 *   i.e. `/secret`: the target's path prefix no longer confines the client;
 * - `/static/../../etc` on a strip_prefix route to `http://backend/files` reaches `/files/../etc`.
 *
 * The hand-over server (the same request as HTTP/1.0) routes and confines all of these correctly. Each
 * row expects the relay to do the same, or to refuse the target with 400.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: RawBackend

beforeAll(async () => {
  edge = await startTestEdge()
  // Answers with the request target exactly as it arrived.
  backend = startRawBackend({ answer: (request) => `HTTP/1.1 200 OK\r\ncontent-length: ${request.target.length}\r\n\r\n${request.target}` })
  await edge.createProxy('box.test', `${backend.url}/sandbox`)
  await edge.createProxy('routed.test', `${backend.url}/own`)
  for (const route of [
    { path_pattern: '/api', target_type: 'url', target_value: `${backend.url}/api-backend` },
    { path_pattern: '/static', strip_prefix: true, target_type: 'url', target_value: `${backend.url}/files` },
  ]) {
    const response = await edge.api('POST', '/routes', { ...route, scope: 'proxy', proxy_hostnames: ['routed.test'] })
    if (response.status !== 201) throw new Error(`POST /routes: ${response.status} ${await response.text()}`)
  }
})
afterAll(async () => {
  await edge.stop()
  backend.stop()
})

/** What the backend will make of a target: RFC 3986 §5.2.4 / WHATWG resolution, as Bun, Node, Go, nginx do. */
const resolved = (target: string) => new URL(target, 'http://backend.invalid').pathname

interface Outcome {
  readonly status: number
  /** The path the backend acts on (its resolution of the target it received). */
  readonly backendPath?: string
}

async function outcome(version: '1.1' | '1.0', host: string, target: string): Promise<Outcome> {
  const bytes = await tcpExchange(edge.httpPort, [`GET ${target} HTTP/${version}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`])
  const [reply] = parseResponses(bytes)
  if (!reply) throw new Error(`no answer to ${target}`)
  return reply.status === 200 ? { status: 200, backendPath: resolved(reply.text) } : { status: reply.status }
}

const ROWS: readonly { readonly host: string; readonly target: string; readonly expected: string }[] = [
  // The target's path prefix confines the client.
  { host: 'box.test', target: '/../secret', expected: '/sandbox/secret' },
  { host: 'box.test', target: '/%2e%2e/secret', expected: '/sandbox/secret' },
  { host: 'box.test', target: '/.%2E/secret', expected: '/sandbox/secret' },
  { host: 'box.test', target: '/..\\secret', expected: '/sandbox/secret' },
  { host: 'box.test', target: '/x/../../secret', expected: '/sandbox/secret' },
  // The route for the path the backend will act on takes it.
  { host: 'routed.test', target: '/x/../api/secret', expected: '/api-backend/api/secret' },
  { host: 'routed.test', target: '/x/%2e%2e/api/secret', expected: '/api-backend/api/secret' },
  { host: 'routed.test', target: '/api\\secret', expected: '/api-backend/api/secret' },
  // strip_prefix keeps the rest under the route target's path.
  { host: 'routed.test', target: '/static/../../etc/passwd', expected: '/own/etc/passwd' },
  { host: 'routed.test', target: '/static/%2e%2e/%2e%2e/etc/passwd', expected: '/own/etc/passwd' },
]

describe('review: dot segments and backslashes are decided and forwarded the same on both paths', () => {
  for (const row of ROWS) {
    test(`${row.host} GET ${row.target}: the hand-over server (HTTP/1.0) serves ${row.expected}; the relay (HTTP/1.1) the same, or 400`, async () => {
      const handOver = await outcome('1.0', row.host, row.target)
      expect(handOver).toEqual({ status: 200, backendPath: row.expected })
      const relay = await outcome('1.1', row.host, row.target)
      expect(relay).toEqual(relay.status === 400 ? { status: 400 } : { status: 200, backendPath: row.expected })
    })
  }
})
