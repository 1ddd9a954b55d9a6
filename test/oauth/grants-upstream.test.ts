/**
 * The user's GitHub token kept with a grant, for resources that recheck GitHub memberships on every
 * refresh: sealed under the code, then under the current refresh token, handed to the recheck and
 * nowhere else (never in the store in plaintext, an access token, a listing or a log).
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import type { AuthorizationGrant, TokenResult } from '../../src/oauth/index.ts'
import { ALICE, createGrantsFixture, ISSUER, RESOURCE, type GrantsFixture } from '../support/grants.ts'

const CLIENT = 'client-a'
const GITHUB_TOKEN = 'gho_UpstreamSecretToken0123456789abcdefXYZ'

let f: GrantsFixture
let seen: (string | undefined)[]
beforeEach(async () => {
  f = await createGrantsFixture()
  seen = []
  f.policy.recheck = async (grant: AuthorizationGrant) => {
    seen.push(grant.upstreamToken)
    return grant.scopes
  }
})
afterEach(() => f.close())

async function exchange(code: string): Promise<TokenResult> {
  const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(code, CLIENT))
  if (!result.ok) throw new Error(result.reason)
  return result.tokens
}
async function refreshed(refreshToken: string): Promise<TokenResult> {
  const result = await f.grants.refresh({ refreshToken, clientId: CLIENT, issuer: ISSUER })
  if (!result.ok) throw new Error(`${result.error}: ${result.reason}`)
  return result.tokens
}

describe('the GitHub token of a grant', () => {
  test('code → family → every rotation: the recheck gets it each time, and only sealed copies are stored', async () => {
    const code = await f.codeFor(CLIENT, { upstreamToken: GITHUB_TOKEN })
    expect(await f.rawStore()).not.toContain(GITHUB_TOKEN)
    const first = await exchange(code)
    const second = await refreshed(first.refresh_token)
    f.clock.advanceMs(60_000)
    await refreshed(second.refresh_token)
    expect(seen).toEqual([GITHUB_TOKEN, GITHUB_TOKEN])
    const raw = await f.rawStore()
    expect(raw).not.toContain(GITHUB_TOKEN)
    expect(raw).not.toContain(Buffer.from(GITHUB_TOKEN).toString('base64url'))
    expect(JSON.stringify(decodeJwt(second.access_token))).not.toContain(GITHUB_TOKEN)
    expect(JSON.stringify(await f.grants.listFamilies(ALICE.username))).not.toContain('upstream')
    expect(f.logLines.join('\n')).not.toContain(GITHUB_TOKEN)
  })

  test('the device grant path (issueTokens) keeps it the same way', async () => {
    const tokens = await f.grants.issueTokens({ issuer: ISSUER, resource: RESOURCE, clientId: CLIENT, user: ALICE, scopes: ['mcp'], upstreamToken: GITHUB_TOKEN })
    await refreshed(tokens.refresh_token)
    expect(seen).toEqual([GITHUB_TOKEN])
    expect(await f.rawStore()).not.toContain(GITHUB_TOKEN)
  })

  test('a grant made without one gives the recheck none (a membership recheck then refuses)', async () => {
    const first = await exchange(await f.codeFor(CLIENT))
    await refreshed(first.refresh_token)
    expect(seen).toEqual([undefined])
  })

  test('concurrent refreshes inside the grace share one pair; the next rotation still opens the token', async () => {
    const first = await exchange(await f.codeFor(CLIENT, { upstreamToken: GITHUB_TOKEN }))
    const [a, b] = await Promise.all([refreshed(first.refresh_token), refreshed(first.refresh_token)])
    expect(a.refresh_token).toBe(b.refresh_token)
    seen = []
    await refreshed(a.refresh_token)
    // Sealed under the pair both racers received, whichever of them rotated.
    expect(seen).toEqual([GITHUB_TOKEN])
  })

  test('a recheck that cannot decide (throws): the refresh fails, the family and its refresh token stay usable', async () => {
    const first = await exchange(await f.codeFor(CLIENT, { upstreamToken: GITHUB_TOKEN }))
    f.policy.recheck = async () => {
      throw new Error('GitHub did not answer')
    }
    await expect(refreshed(first.refresh_token)).rejects.toThrow('GitHub did not answer')
    f.policy.recheck = async (grant) => {
      seen.push(grant.upstreamToken)
      return grant.scopes
    }
    await refreshed(first.refresh_token)
    expect(seen).toEqual([GITHUB_TOKEN])
  })

  test('RFC 6749 §6: a recheck that refuses revokes the family (the user left the organisation)', async () => {
    const first = await exchange(await f.codeFor(CLIENT, { upstreamToken: GITHUB_TOKEN }))
    f.policy.recheck = async () => null
    expect(await f.grants.refresh({ refreshToken: first.refresh_token, clientId: CLIENT, issuer: ISSUER })).toEqual({ ok: false, error: 'invalid_grant', reason: 'access_withdrawn' })
    expect(await f.verify(first.access_token)).toEqual({ ok: false, reason: 'revoked' })
  })
})
