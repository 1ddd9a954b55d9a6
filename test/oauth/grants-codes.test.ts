/** Authorization codes: PKCE S256 (RFC 7636), single use and replay revocation (RFC 6749 §4.1.2, §10.5), bindings (§4.1.3). */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { isCodeVerifier, isS256Challenge, s256Challenge, verifyS256 } from '../../src/oauth/index.ts'
import { ALICE, CHALLENGE, createGrantsFixture, ISSUER, REDIRECT_URI, RESOURCE, VERIFIER, type GrantsFixture } from '../support/grants.ts'

let f: GrantsFixture
beforeEach(async () => {
  f = await createGrantsFixture()
})
afterEach(() => f.close())

const CLIENT = 'client-a'
const OTHER = 'client-b'

describe('PKCE (RFC 7636)', () => {
  test('RFC 7636 Appendix B: the verifier hashes to the published challenge', () => {
    expect(s256Challenge(VERIFIER)).toBe(CHALLENGE)
    expect(verifyS256(VERIFIER, CHALLENGE)).toBe(true)
  })

  test('RFC 7636 §4.1: a verifier is 43 to 128 unreserved characters', () => {
    expect(isCodeVerifier('a'.repeat(43))).toBe(true)
    expect(isCodeVerifier('A-._~z9'.padEnd(128, 'x'))).toBe(true)
    for (const hostile of ['', 'a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}/`, `${'a'.repeat(42)}=`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}é`]) {
      expect(isCodeVerifier(hostile)).toBe(false)
      expect(verifyS256(hostile, s256Challenge(hostile))).toBe(false)
    }
  })

  test('RFC 7636 §4.2: an S256 challenge is exactly 43 base64url characters; plain verifiers and padded values are not', () => {
    expect(isS256Challenge(CHALLENGE)).toBe(true)
    for (const hostile of ['', `${CHALLENGE}=`, CHALLENGE.slice(1), `${CHALLENGE}A`, 'a~b.c'.padEnd(43, 'x'), VERIFIER.replace('-', '+')]) expect(isS256Challenge(hostile)).toBe(false)
  })

  test('OAuth 2.1 §4.1.1: a code cannot be issued for a challenge that is not S256 (plain refused)', async () => {
    await expect(f.codeFor(CLIENT, { codeChallenge: 'plain-verifier~'.padEnd(43, 'x') })).rejects.toThrow(/S256/)
    await expect(f.codeFor(CLIENT, { codeChallenge: VERIFIER.slice(0, 40) })).rejects.toThrow(/S256/)
  })

  test('RFC 7636 §4.6: a wrong verifier → invalid_grant, and the code is not consumed', async () => {
    const code = await f.codeFor(CLIENT)
    expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), codeVerifier: 'x'.repeat(43) })).toEqual({ ok: false, error: 'invalid_grant', reason: 'verifier_mismatch' })
    expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), codeVerifier: '' })).toMatchObject({ ok: false, error: 'invalid_grant' })
    expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), codeVerifier: CHALLENGE })).toMatchObject({ ok: false, error: 'invalid_grant' })
    expect((await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))).ok).toBe(true)
  })
})

describe('redemption', () => {
  test('RFC 6749 §4.1.3: the right client, redirect URI and verifier get tokens for exactly the one resource (RFC 8707)', async () => {
    const code = await f.codeFor(CLIENT)
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))
    if (!result.ok) throw new Error(result.reason)
    expect(result.tokens).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), scope: 'mcp user' })
    const verified = await f.verify(result.tokens.access_token)
    if (!verified.ok) throw new Error(verified.reason)
    expect(verified.claims).toMatchObject({ iss: ISSUER, aud: RESOURCE, sub: ALICE.sub, username: 'alice', email: ALICE.email, scopes: ['mcp', 'user'], clientId: CLIENT })
    expect((await f.verify(result.tokens.access_token, 'https://other.example.com')).ok).toBe(false)
  })

  test('RFC 6749 §4.1.3: a code redeemed by another client → invalid_grant, nothing consumed or revoked', async () => {
    const code = await f.codeFor(CLIENT)
    expect(await f.grants.exchangeAuthorizationCode(f.redeemInput(code, OTHER))).toEqual({ ok: false, error: 'invalid_grant', reason: 'client_mismatch' })
    expect((await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))).ok).toBe(true)
  })

  test('RFC 6749 §4.1.3: redirect_uri must be identical (no trailing slash, query, port or case change)', async () => {
    const code = await f.codeFor(CLIENT)
    for (const redirectUri of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, REDIRECT_URI.replace('33418', '33419'), REDIRECT_URI.toUpperCase(), '']) {
      expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), redirectUri })).toEqual({ ok: false, error: 'invalid_grant', reason: 'redirect_uri_mismatch' })
    }
  })

  test('a code is redeemed only at the issuer that issued it', async () => {
    const code = await f.codeFor(CLIENT)
    expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), issuer: 'https://other-issuer.example.com' })).toMatchObject({ error: 'invalid_grant', reason: 'issuer_mismatch' })
  })

  test('RFC 8707 §2.2: a resource other than the authorized one → invalid_target; the same one is fine', async () => {
    const code = await f.codeFor(CLIENT)
    expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), resource: 'https://other.example.com' })).toMatchObject({ ok: false, error: 'invalid_target' })
    expect((await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), resource: RESOURCE })).ok).toBe(true)
  })

  test('RFC 8707 §2.2: the resource is compared resolved: the MCP server URL below the origin names it, a lookalike does not', async () => {
    for (const resource of [`${RESOURCE}/mcp`, `${RESOURCE}/`, 'HTTPS://MCP.EXAMPLE.COM/mcp', 'https://mcp.example.com:443/sse']) {
      const code = await f.codeFor(CLIENT)
      expect((await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), resource })).ok).toBe(true)
    }
    const code = await f.codeFor(CLIENT)
    for (const resource of ['https://mcp.example.com.evil.example', 'https://mcp.example.com:8443/mcp', 'http://mcp.example.com', `${RESOURCE}#x`, `${RESOURCE}/?q=1`, 'https://user@mcp.example.com', 'mcp.example.com']) {
      expect(await f.grants.redeemAuthorizationCode({ ...f.redeemInput(code, CLIENT), resource })).toMatchObject({ ok: false, error: 'invalid_target' })
    }
  })

  test('RFC 6749 §4.1.2: an expired code (60 s) → invalid_grant', async () => {
    const code = await f.codeFor(CLIENT)
    f.clock.advanceMs(59_000)
    const early = await f.codeFor(CLIENT)
    f.clock.advanceMs(1_001)
    expect(await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))).toEqual({ ok: false, error: 'invalid_grant', reason: 'code_expired' })
    expect((await f.grants.exchangeAuthorizationCode(f.redeemInput(early, CLIENT))).ok).toBe(true)
  })

  test('unknown and malformed codes → invalid_grant', async () => {
    for (const code of ['', 'x', 'A'.repeat(43), '../../keys/active', 'a'.repeat(10_000)]) {
      expect(await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))).toEqual({ ok: false, error: 'invalid_grant', reason: 'unknown_code' })
    }
  })
})

