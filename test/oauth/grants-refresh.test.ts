/** Refresh-token families: rotation, reuse detection with grace, concurrency, client and resource binding, scope rules, the policy recheck (RFC 6749 §6, RFC 9700 §4.14.2). */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { TokenResult } from '../../src/oauth/index.ts'
import { createGrantsFixture, ISSUER, REFRESH_TTL_SEC, RESOURCE, type GrantsFixture } from '../support/grants.ts'

let f: GrantsFixture
beforeEach(async () => {
  f = await createGrantsFixture()
})
afterEach(() => f.close())

const CLIENT = 'client-a'

async function firstPair(): Promise<TokenResult> {
  const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(await f.codeFor(CLIENT), CLIENT))
  if (!result.ok) throw new Error(result.reason)
  return result.tokens
}

const refresh = (refreshToken: string, extra: { clientId?: string; resource?: string; scope?: string; issuer?: string } = {}) =>
  f.grants.refresh({ refreshToken, clientId: CLIENT, issuer: ISSUER, ...extra })

async function refreshed(refreshToken: string, extra: Parameters<typeof refresh>[1] = {}): Promise<TokenResult> {
  const result = await refresh(refreshToken, extra)
  if (!result.ok) throw new Error(`${result.error}: ${result.reason}`)
  return result.tokens
}

