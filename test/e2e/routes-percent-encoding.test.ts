/**
 * RFC 3986 §6.2.2.2: a percent-encoded unreserved character is the character itself, so /%61pi is /api.
 * Routes match the normalised path on both forwarding paths, and the backend receives that same path:
 * a route (and later its auth) cannot be stepped round by spelling a letter as %XX. Reserved escapes
 * (%2F) and the query are left as they are.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let own: RawBackend
let api: RawBackend

beforeAll(async () => {
  edge = await startTestEdge()
  own = startRawBackend({ answer: (request) => `HTTP/1.1 200 OK\r\ncontent-length: ${request.target.length + 4}\r\n\r\nown ${request.target}` })
  api = startRawBackend({ answer: (request) => `HTTP/1.1 200 OK\r\ncontent-length: ${request.target.length + 4}\r\n\r\napi ${request.target}` })
  await edge.createProxy('pct.test', own.url)
  const route = await edge.api('POST', '/routes', { path_pattern: '/api', target_type: 'url', target_value: api.url, scope: 'proxy', proxy_hostnames: ['pct.test'] })
  expect(route.status).toBe(201)
})
afterAll(async () => {
  await edge.stop()
  own.stop()
  api.stop()
})

const answer = async (target: string, version: string) => {
  const [reply] = parseResponses(await tcpExchange(edge.httpPort, [`GET ${target} HTTP/${version}\r\nHost: pct.test\r\nConnection: close\r\n\r\n`]))
  return reply!.text
}

describe('RFC 3986 §6.2.2.2: percent-encoded unreserved characters are decoded before routes match', () => {
  for (const version of ['1.1', '1.0']) {
    const path = version === '1.1' ? 'relay' : 'hand-over server'
    test(`${path}: /%61pi/x and /%41PI-less spellings reach the /api route as /api/x`, async () => {
      expect(await answer('/%61pi/x?q=%61', version)).toBe('api /api/x?q=%61')
      expect(await answer('/%61%70%69', version)).toBe('api /api')
      expect(await answer('/api%7Ex', version)).toBe('own /api~x')
    })

    test(`${path}: a reserved escape stays (/api%2Fx is not /api/x, so no route takes it)`, async () => {
      expect(await answer('/api%2Fx', version)).toBe('own /api%2Fx')
    })
  }
})
