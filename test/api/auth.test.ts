/**
 * The management API authenticates every request itself (DESIGN §6): Bearer JWT for the API's
 * audience, scope per route, identity headers never trusted. RFC 6750 §3 / §3.1 for the challenges.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose'
import { createManualClock } from '../../src/lib/index.ts'
import { createKeyRing, issueAccessToken } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

let api: Awaited<ReturnType<typeof createTestApi>>
beforeAll(async () => {
  api = await createTestApi()
})
afterAll(() => api.close())

const info = (headers: Record<string, string> = {}) => api.app.request('/system/info', { headers })
const rotate = (headers: Record<string, string> = {}) => api.app.request('/oauth/keys/rotate', { method: 'POST', headers })

/** A token with valid claims for this API, signed however the test wants to break it. */
function forge(header: { alg: string; typ: string; kid?: string }, key: CryptoKey | Uint8Array): Promise<string> {
  const nowSec = Math.floor(api.clock.nowMs() / 1000)
  return new SignJWT({ scope: 'admin', username: 'alice', client_id: 'x' })
    .setProtectedHeader(header)
    .setIssuer(api.config.publicUrl)
    .setAudience(api.config.publicUrl)
    .setSubject('local:alice')
    .setJti('j')
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 600)
    .sign(key)
}

async function expectUnauthorized(response: Response, withError: boolean) {
  expect(response.status).toBe(401)
  const challenge = response.headers.get('www-authenticate') ?? ''
  expect(challenge).toStartWith('Bearer ')
  if (withError) expect(challenge).toContain('error="invalid_token"')
  else expect(challenge).not.toContain('error=')
  expect(await response.json()).toMatchObject({ error: 'invalid_token' })
}

describe('API authentication', () => {
  test('a valid admin token reaches /system/info and names its holder', async () => {
    const response = await info(bearer(await api.issue(['admin'])))
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ you: { username: 'alice', scopes: ['admin'] }, store: 'embedded' })
  })

  test('RFC 6750 §3: no credentials → 401 with a bare Bearer challenge', async () => {
    await expectUnauthorized(await info(), false)
  })

  test('identity headers without a token are ignored → 401', async () => {
    const spoofed = { 'X-Auth-User': 'alice', 'X-Auth-Scopes': 'admin', 'X-Auth-Email': 'a@example.com', 'X-Forwarded-User': 'alice' }
    await expectUnauthorized(await info(spoofed), false)
    await expectUnauthorized(await rotate(spoofed), false)
  })

  test('RFC 6750 §3.1 insufficient_scope: a user token on an admin route → 403 naming the scope', async () => {
    const response = await rotate(bearer(await api.issue(['user'])))
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oauth-https-proxy", error="insufficient_scope", scope="admin"')
    expect(await response.json()).toEqual({ error: 'insufficient_scope', error_description: 'this endpoint requires the admin scope' })
  })

  test('an mcp-only token cannot read user routes; admin implies user', async () => {
    expect((await info(bearer(await api.issue(['mcp'])))).status).toBe(403)
    expect((await info(bearer(await api.issue(['user'])))).status).toBe(200)
    expect((await rotate(bearer(await api.issue(['admin'])))).status).toBe(200)
  })

  test('RFC 8725 §3.1: alg "none" is refused', async () => {
    const unsigned = new UnsecuredJWT({ scope: 'admin', username: 'alice', client_id: 'x' })
      .setIssuer(api.config.publicUrl)
      .setAudience(api.config.publicUrl)
      .setSubject('local:alice')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('1h')
      .encode()
    await expectUnauthorized(await info(bearer(unsigned)), true)
  })

  test('RFC 8725 §3.1: HS256 (algorithm confusion) is refused, even with our kid', async () => {
    const { kid } = await api.keyRing.activeKey()
    const hmac = await forge({ alg: 'HS256', typ: 'at+jwt', kid }, new TextEncoder().encode('a-shared-secret-anyone-could-guess!'))
    await expectUnauthorized(await info(bearer(hmac)), true)
  })

  test('a token signed by another server (unknown kid) is refused', async () => {
    const otherStore = createEmbeddedStore({ dataDir: ':memory:', clock: api.clock })
    const otherRing = createKeyRing(otherStore, api.clock, { retireAfterSec: 3600 })
    await otherRing.ensureActive()
    const foreign = await issueAccessToken(otherRing, api.clock, {
      issuer: api.config.publicUrl,
      audience: api.config.publicUrl,
      subject: 'local:mallory',
      username: 'mallory',
      scopes: ['admin'],
      clientId: 'x',
      ttlSec: 600,
    })
    await otherStore.close()
    await expectUnauthorized(await info(bearer(foreign)), true)
  })

  test('a token that claims our kid but is signed by another key is refused', async () => {
    const { kid } = await api.keyRing.activeKey()
    const { privateKey } = await generateKeyPair('ES256')
    const forged = await forge({ alg: 'ES256', typ: 'at+jwt', kid }, privateKey)
    expect(decodeProtectedHeader(forged).kid).toBe(kid)
    await expectUnauthorized(await info(bearer(forged)), true)
  })

  test('RFC 7519 §4.1.4: an expired token is refused', async () => {
    const token = await api.issue(['admin'], { ttlSec: 60 })
    expect((await info(bearer(token))).status).toBe(200)
    api.clock.advanceMs(61_000)
    await expectUnauthorized(await info(bearer(token)), true)
  })

  test('RFC 8707 / RFC 9068 §4: a token for another audience or from another issuer is refused', async () => {
    await expectUnauthorized(await info(bearer(await api.issue(['admin'], { audience: 'https://app.example.com' }))), true)
    await expectUnauthorized(await info(bearer(await api.issue(['admin'], { issuer: 'https://evil.example.com' }))), true)
  })

  test('RFC 9068 §2.1: a JWT without typ at+jwt (e.g. an ID token) is refused', async () => {
    const { kid, privateKey } = await api.keyRing.activeKey()
    const idToken = await forge({ alg: 'ES256', typ: 'JWT', kid }, privateKey)
    await expectUnauthorized(await info(bearer(idToken)), true)
  })

  test('malformed Authorization headers are 401, never 500', async () => {
    const token = await api.issue(['admin'])
    for (const header of ['Basic YWxpY2U6cHc=', 'Bearer', 'Bearer ', `Bearer ${token} extra`, 'Bearer not.a.jwt', 'Bearer ' + 'a'.repeat(10_000), `bearer\t${token}x`, 'Bearer e30.e30.e30']) {
      const response = await info({ Authorization: header })
      expect(response.status).toBe(401)
    }
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    expect((await info({ Authorization: `bearer ${token}` })).status).toBe(200)
  })

  test('a token only in the query string or a cookie is not accepted (RFC 6750 §2.3 is not offered)', async () => {
    const token = await api.issue(['admin'])
    expect((await api.app.request(`/system/info?access_token=${token}`)).status).toBe(401)
    expect((await info({ Cookie: `access_token=${token}` })).status).toBe(401)
  })
})