describe('rotation (OAuth 2.1 §4.3, RFC 9700 §4.14.2)', () => {
  test('each refresh returns a new pair for the same resource; the new refresh token works, and so on', async () => {
    const first = await firstPair()
    const second = await refreshed(first.refresh_token)
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect(second.access_token).not.toBe(first.access_token)
    expect(second).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mcp user' })
    const claims = await f.verify(second.access_token)
    expect(claims.ok && claims.claims.aud).toBe(RESOURCE)
    f.clock.advanceMs(60_000)
    const third = await refreshed(second.refresh_token)
    expect(third.refresh_token).not.toBe(second.refresh_token)
  })

  test('RFC 9700 §4.14.2: the old refresh token reused after the grace → invalid_grant and the whole family revoked', async () => {
    const first = await firstPair()
    const second = await refreshed(first.refresh_token)
    f.clock.advanceMs(10_001)
    expect(await refresh(first.refresh_token)).toEqual({ ok: false, error: 'invalid_grant', reason: 'token_reused' })
    expect(await refresh(second.refresh_token)).toMatchObject({ ok: false, error: 'invalid_grant', reason: 'family_revoked' })
    expect(await f.verify(second.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect(await f.verify(first.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })

  test('RFC 9700 §4.14.2: a token two generations old revokes the family even inside the grace', async () => {
    const first = await firstPair()
    const second = await refreshed(first.refresh_token)
    const third = await refreshed(second.refresh_token)
    expect(await refresh(first.refresh_token)).toMatchObject({ ok: false, reason: 'token_reused' })
    expect(await f.verify(third.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })

  test('inside the grace the old token gets the same new pair again, with expires_in counting down', async () => {
    const first = await firstPair()
    const second = await refreshed(first.refresh_token)
    f.clock.advanceMs(4_000)
    expect(await refreshed(first.refresh_token)).toEqual({ ...second, expires_in: 3596 })
    expect((await f.verify(second.access_token)).ok).toBe(true)
  })

  test('concurrent refresh inside the grace: five racing refreshes all get the same new pair, and it keeps working', async () => {
    const first = await firstPair()
    const results = await Promise.all(Array.from({ length: 5 }, () => refresh(first.refresh_token)))
    const pairs = results.map((result) => (result.ok ? result.tokens : null))
    expect(pairs.every((pair) => pair !== null)).toBe(true)
    expect(new Set(pairs.map((pair) => pair!.refresh_token)).size).toBe(1)
    expect(new Set(pairs.map((pair) => pair!.access_token)).size).toBe(1)
    expect((await f.verify(pairs[0]!.access_token)).ok).toBe(true)
    expect((await refresh(pairs[0]!.refresh_token)).ok).toBe(true)
  })

  test('a configurable grace: 0 s makes any reuse fatal', async () => {
    await f.close()
    f = await createGrantsFixture({ refreshGraceSec: 0 })
    const first = await firstPair()
    await refreshed(first.refresh_token)
    f.clock.advanceMs(1)
    expect(await refresh(first.refresh_token)).toMatchObject({ ok: false, reason: 'token_reused' })
  })

  test('RFC 6749 §6: an expired refresh token → invalid_grant', async () => {
    const first = await firstPair()
    f.clock.advanceMs(REFRESH_TTL_SEC * 1000)
    expect(await refresh(first.refresh_token)).toMatchObject({ ok: false, error: 'invalid_grant' })
  })

  test('unknown and malformed refresh tokens → invalid_grant', async () => {
    for (const token of ['', 'x', 'A'.repeat(43), '../keys/active', 'a.b.c', 'a'.repeat(10_000)]) {
      expect(await refresh(token)).toEqual({ ok: false, error: 'invalid_grant', reason: 'unknown_token' })
    }
  })
})

describe('bindings', () => {
  test('RFC 6749 §6: a refresh token used by another client → invalid_grant, and nothing is revoked', async () => {
    const first = await firstPair()
    expect(await refresh(first.refresh_token, { clientId: 'client-b' })).toEqual({ ok: false, error: 'invalid_grant', reason: 'client_mismatch' })
    expect((await f.verify(first.access_token)).ok).toBe(true)
    expect((await refresh(first.refresh_token)).ok).toBe(true)
  })

  test('RFC 8707 §2.2: resource on a refresh must be the original → invalid_target otherwise', async () => {
    const first = await firstPair()
    expect(await refresh(first.refresh_token, { resource: 'https://other.example.com' })).toMatchObject({ ok: false, error: 'invalid_target' })
    const second = await refreshed(first.refresh_token, { resource: RESOURCE })
    expect((await refresh(second.refresh_token, { resource: `${RESOURCE}/mcp` })).ok).toBe(true)
  })

  test('a refresh token is used at the issuer that issued it', async () => {
    const first = await firstPair()
    expect(await refresh(first.refresh_token, { issuer: 'https://elsewhere.example.com' })).toMatchObject({ ok: false, error: 'invalid_grant', reason: 'issuer_mismatch' })
  })
})

describe('scopes (RFC 6749 §6)', () => {
  test('a narrower scope narrows that access token only; the family keeps its scope', async () => {
    const first = await firstPair()
    const narrow = await refreshed(first.refresh_token, { scope: 'mcp' })
    expect(narrow.scope).toBe('mcp')
    const claims = await f.verify(narrow.access_token)
    expect(claims.ok && claims.claims.scopes).toEqual(['mcp'])
    expect((await refreshed(narrow.refresh_token)).scope).toBe('mcp user')
  })

  test('a scope the grant did not have, or an unknown one → invalid_scope', async () => {
    const first = await firstPair()
    for (const scope of ['admin', 'mcp admin', 'files:read', 'MCP']) {
      expect(await refresh(first.refresh_token, { scope })).toEqual({ ok: false, error: 'invalid_scope', reason: 'scope_not_granted' })
    }
  })

  test('the policy is asked again: scopes it no longer gives disappear for good', async () => {
    const first = await firstPair()
    f.policy.recheck = async () => ['mcp']
    const second = await refreshed(first.refresh_token)
    expect(second.scope).toBe('mcp')
    f.policy.recheck = async () => ['mcp', 'user', 'admin']
    expect((await refreshed(second.refresh_token)).scope).toBe('mcp')
  })

  test('the policy withdraws access → invalid_grant and the family revoked', async () => {
    const first = await firstPair()
    const seen: unknown[] = []
    f.policy.recheck = async (grant) => {
      seen.push(grant)
      return null
    }
    expect(await refresh(first.refresh_token)).toEqual({ ok: false, error: 'invalid_grant', reason: 'access_withdrawn' })
    expect(seen).toEqual([{ issuer: ISSUER, resource: RESOURCE, clientId: CLIENT, user: { sub: '1001', username: 'alice', email: 'alice@example.com' }, scopes: ['mcp', 'user'] }])
    expect(await f.verify(first.access_token)).toEqual({ ok: false, reason: 'revoked' })
    f.policy.recheck = async (grant) => grant.scopes
    expect(await refresh(first.refresh_token)).toMatchObject({ ok: false, reason: 'family_revoked' })
  })
})

describe('storage (OA-13)', () => {
  test('refresh tokens, access tokens and the sealed successor never appear in plaintext in the store or the log', async () => {
    const first = await firstPair()
    const second = await refreshed(first.refresh_token)
    await refreshed(first.refresh_token) // grace replay: opens the sealed pair
    const whileSealed = await f.rawStore()
    expect(whileSealed).toContain('"successor"')
    f.clock.advanceMs(20_000)
    await refresh(first.refresh_token) // reuse: revokes and logs
    const raw = whileSealed + (await f.rawStore())
    const log = f.logLines.join('')
    expect(log).toContain('token family revoked')
    for (const secret of [first.access_token, first.refresh_token, second.access_token, second.refresh_token]) {
      expect(raw).not.toContain(secret)
      expect(log).not.toContain(secret)
    }
  })
})
