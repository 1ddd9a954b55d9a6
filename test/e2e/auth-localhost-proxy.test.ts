/**
 * The built-in `localhost` proxy fronts the management API and the authorization server. With auth on,
 * its OAuth and discovery paths stay public (a client must reach them before it has a token: RFC 8414
 * §3, RFC 9728 §3, RFC 7591 §3, RFC 6749 §3.1–3.2), and every other path takes the API's own tokens,
 * which go on to the API (it checks their scope itself).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge

const viaLocalhost = (path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${edge.httpPort}${path}`, { ...init, headers: { host: 'localhost', ...(init.headers as Record<string, string> | undefined) } })

beforeAll(async () => {
  edge = await startTestEdge()
  await waitFor(async () => (await edge.api('GET', '/proxy/targets/localhost')).status === 200, { what: 'the localhost proxy' })
  expect((await edge.api('PUT', '/proxy/targets/localhost/auth', { auth_enabled: true })).status).toBe(200)
  await waitFor(async () => (await viaLocalhost('/system/info')).status === 401, { what: 'auth on the localhost proxy' })
})
afterAll(() => edge.stop())

describe('the localhost proxy with auth on', () => {
  test('discovery and OAuth endpoints stay public: reached without a token', async () => {
    expect((await viaLocalhost('/.well-known/oauth-authorization-server')).status).toBe(200)
    expect((await viaLocalhost('/jwks')).status).toBe(200)
    expect((await viaLocalhost('/health')).status).toBe(200)
    // RFC 7591 §3.2.2: a bad registration is the AS's own 400, not the edge's 401.
    const register = await viaLocalhost('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(register.status).toBe(400)
  })

  test('RFC 6750 §3: an API path without a token gets the edge challenge', async () => {
    const response = await viaLocalhost('/system/info')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toStartWith('Bearer ')
  })

  test('an API token passes the edge and reaches the API, which checks it again', async () => {
    const response = await viaLocalhost('/system/info', { headers: { authorization: `Bearer ${edge.adminToken}` } })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { you: { username: string } }).you.username).toBe('test-admin')
  })
})
