/**
 * RFC 9068 §4: the API accepts access tokens from its own issuers only: PUBLIC_URL, or a proxy whose
 * target is the API (auth.example.com in front of it). Any other issuer is refused, even when the
 * token is signed by our key and names the API as its audience.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { systemClock } from '../../src/lib/index.ts'
import { issueAccessToken } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
  await edge.createProxy('auth.test', edge.server.apiUrl)
  await edge.createProxy('other.test', 'http://127.0.0.1:9')
})
afterAll(() => edge.stop())

const tokenFrom = (issuer: string) =>
  issueAccessToken(edge.server.keyRing, systemClock, {
    issuer,
    audience: 'http://127.0.0.1:0', // the API's resource: PUBLIC_URL, which is http://127.0.0.1:0 with API_PORT=0
    subject: 'local:alice',
    username: 'alice',
    scopes: ['admin'],
    clientId: 'c',
    ttlSec: 300,
  })

const status = async (issuer: string) =>
  (await fetch(`${edge.server.apiUrl}/system/info`, { headers: { authorization: `Bearer ${await tokenFrom(issuer)}` } })).status

test('a proxy in front of the API is an issuer the API trusts', async () => {
  expect(await status('http://127.0.0.1:0')).toBe(200)
  expect(await status('https://auth.test')).toBe(200)
})

test('any other issuer is refused: another proxy, a stranger, a look-alike', async () => {
  for (const issuer of ['https://other.test', 'https://evil.example', 'https://auth.test.evil.example', 'http://auth.test', 'https://auth.test/', 'https://AUTH.test']) {
    expect(await status(issuer)).toBe(401)
  }
})
