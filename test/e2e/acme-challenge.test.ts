/**
 * RFC 8555 §8.3: the HTTP-01 key authorization is answered by the decision step itself, before proxies,
 * routes and auth, on both forwarding paths: for an ordinary proxy, an HTTPS-only one (which has no
 * HTTP proxy at all), one whose route_mode is none, and one whose routes would take the path — and only
 * on the challenge's own host, only for a pending token, only over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { createChallengeStore, type ChallengeStore } from '../../src/certs/index.ts'
import { startTaggedBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange, tlsExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: Server<undefined>
let challenges: ChallengeStore
const TOKEN = 'tok_0123456789abcdefABCDEF-xyz'
const KEY_AUTHORIZATION = `${TOKEN}.thumbprint-of-the-account-key`

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startTaggedBackend('backend')
  const url = `http://127.0.0.1:${backend.port}`
  await edge.createProxy('plain.test', url)
  await edge.createProxy('https-only.test', url, { enable_http: false })
  await edge.createProxy('no-routes.test', url, { route_mode: 'none' })
  await edge.createProxy('routed.test', url)
  const route = await edge.api('POST', '/routes', { path_pattern: '/.well-known/', target_type: 'url', target_value: url, scope: 'proxy', proxy_hostnames: ['routed.test'] })
  expect(route.status).toBe(201)
  // The same store and bus as the server: the acme_challenge event reaches its edge as it would from any node.
  challenges = createChallengeStore(edge.server.store, edge.server.bus)
})
afterAll(async () => {
  await edge.stop()
  backend.stop(true)
})

const get = async (host: string, path: string, version = '1.1') => {
  const [reply] = parseResponses(await tcpExchange(edge.httpPort, [`GET ${path} HTTP/${version}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]))
  return reply!
}

describe('RFC 8555 §8.3: HTTP-01 answered by the edge itself', () => {
  for (const host of ['plain.test', 'https-only.test', 'no-routes.test', 'routed.test']) {
    test(`${host}: the key authorization, on the relay (HTTP/1.1) and the hand-over server (HTTP/1.0) alike`, async () => {
      await challenges.set({ token: TOKEN, key_authorization: KEY_AUTHORIZATION, domain: host }, 600)
      for (const version of ['1.1', '1.0']) {
        const reply = await get(host, `/.well-known/acme-challenge/${TOKEN}`, version)
        expect([reply.status, reply.text, reply.headers['content-type']]).toEqual([200, KEY_AUTHORIZATION, 'application/octet-stream'])
      }
      await challenges.clear(TOKEN)
    })
  }

  test('only on the challenge\'s own host: another proxy\'s host gets its backend, an unknown host 404', async () => {
    await challenges.set({ token: TOKEN, key_authorization: KEY_AUTHORIZATION, domain: 'plain.test' }, 600)
    expect((await get('routed.test', `/.well-known/acme-challenge/${TOKEN}`)).text).toBe('backend')
    expect((await get('nobody.test', `/.well-known/acme-challenge/${TOKEN}`)).status).toBe(404)
    await challenges.clear(TOKEN)
  })

  test('a token that is not pending is decided like any request; a cleared one stops being answered', async () => {
    expect((await get('plain.test', '/.well-known/acme-challenge/not-a-pending-token-0000')).text).toBe('backend')
    await challenges.set({ token: TOKEN, key_authorization: KEY_AUTHORIZATION, domain: 'plain.test' }, 600)
    expect((await get('plain.test', `/.well-known/acme-challenge/${TOKEN}`)).text).toBe(KEY_AUTHORIZATION)
    await challenges.clear(TOKEN)
    expect((await get('plain.test', `/.well-known/acme-challenge/${TOKEN}`)).text).toBe('backend')
    // The HTTPS-only proxy has no HTTP side: without a pending challenge its name is not served on HTTP.
    expect((await get('https-only.test', `/.well-known/acme-challenge/${TOKEN}`)).status).toBe(404)
  })

  test('never over HTTPS (HTTP-01 is validated over port 80 only)', async () => {
    await challenges.set({ token: TOKEN, key_authorization: KEY_AUTHORIZATION, domain: 'plain.test' }, 600)
    const { bytes } = await tlsExchange(edge.httpsPort, 'plain.test', `GET /.well-known/acme-challenge/${TOKEN} HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n`)
    expect(parseResponses(bytes)[0]!.text).toBe('backend')
    await challenges.clear(TOKEN)
  })

  test('a challenge written before the edge started, or whose event was missed, is answered after the reconcile', async () => {
    const other = 'late_0123456789abcdefABCDEF-xyz'
    // Written to the store without an event reaching the edge (as if the event was missed).
    await edge.server.store.put(`certs/challenges/${other}`, JSON.stringify({ token: other, key_authorization: `${other}.k`, domain: 'plain.test' }), { ttlMs: 60_000 })
    expect((await get('plain.test', `/.well-known/acme-challenge/${other}`)).text).toBe('backend')
    await edge.server.edge.reconcile()
    expect((await get('plain.test', `/.well-known/acme-challenge/${other}`)).text).toBe(`${other}.k`)
  })
})
