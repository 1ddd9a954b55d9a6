/**
 * POST /proxy/targets/{h}/auth, the original's spelling, does what PUT does: the fields given are applied
 * and the others keep their values (the original's POST nulled every omitted field, §3.4).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(() => edge.stop())

let counter = 0
async function newProxy(): Promise<string> {
  const hostname = `post-auth${++counter}.example.com`
  await edge.createProxy(hostname, 'http://127.0.0.1:9')
  return hostname
}
const json = async (response: Response) => (await response.json()) as Record<string, unknown>

test('POST applies the fields given and answers the settings, exactly as PUT', async () => {
  const [viaPost, viaPut] = [await newProxy(), await newProxy()]
  const change = { auth_enabled: true, auth_required_users: ['Alice'], auth_excluded_paths: ['/health'] }
  const posted = await edge.api('POST', `/proxy/targets/${viaPost}/auth`, change)
  const put = await edge.api('PUT', `/proxy/targets/${viaPut}/auth`, change)
  expect(posted.status).toBe(200)
  expect(await json(posted)).toEqual(await json(put))
  expect(await json(await edge.api('GET', `/proxy/targets/${viaPost}/auth`))).toMatchObject({ auth_enabled: true, auth_required_users: ['alice'], auth_excluded_paths: ['/health'] })
})

test('POST keeps the fields it does not mention (unlike the original, which nulled them)', async () => {
  const hostname = await newProxy()
  await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_required_users: ['alice'], auth_excluded_paths: ['/public'] })
  const response = await edge.api('POST', `/proxy/targets/${hostname}/auth`, { auth_enabled: true })
  expect(response.status).toBe(200)
  expect(await json(response)).toMatchObject({ auth_enabled: true, auth_required_users: ['alice'], auth_excluded_paths: ['/public'] })
})

test('POST validates like PUT: an unknown field (the original\'s "enabled") is a 400 naming it; an unknown proxy is a 404', async () => {
  const hostname = await newProxy()
  const bad = await edge.api('POST', `/proxy/targets/${hostname}/auth`, { enabled: true })
  expect(bad.status).toBe(400)
  expect(await json(bad)).toMatchObject({ error: 'invalid_request' })
  expect(String((await json(await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { enabled: true }))).error_description)).toContain('enabled')

  const missing = await edge.api('POST', '/proxy/targets/nowhere.example.com/auth', { auth_enabled: true })
  expect(missing.status).toBe(404)
})

test('POST needs the admin scope, as PUT does', async () => {
  const hostname = await newProxy()
  // With API_PORT=0 the issuer and audience name port 0 (test/support/edge.ts).
  const publicUrl = edge.server.apiUrl.replace(/:\d+$/, ':0')
  const userToken = await issueAccessToken(edge.server.keyRing, systemClock, { issuer: publicUrl, audience: apiResource({ publicUrl }), subject: 'local:reader', username: 'reader', scopes: ['user'], clientId: 'test', ttlSec: 600 })
  const response = await fetch(`${edge.server.apiUrl}/proxy/targets/${hostname}/auth`, {
    method: 'POST',
    headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ auth_enabled: true }),
  })
  expect(response.status).toBe(403)
  expect(await json(response)).toMatchObject({ error: 'insufficient_scope' })
})
