/** A client's token families for the admin: listed without token material, and all revoked when the client goes. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { TokenResult } from '../../src/oauth/index.ts'
import { createGrantsFixture, type GrantsFixture } from '../support/grants.ts'

let f: GrantsFixture
beforeEach(async () => {
  f = await createGrantsFixture()
})
afterEach(() => f.close())

async function firstPair(clientId: string): Promise<TokenResult> {
  const result = await f.grants.exchangeAuthorizationCode(f.redeemInput(await f.codeFor(clientId), clientId))
  if (!result.ok) throw new Error(result.reason)
  return result.tokens
}

describe("a client's families", () => {
  test("lists only that client's live families, oldest first, never a token", async () => {
    const a1 = await firstPair('client-a')
    f.clock.advanceMs(1000)
    await firstPair('client-b')
    f.clock.advanceMs(1000)
    await firstPair('client-a')
    const families = await f.grants.listClientFamilies('client-a')
    expect(families.map((family) => family.clientId)).toEqual(['client-a', 'client-a'])
    expect(families[0]!.createdAtMs).toBeLessThan(families[1]!.createdAtMs)
    expect(JSON.stringify(families)).not.toContain(a1.refresh_token)
    expect(await f.grants.listClientFamilies('nobody')).toEqual([])
  })

  test('revokeClientFamilies ends every family of the client and its access tokens, and no other', async () => {
    const a1 = await firstPair('client-a')
    const a2 = await firstPair('client-a')
    const b = await firstPair('client-b')
    expect(await f.grants.revokeClientFamilies('client-a')).toBe(2)
    for (const pair of [a1, a2]) expect(await f.verify(pair.access_token)).toEqual({ ok: false, reason: 'revoked' })
    expect((await f.verify(b.access_token)).ok).toBe(true)
    expect(await f.grants.listClientFamilies('client-a')).toEqual([])
    expect(await f.grants.revokeClientFamilies('client-a')).toBe(0)
  })
})