describe('replay (RFC 6749 §10.5, OAuth 2.1 §4.1.3)', () => {
  test('a code presented twice → invalid_grant, and every token from the first redemption is revoked', async () => {
    const code = await f.codeFor(CLIENT)
    const first = await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))
    if (!first.ok) throw new Error(first.reason)
    expect((await f.verify(first.tokens.access_token)).ok).toBe(true)

    expect(await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))).toEqual({ ok: false, error: 'invalid_grant', reason: 'code_replayed' })
    expect(await f.verify(first.tokens.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect(await f.grants.refresh({ refreshToken: first.tokens.refresh_token, clientId: CLIENT, issuer: ISSUER })).toMatchObject({ ok: false, error: 'invalid_grant', reason: 'family_revoked' })
    expect(await f.grants.introspect(first.tokens.access_token)).toEqual({ active: false })
    expect(await f.grants.introspect(first.tokens.refresh_token)).toEqual({ active: false })
  })

  test('a replay with invalid parameters is refused but revokes nothing (no DoS by whoever saw the code)', async () => {
    const code = await f.codeFor(CLIENT)
    const first = await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))
    if (!first.ok) throw new Error(first.reason)
    expect(await f.grants.exchangeAuthorizationCode({ ...f.redeemInput(code, CLIENT), codeVerifier: 'y'.repeat(43) })).toMatchObject({ error: 'invalid_grant', reason: 'verifier_mismatch' })
    expect(await f.grants.exchangeAuthorizationCode(f.redeemInput(code, OTHER))).toMatchObject({ error: 'invalid_grant', reason: 'client_mismatch' })
    expect((await f.verify(first.tokens.access_token)).ok).toBe(true)
    expect((await f.grants.refresh({ refreshToken: first.tokens.refresh_token, clientId: CLIENT, issuer: ISSUER })).ok).toBe(true)
  })

  test('a replay after the code expired still revokes what it produced', async () => {
    const code = await f.codeFor(CLIENT)
    const first = await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))
    if (!first.ok) throw new Error(first.reason)
    f.clock.advanceMs(5 * 60_000)
    expect(await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))).toMatchObject({ error: 'invalid_grant', reason: 'code_replayed' })
    expect(await f.verify(first.tokens.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })

  test('RFC 6749 §4.1.2: of five concurrent redemptions at most one gets tokens, and those end up revoked', async () => {
    const code = await f.codeFor(CLIENT)
    const results = await Promise.all(Array.from({ length: 5 }, () => f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))))
    const winners = results.filter((result) => result.ok)
    expect(winners.length).toBeLessThanOrEqual(1)
    expect(results.filter((result) => !result.ok).every((result) => !result.ok && result.error === 'invalid_grant')).toBe(true)
    for (const winner of winners) if (winner.ok) expect(await f.verify(winner.tokens.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })
})

describe('storage (OA-13)', () => {
  test('codes and the tokens they produce are stored only as hashes, and never logged', async () => {
    const code = await f.codeFor(CLIENT)
    const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))
    if (!result.ok) throw new Error(result.reason)
    await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT)) // a replay, so the log has something to say
    const secrets = [code, result.tokens.access_token, result.tokens.refresh_token, VERIFIER]
    const raw = await f.rawStore()
    expect(raw).toContain('oauth/code-traces/')
    expect(f.logLines.join('')).toContain('authorization code presented twice')
    for (const secret of secrets) {
      expect(raw).not.toContain(secret)
      expect(f.logLines.join('')).not.toContain(secret)
    }
    expect(raw).toContain(REDIRECT_URI) // the scan sees the documents' text
  })
})
