/**
 * Key rotation from the host (issue #4, "Keys"): `keys rotate` against the DATA_DIR of a running
 * server makes new tokens carry the new kid at once, while a token signed before the rotation keeps
 * verifying (RFC 7517 kid lookup in /jwks) until it expires. `keys list` shows both.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cleanupSpawned, lines, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

let env: Record<string, string>
let server: ServedProcess

beforeAll(async () => {
  env = await serveEnv()
  server = await startServe({ env })
})
afterAll(cleanupSpawned)

async function cli(...args: string[]): Promise<string> {
  const result = await runCli(args, { env })
  if (result.code !== 0) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return result.stdout
}

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid
const status = async (token: string) => (await fetch(`${server.url}/system/info`, { headers: { Authorization: `Bearer ${token}` } })).status
const jwksKids = async () => ((await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort()

interface KeyRow {
  kid: string
  alg: string
  active: boolean
  created_at: string
  retired_at?: string
}

describe('keys rotate and keys list on the host', () => {
  test('a token from before the rotation still verifies; a new token carries the new kid; /jwks and keys list show both', async () => {
    const before = (await cli('token', 'issue', '--user', 'alice', '--scope', 'admin')).trim()
    const oldKid = kidOf(before)
    expect(await status(before)).toBe(200)

    const listed = JSON.parse(await cli('keys', 'list', '--json')) as KeyRow[]
    expect(listed).toEqual([{ kid: oldKid, alg: 'ES256', active: true, created_at: expect.any(String) }])

    const rotated = JSON.parse(await cli('keys', 'rotate', '--json')) as { kid: string; retired_kid: string | null }
    expect(rotated.retired_kid).toBe(oldKid)
    expect(rotated.kid).not.toBe(oldKid)
    expect(rotated.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)

    // The server reads the active key from the store: no restart, no signal.
    const after = (await cli('token', 'issue', '--user', 'bob')).trim()
    expect(kidOf(after)).toBe(rotated.kid)
    expect(await status(after)).toBe(200)
    expect(await status(before)).toBe(200)
    expect(await jwksKids()).toEqual([oldKid, rotated.kid].sort())

    const both = JSON.parse(await cli('keys', 'list', '--json')) as KeyRow[]
    expect(both.map((key) => [key.kid, key.active])).toEqual([
      [rotated.kid, true],
      [oldKid, false],
    ])
    expect(both[0]).not.toHaveProperty('retired_at')
    expect(Date.parse(both[1]!.retired_at!)).toBeGreaterThanOrEqual(Date.parse(both[1]!.created_at))

    // The rotation through the API agrees with the CLI's view of the store.
    const apiKeys = (await (await fetch(`${server.url}/oauth/keys`, { headers: { Authorization: `Bearer ${after}` } })).json()) as KeyRow[]
    expect(apiKeys.find((key) => key.active)?.kid).toBe(rotated.kid)
  })

  test('without --json: rotate names the new and the retired kid; list prints a table with a header', async () => {
    const activeBefore = (JSON.parse(await cli('keys', 'list', '--json')) as KeyRow[]).find((key) => key.active)!.kid
    const out = lines(await cli('keys', 'rotate'))
    expect(out).toHaveLength(2)
    expect(out[0]).toMatch(/^new key\s+[A-Za-z0-9_-]{43}$/)
    expect(out[1]).toStartWith('retired key')
    expect(out[1]).toContain(activeBefore)
    const newKid = out[0]!.split(/\s+/).at(-1)!

    const table = lines(await cli('keys', 'list'))
    expect(table[0]!.split(/\s+/)).toEqual(['KID', 'ACTIVE', 'CREATED_AT', 'RETIRED_AT'])
    expect(table[1]!.split(/\s+/).slice(0, 2)).toEqual([newKid, 'yes'])
    expect(table.slice(2).every((row) => row.split(/\s+/)[1] === 'no')).toBe(true)
  })

  test('--data-dir points the command at a store; a fresh store has no key to list, and its first rotation retires none', async () => {
    const dataDir = `${env.DATA_DIR}-other`
    const empty = await runCli(['keys', 'list', '--json', '--data-dir', dataDir], { env })
    expect(empty.code).toBe(0)
    expect(JSON.parse(empty.stdout)).toEqual([])
    const first = await runCli(['keys', 'rotate', '--json', '--data-dir', dataDir], { env })
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ retired_kid: null })
  })

  test('an unknown keys subcommand: exit 2 and one line', async () => {
    const result = await runCli(['keys', 'bogus'], { env })
    expect(result.code).toBe(2)
    expect(lines(result.stderr)).toHaveLength(1)
  })
})