describe('key rotation', () => {
  test('a token signed before rotation verifies until the old key retires; new tokens use the new key', async () => {
    const local = await createTestApi({ env: { OAUTH_ACCESS_TOKEN_LIFETIME: '10m' } })
    try {
      const before = await local.issue(['admin'], { ttlSec: 600 })
      const oldKid = decodeProtectedHeader(before).kid
      const rotated = await local.app.request('/oauth/keys/rotate', { method: 'POST', headers: bearer(before) })
      expect(rotated.status).toBe(200)
      const { kid, retired_kid } = (await rotated.json()) as { kid: string; retired_kid: string }
      expect(retired_kid).toBe(oldKid!)
      expect(kid).not.toBe(oldKid!)

      const after = await local.issue(['user'])
      expect(decodeProtectedHeader(after).kid).toBe(kid)
      expect((await local.app.request('/system/info', { headers: bearer(before) })).status).toBe(200)
      const jwks = (await (await local.app.request('/jwks')).json()) as { keys: { kid: string; d?: string }[] }
      expect(jwks.keys.map((key) => key.kid).sort()).toEqual([kid, oldKid!].sort())
      expect(jwks.keys.every((key) => key.d === undefined)).toBe(true)

      local.clock.advanceMs(601_000)
      // The old token has expired, and its key has left the JWKS: it can verify nothing any more.
      expect((await local.app.request('/system/info', { headers: bearer(before) })).status).toBe(401)
      const later = (await (await local.app.request('/jwks')).json()) as { keys: { kid: string }[] }
      expect(later.keys.map((key) => key.kid)).toEqual([kid])
      const list = (await (await local.app.request('/oauth/keys', { headers: bearer(await local.issue(['user'])) })).json()) as object[]
      expect(list).toEqual([expect.objectContaining({ kid, active: true })])
      expect(JSON.stringify(list)).not.toContain('"d"')
    } finally {
      await local.close()
    }
  })

  test('a rotated-out key stops verifying once its grace has passed, even for a long-lived token', async () => {
    const local = await createTestApi({ env: { OAUTH_ACCESS_TOKEN_LIFETIME: '5m' } })
    try {
      const longLived = await local.issue(['admin'], { ttlSec: 86_400 })
      await local.keyRing.rotate()
      local.clock.advanceMs(4 * 60_000)
      expect((await local.app.request('/system/info', { headers: bearer(longLived) })).status).toBe(200)
      local.clock.advanceMs(2 * 60_000)
      expect((await local.app.request('/system/info', { headers: bearer(longLived) })).status).toBe(401)
    } finally {
      await local.close()
    }
  })

  test('the JWKS never exposes private key material', async () => {
    const jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)
    expect(jwk.d).toBeDefined() // the property we check for below really exists on private keys
    const body = await (await api.app.request('/jwks')).text()
    expect(body).not.toContain('"d"')
    expect(JSON.parse(body).keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
  })
})

// Clock sanity for the helper itself: tokens are stamped with the injected clock, not wall time.
test('tokens are stamped with the injected clock', async () => {
  const clock = createManualClock(Date.UTC(2030, 0, 1))
  const store = createEmbeddedStore({ dataDir: ':memory:', clock })
  const ring = createKeyRing(store, clock, { retireAfterSec: 60 })
  await ring.ensureActive()
  const token = await issueAccessToken(ring, clock, { issuer: 'i', audience: 'a', subject: 's', username: 'u', scopes: [], clientId: 'c', ttlSec: 60 })
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
  expect(payload.iat).toBe(Date.UTC(2030, 0, 1) / 1000)
  expect(payload.exp).toBe(Date.UTC(2030, 0, 1) / 1000 + 60)
  await store.close()
})

test('a store that lost its signing keys gets a new one instead of refusing to sign', async () => {
  const local = await createTestApi()
  try {
    const { kid } = await local.keyRing.activeKey()
    for (const key of await local.store.list('keys/')) await local.store.del(key)
    const token = await local.issue(['admin'])
    expect(decodeProtectedHeader(token).kid).not.toBe(kid)
    expect((await local.app.request('/system/info', { headers: bearer(token) })).status).toBe(200)
  } finally {
    await local.close()
  }
})
