/**
 * Adversarial review of route targets (README "Routes": `hostname` = another proxy, "reached as it
 * reaches its own backend").
 *
 * - A disabled proxy reaches nothing (its own Host answers 404), but decide()'s routeBackend('hostname')
 *   reads siteOf(value) without looking at `enabled`: every route pointing at it still forwards to its
 *   backend. Disabling a proxy is how an operator takes a backend off the edge; a route on any other
 *   proxy (a global one: on every proxy) keeps it reachable.
 * - Locked in (passing): a route whose `hostname` target was force-deleted answers 502 on both paths,
 *   and a route that reaches the in-process API through the built-in `localhost` proxy is handed over
 *   (the API still authenticates every request itself).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: RawBackend

async function createRoute(fields: Record<string, unknown>): Promise<void> {
  const response = await edge.api('POST', '/routes', { scope: 'proxy', proxy_hostnames: ['pub.test'], ...fields })
  if (response.status !== 201) throw new Error(`POST /routes ${JSON.stringify(fields)}: ${response.status} ${await response.text()}`)
}

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startRawBackend({ answer: (request) => `HTTP/1.1 200 OK\r\ncontent-length: ${request.target.length}\r\n\r\n${request.target}` })
  await edge.createProxy('pub.test', `${backend.url}/pub`)
  await edge.createProxy('off.test', `${backend.url}/off`)
  await edge.createProxy('gone.test', `${backend.url}/gone`)
  await createRoute({ path_pattern: '/to-off', target_type: 'hostname', target_value: 'off.test' })
  await createRoute({ path_pattern: '/to-gone', target_type: 'hostname', target_value: 'gone.test' })
  await createRoute({ path_pattern: '/to-api', strip_prefix: true, target_type: 'hostname', target_value: 'localhost' })
  const disabled = await edge.api('PUT', '/proxy/targets/off.test', { enabled: false })
  if (disabled.status !== 200) throw new Error(`disabling off.test: ${disabled.status}`)
  const deleted = await edge.api('DELETE', '/proxy/targets/gone.test?force=true')
  if (deleted.status >= 300) throw new Error(`deleting gone.test: ${deleted.status}`)
  await edge.server.edge.reconcile()
})
afterAll(async () => {
  await edge.stop()
  backend.stop()
})

const PATHS = { relay: '1.1', 'hand-over server': '1.0' } as const

async function get(version: '1.1' | '1.0', host: string, target: string) {
  const [reply] = parseResponses(await tcpExchange(edge.httpPort, [`GET ${target} HTTP/${version}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]))
  if (!reply) throw new Error(`no answer to ${host}${target}`)
  return reply
}

describe('review: a route to a disabled proxy', () => {
  test('the disabled proxy itself answers 404 (so the rows below can fail)', async () => {
    expect((await get('1.1', 'off.test', '/x')).status).toBe(404)
    expect(backend.requests.map((request) => request.target)).not.toContain('/off/x')
  })

  for (const [path, version] of Object.entries(PATHS)) {
    test(`${path}: pub.test /to-off (target_type hostname → off.test, disabled) does not reach off.test's backend`, async () => {
      const target = `/to-off/${path.replaceAll(' ', '-')}`
      const reply = await get(version, 'pub.test', target)
      expect({ status: reply.status, reachedBackend: backend.requests.some((request) => request.target === `/off${target}`) }).toEqual({
        status: reply.status === 404 ? 404 : 502,
        reachedBackend: false,
      })
      expect([404, 502]).toContain(reply.status)
    })
  }
})

describe('review (holds): other route targets', () => {
  for (const [path, version] of Object.entries(PATHS)) {
    test(`${path}: a route whose hostname target was force-deleted answers 502`, async () => {
      const reply = await get(version, 'pub.test', '/to-gone/x')
      expect(reply.status).toBe(502)
      expect(backend.requests.some((request) => request.target.startsWith('/gone'))).toBe(false)
    })

    test(`${path}: a route to the built-in localhost proxy reaches the in-process API, which still demands a token`, async () => {
      expect((await get(version, 'pub.test', '/to-api/health')).status).toBe(200)
      expect((await get(version, 'pub.test', '/to-api/proxy/targets')).status).toBe(401)
    })
  }
})
