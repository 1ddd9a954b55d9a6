/** Revocation (RFC 7009), introspection (RFC 7662), the jti denylist in verifyAccessToken, and the admin view of families. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { issueAccessToken, verifyAccessToken, type TokenResult } from '../../src/oauth/index.ts'
import { ACCESS_TTL_SEC, createGrantsFixture, ISSUER, RESOURCE, type GrantsFixture } from '../support/grants.ts'

let f: GrantsFixture
beforeEach(async () => {
  f = await createGrantsFixture()
})
afterEach(() => f.close())

const CLIENT = 'client-a'

async function firstPair(clientId = CLIENT): Promise<TokenResult> {
  const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(await f.codeFor(clientId), clientId))
  if (!result.ok) throw new Error(result.reason)
  return result.tokens
}

const nowSec = () => Math.floor(f.clock.nowMs() / 1000)

describe('revocation (RFC 7009)', () => {
  test('RFC 7009 §2.1: a revoked access token is refused by a verifier at once (reason revoked) and is inactive', async () => {
    const pair = await firstPair()
    expect(await f.grants.revoke(pair.access_token, CLIENT)).toBe('revoked')
    expect(await f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect(await f.grants.introspect(pair.access_token)).toEqual({ active: false })
    // Revoking an access token leaves its refresh token alone.
    expect((await f.grants.refresh({ refreshToken: pair.refresh_token, clientId: CLIENT, issuer: ISSUER })).ok).toBe(true)
  })

  test('a verifier without the denylist still accepts it: every verifier must pass isRevoked', async () => {
    const pair = await firstPair()
    await f.grants.revoke(pair.access_token, CLIENT)
    expect((await verifyAccessToken(f.keyRing, f.clock, pair.access_token, { issuers: [ISSUER], audience: RESOURCE })).ok).toBe(true)
  })

  test('RFC 7009 §2.1: revoking a refresh token ends its family, access tokens included', async () => {
    const pair = await firstPair()
    expect(await f.grants.revoke(pair.refresh_token, CLIENT)).toBe('revoked')
    expect(await f.grants.refresh({ refreshToken: pair.refresh_token, clientId: CLIENT, issuer: ISSUER })).toMatchObject({ ok: false, error: 'invalid_grant' })
    expect(await f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect(await f.grants.revoke(pair.refresh_token, CLIENT)).toBe('not_found')
  })

  test("RFC 7009 §2.1: another client's token is not revoked (and the answer is still a success)", async () => {
    const pair = await firstPair()
    expect(await f.grants.revoke(pair.access_token, 'client-b')).toBe('other_client')
    expect(await f.grants.revoke(pair.refresh_token, 'client-b')).toBe('other_client')
    expect((await f.verify(pair.access_token)).ok).toBe(true)
    expect((await f.grants.refresh({ refreshToken: pair.refresh_token, clientId: CLIENT, issuer: ISSUER })).ok).toBe(true)
  })

  test('RFC 7009 §2.2: unknown, malformed and expired tokens are a quiet success', async () => {
    const pair = await firstPair()
    const foreign = await issueAccessToken(f.keyRing, f.clock, { issuer: ISSUER, audience: RESOURCE, subject: 's', username: 'u', scopes: [], clientId: CLIENT, ttlSec: 60 })
    f.clock.advanceMs(61_000)
    for (const token of ['', 'x', 'a.b.c', '../../keys/active', 'A'.repeat(43), foreign, `${pair.access_token}x`]) {
      expect(await f.grants.revoke(token, CLIENT)).toBe('not_found')
    }
  })

  test('the denylist entry lives until the token has expired (plus a margin), then goes', async () => {
    const pair = await firstPair()
    await f.grants.revoke(pair.access_token, CLIENT)
    expect(await f.store.list('oauth/revoked-jti/')).toHaveLength(1)
    f.clock.advanceMs(ACCESS_TTL_SEC * 1000 + 61_000)
    expect(await f.store.list('oauth/revoked-jti/')).toHaveLength(0)
  })
})

describe('introspection (RFC 7662)', () => {
  test('RFC 7662 §2.2: an active access token with every member', async () => {
    const pair = await firstPair()
    const verified = await f.verify(pair.access_token)
    if (!verified.ok) throw new Error(verified.reason)
    expect(await f.grants.introspect(pair.access_token)).toEqual({
      active: true,
      scope: 'mcp user',
      client_id: CLIENT,
      username: 'alice',
      token_type: 'Bearer',
      exp: nowSec() + ACCESS_TTL_SEC,
      iat: nowSec(),
      sub: '1001',
      aud: RESOURCE,
      iss: ISSUER,
      jti: verified.claims.jti,
    })
  })

  test('RFC 7662 §2.2: the current refresh token is active; a rotated-away one is not', async () => {
    const pair = await firstPair()
    expect(await f.grants.introspect(pair.refresh_token)).toMatchObject({ active: true, client_id: CLIENT, scope: 'mcp user', aud: RESOURCE, iss: ISSUER, sub: '1001', username: 'alice' })
    await f.grants.refresh({ refreshToken: pair.refresh_token, clientId: CLIENT, issuer: ISSUER })
    expect(await f.grants.introspect(pair.refresh_token)).toEqual({ active: false })
  })

  test('RFC 7662 §2.2: expired, garbage and foreign tokens → exactly {active: false}', async () => {
    const pair = await firstPair()
    f.clock.advanceMs(ACCESS_TTL_SEC * 1000)
    for (const token of [pair.access_token, '', 'x', 'a.b.c', 'A'.repeat(43)]) expect(await f.grants.introspect(token)).toEqual({ active: false })
  })
})

describe('admin view of families', () => {
  test("lists a user's live families without any token material, and revokes one", async () => {
    const a = await firstPair('client-a')
    f.clock.advanceMs(1000)
    const b = await firstPair('client-b')
    const families = await f.grants.listFamilies('ALICE')
    expect(families.map((family) => family.clientId)).toEqual(['client-a', 'client-b'])
    expect(families[0]).toEqual({
      familyId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      clientId: 'client-a',
      issuer: ISSUER,
      resource: RESOURCE,
      user: { sub: '1001', username: 'alice', email: 'alice@example.com' },
      scopes: ['mcp', 'user'],
      createdAtMs: f.clock.nowMs() - 1000,
      lastUsedAtMs: f.clock.nowMs() - 1000,
      expiresAtMs: expect.any(Number),
    })
    expect(JSON.stringify(families)).not.toContain(a.refresh_token)
    expect(await f.grants.listFamilies('bob')).toEqual([])

    expect(await f.grants.revokeFamily(families[0]!.familyId)).toBe(true)
    expect(await f.verify(a.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect((await f.verify(b.access_token)).ok).toBe(true)
    expect((await f.grants.listFamilies('alice')).map((family) => family.clientId)).toEqual(['client-b'])
    expect(await f.grants.revokeFamily(families[0]!.familyId)).toBe(false)
    for (const id of ['', '..', 'nope', 'A'.repeat(22)]) expect(await f.grants.revokeFamily(id)).toBe(false)
    expect(await f.store.list('oauth/families/')).toHaveLength(2)
  })
})
