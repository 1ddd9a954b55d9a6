/**
 * The first-admin flow end to end: `token issue` on the host (same DATA_DIR and API_PORT as the
 * server) prints a token that the running server accepts, with its scopes enforced over HTTP.
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

async function issue(...args: string[]): Promise<string> {
  const result = await runCli(['token', 'issue', ...args], { env })
  if (result.code !== 0) throw new Error(`token issue ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return result.stdout.trim()
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

describe('token issue prints one token the server accepts', () => {
  test('stdout is exactly one line holding a JWT (three dot-separated base64url parts)', async () => {
    const result = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env })
    expect(result.code).toBe(0)
    expect(result.stdout.endsWith('\n')).toBe(true)
    const out = result.stdout.split('\n').filter(Boolean)
    expect(out).toHaveLength(1)
    expect(out[0]).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  })

  test('GET /system/info with an admin token from the CLI: 200 and you.username is alice', async () => {
    const token = await issue('--user', 'alice', '--scope', 'admin')
    const response = await fetch(`${server.url}/system/info`, { headers: bearer(token) })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { you: { username: string; scopes: string[] }; store: string; public_url: string }
    expect(body.you.username).toBe('alice')
    expect(body.you.scopes).toContain('admin')
    expect(body.store).toBe('embedded')
    expect(body.public_url).toBe(server.url)
  })

  test('an admin CLI token may rotate the signing key, and a token issued after rotation still works', async () => {
    const admin = await issue('--user', 'alice', '--scope', 'admin')
    const response = await fetch(`${server.url}/oauth/keys/rotate`, { method: 'POST', headers: bearer(admin) })
    expect(response.status).toBe(200)
    const rotated = (await response.json()) as { kid: string }
    // The CLI reads the new active key from the shared store.
    const fresh = await issue('--user', 'bob')
    const info = await fetch(`${server.url}/system/info`, { headers: bearer(fresh) })
    expect(info.status).toBe(200)
    const header = JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()) as { kid: string }
    expect(header.kid).toBe(rotated.kid)
    // The token issued before the rotation keeps working until it expires.
    expect((await fetch(`${server.url}/system/info`, { headers: bearer(admin) })).status).toBe(200)
  })
})

describe('the API enforces scopes and accepts only Bearer tokens', () => {
  test('a --scope user token on POST /oauth/keys/rotate: 403 with WWW-Authenticate error="insufficient_scope"', async () => {
    const token = await issue('--user', 'alice', '--scope', 'user')
    const response = await fetch(`${server.url}/oauth/keys/rotate`, { method: 'POST', headers: bearer(token) })
    expect(response.status).toBe(403)
    const challenge = response.headers.get('www-authenticate') ?? ''
    expect(challenge).toMatch(/^Bearer /)
    expect(challenge).toContain('error="insufficient_scope"')
    expect(challenge).toContain('scope="admin"')
    expect(await response.json()).toMatchObject({ error: 'insufficient_scope' })
  })

  test('no token: 401 with a WWW-Authenticate challenge starting with "Bearer"', async () => {
    const response = await fetch(`${server.url}/system/info`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer\b/)
  })

  test('X-Auth-User: alice with X-Auth-Scopes: admin and no token: 401 (identity headers are never trusted)', async () => {
    for (const [method, path] of [['GET', '/system/info'], ['POST', '/oauth/keys/rotate']] as const) {
      const response = await fetch(`${server.url}${path}`, { method, headers: { 'X-Auth-User': 'alice', 'X-Auth-Scopes': 'admin' } })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate') ?? '').toMatch(/^Bearer\b/)
    }
  })

  test('a token whose signature was tampered with: 401 error="invalid_token"', async () => {
    const token = await issue('--user', 'alice', '--scope', 'admin')
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA')
    const response = await fetch(`${server.url}/system/info`, { headers: bearer(`${header}.${payload}.${flipped}`) })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate') ?? '').toContain('error="invalid_token"')
  })

  test('a token issued for another PUBLIC_URL (another audience) is rejected with 401', async () => {
    const result = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin', '--public-url', 'https://elsewhere.example'], { env })
    expect(result.code).toBe(0)
    const response = await fetch(`${server.url}/system/info`, { headers: bearer(result.stdout.trim()) })
    expect(response.status).toBe(401)
  })
})

describe('token issue rejects bad flags with exit 2 and one line', () => {
  test('--scope root: exit 2, one stderr line naming --scope, nothing on stdout', async () => {
    const result = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'root'], { env })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('--scope')
    expect(out[0]).toContain('root')
  })

  test('--ttl 1x: exit 2, one stderr line naming --ttl, nothing on stdout', async () => {
    const result = await runCli(['token', 'issue', '--user', 'alice', '--ttl', '1x'], { env })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('--ttl')
  })

  test('missing --user: exit 2, one stderr line naming --user (not a stack trace)', async () => {
    const result = await runCli(['token', 'issue'], { env })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('--user')
  })

  test('an unknown command: exit 2, one stderr line naming it', async () => {
    const result = await runCli(['bogus'], { env })
    expect(result.code).toBe(2)
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('bogus')
  })
})
