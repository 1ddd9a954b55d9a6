/** POST /revoke (RFC 7009), POST /introspect (RFC 7662), the admin token view, the Basic parser, and secrets kept out of logs and the store. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseBasicAuthorization } from '../../src/api/oauth/client-auth.ts'
import type { TokenResult } from '../../src/oauth/index.ts'
import { bearer } from '../support/api.ts'
import { ISSUER, RESOURCE, VERIFIER } from '../support/grants.ts'
import { basic, createTokenApi, expectOAuthError, type TokenApi } from '../support/token-api.ts'

let t: TokenApi
let publicClient: string
let confidential: { id: string; secret: string }
let other: { id: string; secret: string }
beforeAll(async () => {
  t = await createTokenApi()
  publicClient = (await t.register({ token_endpoint_auth_method: 'none' })).client.client_id
  const c = await t.register({ token_endpoint_auth_method: 'client_secret_basic' })
  confidential = { id: c.client.client_id, secret: c.clientSecret! }
  // It introspects the public client's tokens, which only a resource server may (issue #13; test/api/oauth-introspect-clients.test.ts).
  await t.f.registry.setResourceServer(confidential.id, true)
  const o = await t.register({ token_endpoint_auth_method: 'client_secret_post' })
  other = { id: o.client.client_id, secret: o.clientSecret! }
})
afterAll(() => t.close())

const asConfidential = () => basic(confidential.id, confidential.secret)

describe('POST /revoke (RFC 7009)', () => {
  test('RFC 7009 §2.2: 200 with an empty body, no-store; the access token is refused from then on', async () => {
    const pair = await t.tokensFor(publicClient)
    const response = await t.post('/revoke', { token: pair.access_token, token_type_hint: 'access_token', client_id: publicClient })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(await t.f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })

  test('RFC 7009 §2.1: revoking a refresh token (any hint, even a wrong or unknown one) ends its family', async () => {
    const pair = await t.tokensFor(confidential.id, {}, asConfidential())
    expect((await t.post('/revoke', { token: pair.refresh_token, token_type_hint: 'something_else' }, asConfidential())).status).toBe(200)
    expect(await t.f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
    await expectOAuthError(await t.post('/token', { grant_type: 'refresh_token', refresh_token: pair.refresh_token }, asConfidential()), 400, 'invalid_grant')
  })

  test('RFC 7009 §2.2: an unknown or garbage token → 200', async () => {
    for (const token of ['nope', 'a.b.c', 'A'.repeat(43), '%00']) expect((await t.post('/revoke', { token, client_id: publicClient })).status).toBe(200)
  })

  test("RFC 7009 §2.1: another client's token → 200, but nothing is revoked", async () => {
    const pair = await t.tokensFor(publicClient)
    expect((await t.post('/revoke', { token: pair.access_token, client_id: other.id, client_secret: other.secret })).status).toBe(200)
    expect((await t.post('/revoke', { token: pair.refresh_token, client_id: other.id, client_secret: other.secret })).status).toBe(200)
    expect((await t.f.verify(pair.access_token)).ok).toBe(true)
  })

  test('RFC 7009 §2.1: the token parameter is required; the client must authenticate', async () => {
    await expectOAuthError(await t.post('/revoke', { client_id: publicClient }), 400, 'invalid_request')
    await expectOAuthError(await t.post('/revoke', { token: 'x' }), 401, 'invalid_client')
    expect(await expectOAuthError(await t.post('/revoke', { token: 'x' }, basic(confidential.id, 'wrong')), 401, 'invalid_client')).toStartWith('Basic ')
    await expectOAuthError(await t.post('/revoke', { token: 'x', client_id: publicClient }, { host: 'evil.example' }), 404, 'not_found')
  })
})

describe('POST /introspect (RFC 7662)', () => {
  test('RFC 7662 §2.2: an active access token, for a confidential client', async () => {
    const pair = await t.tokensFor(publicClient)
    const response = await t.post('/introspect', { token: pair.access_token }, asConfidential())
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toMatchObject({ active: true, client_id: publicClient, scope: 'mcp user', token_type: 'Bearer', aud: RESOURCE, iss: ISSUER, sub: '1001', username: 'alice' })
  })

  test('RFC 7662 §2.2: anything not active → exactly {"active":false}', async () => {
    const pair = await t.tokensFor(publicClient)
    await t.post('/revoke', { token: pair.access_token, client_id: publicClient })
    for (const token of [pair.access_token, 'garbage', 'a.b.c']) {
      const response = await t.post('/introspect', { token }, asConfidential())
      expect(await response.text()).toBe('{"active":false}')
    }
  })

  test('RFC 7662 §2.1 (OA-10): a public client or no client authentication → 401 invalid_client', async () => {
    const pair = await t.tokensFor(publicClient)
    await expectOAuthError(await t.post('/introspect', { token: pair.access_token, client_id: publicClient }), 401, 'invalid_client')
    await expectOAuthError(await t.post('/introspect', { token: pair.access_token }), 401, 'invalid_client')
    await expectOAuthError(await t.post('/introspect', {}, asConfidential()), 400, 'invalid_request')
  })
})

describe('admin view: GET /oauth/tokens, DELETE /oauth/tokens/{family_id}', () => {
  test('lists families without token values and revokes one; admin only', async () => {
    t.f.clock.advanceMs(1000) // the newest family, listed last
    const pair = await t.tokensFor(publicClient)
    const admin = await t.api.issue(['admin'])
    const response = await t.api.app.request('/oauth/tokens?username=alice', { headers: bearer(admin) })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).not.toContain(pair.refresh_token)
    const families = JSON.parse(text) as { family_id: string; client_id: string; scopes: string[]; created_at: string; last_used_at: string }[]
    expect(families.length).toBeGreaterThan(0)
    expect(Object.keys(families[0]!).sort()).toEqual(['client_id', 'created_at', 'expires_at', 'family_id', 'issuer', 'last_used_at', 'resource', 'scopes', 'sub', 'username'])

    const family = families.at(-1)!
    expect((await t.api.app.request(`/oauth/tokens/${family.family_id}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(204)
    expect(await t.f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect((await t.api.app.request(`/oauth/tokens/${family.family_id}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(404)

    expect((await t.api.app.request('/oauth/tokens?username=alice')).status).toBe(401)
    expect((await t.api.app.request('/oauth/tokens?username=alice', { headers: bearer(await t.api.issue(['user'])) })).status).toBe(403)
    expect((await t.api.app.request('/oauth/tokens', { headers: bearer(admin) })).status).toBe(400)
  })
})

describe('parseBasicAuthorization (RFC 6749 §2.3.1)', () => {
  test('each part is form-urlencoded before base64, so ":" "+" and "%" survive', () => {
    const header = `Basic ${btoa(`${encodeURIComponent('id:x')}:${encodeURIComponent('s p+%')}`.replaceAll('%20', '+'))}`
    expect(parseBasicAuthorization(header)).toEqual({ kind: 'credentials', clientId: 'id:x', secret: 's p+%' })
    expect(parseBasicAuthorization(undefined)).toEqual({ kind: 'absent' })
    expect(parseBasicAuthorization('Bearer abc')).toEqual({ kind: 'other-scheme' })
    expect(parseBasicAuthorization(`basic ${btoa('a:b')}`)).toEqual({ kind: 'credentials', clientId: 'a', secret: 'b' })
  })
})

describe('secrets stay out of logs and the store (OA-13)', () => {
  test('after codes, refreshes, replays, revocations and failures, no code, token, secret or verifier appears in either', async () => {
    const code = await t.f.codeFor(confidential.id)
    const pair = (await (await t.post('/token', t.codeParams(code), asConfidential())).json()) as TokenResult
    await t.post('/token', t.codeParams(code), asConfidential()) // replay → revocation, logged
    const second = await t.tokensFor(publicClient)
    const third = (await (await t.post('/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token, client_id: publicClient })).json()) as TokenResult
    await t.post('/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token, client_id: 'no-such-client' })
    await t.post('/token', { grant_type: 'refresh_token', refresh_token: third.refresh_token, client_id: other.id, client_secret: other.secret })
    await t.post('/token', t.codeParams(code), basic(confidential.id, `${confidential.secret}x`))
    await t.post('/token', { ...t.codeParams(third.refresh_token), client_id: third.access_token }) // tokens pasted into the wrong fields
    await t.post('/revoke', { token: third.access_token, client_id: publicClient })

    const logs = t.allLogs()
    expect(logs).toContain('client authentication failed')
    expect(logs).toContain('token request refused')
    const raw = await t.f.rawStore()
    for (const secret of [code, pair.access_token, pair.refresh_token, second.access_token, second.refresh_token, third.access_token, third.refresh_token, confidential.secret, VERIFIER]) {
      expect(logs).not.toContain(secret)
      expect(raw).not.toContain(secret)
    }
  })
})
