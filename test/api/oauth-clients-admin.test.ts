/** GET and DELETE /oauth/clients/{client_id}: one client with its token families, and deleting it with its tokens (admin only). */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clientAdminRoutes } from '../../src/api/index.ts'
import { parseClientMetadata, type TokenResult } from '../../src/oauth/index.ts'
import { bearer, createTestApi } from '../support/api.ts'
import { createGrantsFixture, REDIRECT_URI, type GrantsFixture } from '../support/grants.ts'

let f: GrantsFixture
let api: Awaited<ReturnType<typeof createTestApi>>
let admin: string
beforeAll(async () => {
  f = await createGrantsFixture()
  api = await createTestApi({ extraRoutes: clientAdminRoutes(f.registry, f.grants) })
  admin = await api.issue(['admin'])
})
afterAll(async () => {
  await api.close()
  f.close()
})

async function register(method: 'none' | 'client_secret_basic') {
  const parsed = parseClientMetadata({ client_name: 'App', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: method, grant_types: ['authorization_code', 'refresh_token'] })
  if (!parsed.ok) throw new Error(parsed.description)
  return f.registry.register(parsed.metadata)
}
async function tokensFor(clientId: string): Promise<TokenResult> {
  const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(await f.codeFor(clientId), clientId))
  if (!result.ok) throw new Error(result.reason)
  return result.tokens
}
const request = (method: string, path: string, token: string | null = admin) => api.app.request(path, { method, headers: token === null ? {} : bearer(token) })

describe('GET /oauth/clients/{client_id}', () => {
  test("the client without secrets or hashes, with its live families and none of another client's", async () => {
    const registered = await register('client_secret_basic')
    const other = await register('none')
    const pair = await tokensFor(registered.client.client_id)
    await tokensFor(other.client.client_id)

    const response = await request('GET', `/oauth/clients/${registered.client.client_id}`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const text = await response.text()
    for (const secret of [registered.clientSecret!, registered.registrationAccessToken, pair.refresh_token, pair.access_token]) expect(text).not.toContain(secret)
    expect(text).not.toContain('hash')
    const body = JSON.parse(text) as Record<string, unknown> & { token_families: { client_id: string; username: string }[] }
    expect(body).toMatchObject({ ...registered.client })
    expect(body.token_families).toHaveLength(1)
    expect(body.token_families[0]).toMatchObject({ client_id: registered.client.client_id, username: 'alice' })
  })

  test('404 for an unknown or malformed id; 401 without a token, 403 with user scope', async () => {
    expect((await request('GET', '/oauth/clients/AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404)
    expect((await request('GET', '/oauth/clients/not..valid')).status).toBe(400)
    const { client } = await register('none')
    expect((await request('GET', `/oauth/clients/${client.client_id}`, null)).status).toBe(401)
    expect((await request('GET', `/oauth/clients/${client.client_id}`, await api.issue(['user']))).status).toBe(403)
  })
})

describe('DELETE /oauth/clients/{client_id}', () => {
  test('revokes its families (access tokens refused at once), removes it, then 404', async () => {
    const { client } = await register('none')
    const pair = await tokensFor(client.client_id)
    expect((await request('DELETE', `/oauth/clients/${client.client_id}`, await api.issue(['user']))).status).toBe(403)
    expect((await request('DELETE', `/oauth/clients/${client.client_id}`)).status).toBe(204)
    expect(await f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect(await f.registry.get(client.client_id)).toBeNull()
    expect(await f.grants.listClientFamilies(client.client_id)).toEqual([])
    expect((await request('DELETE', `/oauth/clients/${client.client_id}`)).status).toBe(404)
    expect((await request('GET', `/oauth/clients/${client.client_id}`)).status).toBe(404)
  })
})
