/** POST /token in-process (issue #4 "/token"): form bodies, client authentication, grants, RFC 6749 §5.2 errors, CORS, no-store. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ApiError } from '../../src/api/index.ts'
import type { TokenResult } from '../../src/oauth/index.ts'
import { ISSUER, REDIRECT_URI, RESOURCE } from '../support/grants.ts'
import { basic, createTokenApi, expectOAuthError, type TokenApi } from '../support/token-api.ts'

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const deviceCalls: unknown[] = []
let t: TokenApi
let publicClient: string
let basicClient: { id: string; secret: string }
let postClient: { id: string; secret: string }
let codeOnlyClient: string
let deviceClient: string

beforeAll(async () => {
  t = await createTokenApi({
    deviceGrant: async (params, client, issuer) => {
      deviceCalls.push({ deviceCode: params.get('device_code'), clientId: client.client_id, issuer })
      if (params.get('device_code') === 'pending') throw new ApiError(400, 'slow_down', 'polling too fast; add 5 seconds (RFC 8628 §3.5)')
      return t.f.grants.issueTokens({ issuer, resource: RESOURCE, clientId: client.client_id, user: { sub: '7', username: 'dev' }, scopes: ['mcp'] })
    },
  })
  publicClient = (await t.register({ token_endpoint_auth_method: 'none' })).client.client_id
  const b = await t.register({ token_endpoint_auth_method: 'client_secret_basic' })
  basicClient = { id: b.client.client_id, secret: b.clientSecret! }
  const p = await t.register({ token_endpoint_auth_method: 'client_secret_post' })
  postClient = { id: p.client.client_id, secret: p.clientSecret! }
  codeOnlyClient = (await t.register({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] })).client.client_id
  deviceClient = (await t.register({ token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT, 'refresh_token'] })).client.client_id
})
afterAll(() => t.close())

describe('authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5)', () => {
  test('OA-07: a public client gets a no-store Bearer token response readable from any origin', async () => {
    const response = await t.post('/token', { ...t.codeParams(await t.f.codeFor(publicClient)), client_id: publicClient })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('pragma')).toBe('no-cache')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const body = (await response.json()) as TokenResult
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, refresh_token: expect.any(String), scope: 'mcp user' })
    expect(await t.f.verify(body.access_token)).toMatchObject({ ok: true, claims: { iss: ISSUER, aud: RESOURCE, clientId: publicClient } })
  })

  test('RFC 6749 §2.3.1: client_secret_basic and client_secret_post clients authenticate by their registered method', async () => {
    expect((await t.tokensFor(basicClient.id, {}, basic(basicClient.id, basicClient.secret))).token_type).toBe('Bearer')
    expect((await t.tokensFor(postClient.id, { client_id: postClient.id, client_secret: postClient.secret })).token_type).toBe('Bearer')
    // The client_id may be repeated in the body when it equals the Basic one.
    expect((await t.tokensFor(basicClient.id, { client_id: basicClient.id }, basic(basicClient.id, basicClient.secret))).token_type).toBe('Bearer')
  })

  test('RFC 6749 §4.1.3 + OAuth 2.1 §4.1.3: code, redirect_uri and code_verifier are required → invalid_request', async () => {
    const code = await t.f.codeFor(publicClient)
    for (const missing of ['code', 'redirect_uri', 'code_verifier']) {
      const params: Record<string, string> = { ...t.codeParams(code), client_id: publicClient }
      delete params[missing]
      await expectOAuthError(await t.post('/token', params), 400, 'invalid_request')
    }
    // None of that consumed the code.
    expect((await t.post('/token', { ...t.codeParams(code), client_id: publicClient })).status).toBe(200)
  })

  test('RFC 7636 §4.6: a wrong code_verifier → 400 invalid_grant (not invalid_client, no challenge)', async () => {
    const code = await t.f.codeFor(publicClient)
    expect(await expectOAuthError(await t.post('/token', { ...t.codeParams(code), code_verifier: 'w'.repeat(43), client_id: publicClient }), 400, 'invalid_grant')).toBeNull()
  })

  test('RFC 6749 §4.1.3: a code issued to another client → invalid_grant', async () => {
    const code = await t.f.codeFor(publicClient)
    await expectOAuthError(await t.post('/token', { ...t.codeParams(code), client_id: postClient.id, client_secret: postClient.secret }), 400, 'invalid_grant')
  })

  test('RFC 6749 §4.1.3: a redirect_uri mismatch → invalid_grant', async () => {
    const code = await t.f.codeFor(publicClient)
    await expectOAuthError(await t.post('/token', { ...t.codeParams(code), redirect_uri: `${REDIRECT_URI}/`, client_id: publicClient }), 400, 'invalid_grant')
  })

  test('OAuth 2.1 §4.1.3: a code used twice → invalid_grant, and the first tokens are revoked', async () => {
    const code = await t.f.codeFor(publicClient)
    const first = (await (await t.post('/token', { ...t.codeParams(code), client_id: publicClient })).json()) as TokenResult
    await expectOAuthError(await t.post('/token', { ...t.codeParams(code), client_id: publicClient }), 400, 'invalid_grant')
    expect(await t.f.verify(first.access_token)).toEqual({ ok: false, reason: 'revoked' })
    await expectOAuthError(await t.post('/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: publicClient }), 400, 'invalid_grant')
  })

  test('RFC 8707 §2: one resource at most (else invalid_target), and it must be the authorized one', async () => {
    const code = await t.f.codeFor(publicClient)
    const base = `${new URLSearchParams({ ...t.codeParams(code), client_id: publicClient })}`
    await expectOAuthError(await t.post('/token', `${base}&resource=${encodeURIComponent(RESOURCE)}&resource=${encodeURIComponent('https://x.example')}`), 400, 'invalid_target')
    await expectOAuthError(await t.post('/token', `${base}&resource=${encodeURIComponent('https://x.example')}`), 400, 'invalid_target')
    expect((await t.post('/token', `${base}&resource=${encodeURIComponent(RESOURCE)}`)).status).toBe(200)
  })

  test('a code is redeemed at the issuer that issued it (another issuer host → invalid_grant; a foreign host → 404)', async () => {
    const code = await t.f.codeFor(publicClient)
    await expectOAuthError(await t.post('/token', { ...t.codeParams(code), client_id: publicClient }, { host: '127.0.0.1:9000' }), 400, 'invalid_grant')
    await expectOAuthError(await t.post('/token', { ...t.codeParams(code), client_id: publicClient }, { host: 'evil.example' }), 404, 'not_found')
    await expectOAuthError(await t.post('/token', { ...t.codeParams(code), client_id: publicClient }, { host: 'auth.example.com.evil.example' }), 404, 'not_found')
  })
})

describe('client authentication (RFC 6749 §2.3, §5.2)', () => {
  const withCode = async (auth: Record<string, string>, headers: Record<string, string> = {}, clientId = basicClient.id) =>
    t.post('/token', { ...t.codeParams(await t.f.codeFor(clientId)), ...auth }, headers)

  test('RFC 6749 §5.2: a wrong Basic secret → 401 invalid_client with WWW-Authenticate: Basic', async () => {
    expect(await expectOAuthError(await withCode({}, basic(basicClient.id, 'wrong')), 401, 'invalid_client')).toBe('Basic realm="oauth-https-proxy"')
    expect(await expectOAuthError(await withCode({}, basic('no-such-client', 'x')), 401, 'invalid_client')).toStartWith('Basic ')
  })

  test('RFC 6749 §5.2: malformed Basic credentials → 401 invalid_client with the Basic challenge', async () => {
    for (const authorization of ['Basic', 'Basic !!!', `Basic ${btoa('no-colon')}`, `Basic ${btoa(':secret')}`, `Basic ${btoa('id:')}`, `Basic ${btoa('id:%zz')}`]) {
      expect(await expectOAuthError(await withCode({}, { authorization }), 401, 'invalid_client')).toStartWith('Basic ')
    }
  })

  test('RFC 6749 §5.2: failures without Basic are 401 invalid_client without a challenge', async () => {
    const cases: Record<string, string>[] = [
      {}, // no client authentication at all
      { client_id: 'no-such-client' },
      { client_id: postClient.id, client_secret: 'wrong' },
      // original §12.1 item 4: leaving the secret out never skips authentication of a confidential client.
      { client_id: postClient.id },
      // A public client presenting a secret, and a post client using the wrong registered method.
      { client_id: publicClient, client_secret: 'anything' },
    ]
    for (const auth of cases) expect(await expectOAuthError(await withCode(auth, {}, postClient.id), 401, 'invalid_client')).toBeNull()
    // A basic client using client_secret_post: not its registered method.
    expect(await expectOAuthError(await withCode({ client_id: basicClient.id, client_secret: basicClient.secret }), 401, 'invalid_client')).toBeNull()
  })

  test('RFC 6749 §2.3: two methods at once, or two different client ids → invalid_request', async () => {
    await expectOAuthError(await withCode({ client_secret: basicClient.secret }, basic(basicClient.id, basicClient.secret)), 400, 'invalid_request')
    await expectOAuthError(await withCode({ client_id: publicClient }, basic(basicClient.id, basicClient.secret)), 400, 'invalid_request')
  })

  test('invalid_client only for client authentication: a good client with a bad code gets invalid_grant', async () => {
    const response = await t.post('/token', { ...t.codeParams('A'.repeat(43)) }, basic(basicClient.id, basicClient.secret))
    expect(await expectOAuthError(response, 400, 'invalid_grant')).toBeNull()
  })
})

describe('grant types (RFC 6749 §5.2)', () => {
  test('a missing grant_type → invalid_request; an unknown one (password, implicit, client_credentials) → unsupported_grant_type', async () => {
    await expectOAuthError(await t.post('/token', { client_id: publicClient }), 400, 'invalid_request')
    for (const grant_type of ['password', 'token', 'client_credentials', 'AUTHORIZATION_CODE', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      await expectOAuthError(await t.post('/token', { grant_type, client_id: publicClient }), 400, 'unsupported_grant_type')
    }
  })

  test('RFC 6749 §5.2: a grant type the client did not register → unauthorized_client', async () => {
    const pair = await t.tokensFor(publicClient)
    await expectOAuthError(await t.post('/token', { grant_type: 'refresh_token', refresh_token: pair.refresh_token, client_id: codeOnlyClient }), 400, 'unauthorized_client')
    await expectOAuthError(await t.post('/token', { grant_type: DEVICE_GRANT, device_code: 'x', client_id: publicClient }), 400, 'unauthorized_client')
    await expectOAuthError(await t.post('/token', { ...t.codeParams(await t.f.codeFor(deviceClient)), client_id: deviceClient }), 400, 'unauthorized_client')
  })

  test('RFC 8628 §3.4: the device grant goes to the injected handler with the form, the client and the issuer; its errors pass through', async () => {
    deviceCalls.length = 0
    const response = await t.post('/token', { grant_type: DEVICE_GRANT, device_code: 'ready', client_id: deviceClient })
    expect(response.status).toBe(200)
    expect(((await response.json()) as TokenResult).scope).toBe('mcp')
    expect(deviceCalls).toEqual([{ deviceCode: 'ready', clientId: deviceClient, issuer: ISSUER }])
    await expectOAuthError(await t.post('/token', { grant_type: DEVICE_GRANT, device_code: 'pending', client_id: deviceClient }), 400, 'slow_down')
  })

  test('without a device handler the device grant is unsupported_grant_type', async () => {
    const bare = await createTokenApi()
    try {
      const client = (await bare.register({ token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT] })).client.client_id
      await expectOAuthError(await bare.post('/token', { grant_type: DEVICE_GRANT, device_code: 'x', client_id: client }), 400, 'unsupported_grant_type')
    } finally {
      await bare.close()
    }
  })
})

describe('refresh_token (RFC 6749 §6)', () => {
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) => t.post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: publicClient, ...extra })

  test('rotates; the old token inside the grace gets the same pair; after the grace it revokes the family', async () => {
    const first = await t.tokensFor(publicClient)
    const response = await refresh(first.refresh_token)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const second = (await response.json()) as TokenResult
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(((await (await refresh(first.refresh_token)).json()) as TokenResult).refresh_token).toBe(second.refresh_token)
    t.f.clock.advanceMs(10_001)
    await expectOAuthError(await refresh(first.refresh_token), 400, 'invalid_grant')
    await expectOAuthError(await refresh(second.refresh_token), 400, 'invalid_grant')
    expect(await t.f.verify(second.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })

  test('concurrent refresh inside the grace: five parallel requests all get the same new pair', async () => {
    const first = await t.tokensFor(publicClient)
    const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(first.refresh_token)))
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200])
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as TokenResult[]
    expect(new Set(bodies.map((body) => body.refresh_token)).size).toBe(1)
    expect(new Set(bodies.map((body) => body.access_token)).size).toBe(1)
  })

  test('RFC 8707 §2.2: another resource → invalid_target; RFC 6749 §6: a wider scope → invalid_scope; another client → invalid_grant', async () => {
    const first = await t.tokensFor(publicClient)
    await expectOAuthError(await refresh(first.refresh_token, { resource: 'https://other.example.com' }), 400, 'invalid_target')
    await expectOAuthError(await refresh(first.refresh_token, { scope: 'admin' }), 400, 'invalid_scope')
    await expectOAuthError(await refresh(first.refresh_token, { client_id: postClient.id, client_secret: postClient.secret }), 400, 'invalid_grant')
    await expectOAuthError(await refresh(first.refresh_token, { refresh_token: '' }), 400, 'invalid_request')
    expect(((await (await refresh(first.refresh_token, { scope: 'mcp' })).json()) as TokenResult).scope).toBe('mcp')
  })
})

describe('request format (RFC 6749 §3.2, §4.1.3)', () => {
  test('a JSON body, or none, → invalid_request', async () => {
    const json = JSON.stringify({ ...t.codeParams('x'), client_id: publicClient })
    await expectOAuthError(await t.post('/token', json, { 'content-type': 'application/json' }), 400, 'invalid_request')
    await expectOAuthError(await t.api.app.request('/token', { method: 'POST', headers: { host: 'auth.example.com' } }), 400, 'invalid_request')
    await expectOAuthError(await t.post('/token', 'grant_type=authorization_code', { 'content-type': 'text/plain' }), 400, 'invalid_request')
  })

  test('RFC 6749 §3.2: a repeated parameter → invalid_request', async () => {
    for (const name of ['grant_type', 'client_id', 'code', 'code_verifier', 'redirect_uri']) {
      const body = `${new URLSearchParams({ ...t.codeParams('A'.repeat(43)), client_id: publicClient })}&${name}=again`
      await expectOAuthError(await t.post('/token', body), 400, 'invalid_request')
    }
  })

  test('RFC 6749 §3.1: an empty parameter counts as absent', async () => {
    const code = await t.f.codeFor(publicClient)
    const body = `${new URLSearchParams({ ...t.codeParams(code), client_id: publicClient })}&scope=&resource=`
    expect((await t.post('/token', body)).status).toBe(200)
  })

  test('hostile bodies get RFC error JSON, never a 500', async () => {
    const hostile = ['%', '%zz', 'grant_type=%E0%A4%A', '&&&', '=x', 'grant_type', `grant_type=${'a'.repeat(15_000)}`, 'grant_type=authorization_code&code[]=1', '\u0000=\u0000']
    for (const body of hostile) {
      const response = await t.post('/token', body)
      expect(response.status).toBeLessThan(500)
      expect(((await response.json()) as { error: string }).error).toBeString()
    }
    const invalidUtf8 = await t.api.app.request('/token', { method: 'POST', headers: { host: 'auth.example.com', 'content-type': 'application/x-www-form-urlencoded' }, body: new Uint8Array([0x67, 0xff, 0xfe]) })
    await expectOAuthError(invalidUtf8, 400, 'invalid_request')
    expect((await t.post('/token', `grant_type=${'a'.repeat(20_000)}`)).status).toBe(413)
  })

  test('CORS preflight for browser clients', async () => {
    const response = await t.api.app.request('/token', { method: 'OPTIONS', headers: { host: 'auth.example.com', origin: 'http://localhost:6274' } })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-allow-methods')).toContain('POST')
  })
})
