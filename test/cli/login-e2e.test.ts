/**
 * The CLI as a client, end to end: a real `serve` process with the GitHub fake as its GitHub, and the
 * CLI spawned as `bun src/main.ts …` with its own XDG_CONFIG_HOME. Device-flow login (approved at the
 * fake), status, an API command, silent refresh after the access token expires (2 s), logout with
 * revocation, denial, a bad --token, and an unreachable server.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { GitHubFake } from '../fixtures/github-fake.ts'
import { cleanupSpawned, type ServedProcess } from '../support/serve.ts'
import { stopCliProcesses } from './cli-process.ts'
import { startDeviceLoginServer, type DeviceLoginServer } from './device-login.ts'

let edge: DeviceLoginServer
let fake: GitHubFake
let server: ServedProcess
/** PUBLIC_URL: the API's resource, so login asks for it by name. */
let publicUrl: string
/** The API's own loopback address, which is not PUBLIC_URL: login falls back to the server's resource. */
let loopbackUrl: string
let configHome: string

beforeAll(async () => {
  edge = await startDeviceLoginServer({ OAUTH_ACCESS_TOKEN_LIFETIME: '2s' })
  ;({ fake, server, publicUrl, loopbackUrl, configHome } = edge)
})

afterAll(async () => {
  await stopCliProcesses()
  await cleanupSpawned()
  await fake.stop()
})

const credentialsFile = () => edge.credentialsFile()
const stored = () => edge.stored()
const cli = (args: string[], extra?: Record<string, string>) => edge.cli(args, extra)
const login = (url: string, decide?: (userCode: string) => void) => edge.login(url, decide)

describe('oauth-https-proxy login, status, commands, refresh, logout', () => {
  test('login: device flow approved at GitHub; tokens stored 0600 in a 0700 directory', async () => {
    const result = await login(publicUrl)
    expect(result.stderr).toContain(`✓ Signed in to ${publicUrl} as alice (scopes: admin)`)
    expect(result.code).toBe(0)
    // A pipe gets no spinner: no carriage returns, no escape codes.
    expect(result.stderr).not.toMatch(/[\r\x1b]/)
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600)
    expect(statSync(join(configHome, 'oauth-https-proxy')).mode & 0o777).toBe(0o700)
    const entry = stored().servers[publicUrl]!
    expect(entry.client_id).toMatch(/\S/)
    expect(entry.tokens?.access_token).toMatch(/^ey/)
    expect(entry.tokens?.refresh_token).toMatch(/\S/)
  })

  test('status: the server, the user, the scopes, the expiry and that a refresh token is stored', async () => {
    const result = await cli(['status', '--url', publicUrl])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`server: +${publicUrl}`))
    expect(result.stdout).toMatch(/user: +alice/)
    expect(result.stdout).toMatch(/scopes: +admin$/m)
    expect(result.stdout).toMatch(/access_token_expires: +\d{4}-\d\d-\d\dT/)
    expect(result.stdout).toMatch(/refresh_token: +stored/)
    const json = JSON.parse((await cli(['status', '--url', publicUrl, '--json'])).stdout)
    expect(json).toMatchObject({ server: publicUrl, user: 'alice', scopes: ['admin'], refresh_token: 'stored' })
  })

  test('an API command works with the stored login; --json is the API\'s JSON with no escape codes', async () => {
    const table = await cli(['system', 'info', '--url', publicUrl])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/you\.username: +alice/)
    const json = await cli(['system', 'info', '--url', publicUrl, '--json'])
    expect(json.code).toBe(0)
    expect(json.stdout).not.toContain('\x1b')
    expect(JSON.parse(json.stdout)).toMatchObject({ public_url: publicUrl, you: { username: 'alice', scopes: ['admin'] } })
    expect((await cli(['system', 'info', '--url', publicUrl, '--quiet'])).stdout).toMatch(/^\S+\n$/)
    // OHP_URL names the server as well as --url does.
    expect((await cli(['system', 'info'], { OHP_URL: publicUrl })).code).toBe(0)
  })

  test('silent refresh: after the access token expires a command still works, and the stored tokens rotated', async () => {
    const before = stored().servers[publicUrl]!.tokens!
    await Bun.sleep(2_100) // OAUTH_ACCESS_TOKEN_LIFETIME=2s on the server: a real expiry, not a simulated one.
    const result = await cli(['system', 'info', '--url', publicUrl, '--json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const after = stored().servers[publicUrl]!.tokens!
    expect(after.access_token).not.toBe(before.access_token)
    expect(after.refresh_token).not.toBe(before.refresh_token)
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600)
  })

  test('login through the API\'s loopback address (not PUBLIC_URL): stored separately, per server URL', async () => {
    const result = await login(loopbackUrl)
    expect(result.code).toBe(0)
    expect(Object.keys(stored().servers).sort()).toEqual([publicUrl, loopbackUrl].sort())
    // RFC 8707: PUBLIC_URL is the API's resource and was asked for by name; the loopback address is not
    // a resource (invalid_target), so login asked again without one and got the API's.
    expect(stored().servers[publicUrl]!.resource).toBe(publicUrl)
    expect(stored().servers[loopbackUrl]!.resource).toBeUndefined()
    expect((await cli(['system', 'info', '--url', loopbackUrl])).code).toBe(0)
  })

  test('a denied sign-in ends with exit 3 and one line', async () => {
    const result = await login(publicUrl, (code) => fake.denyDevice(code))
    expect(result.code).toBe(3)
    expect(result.stderr.trim().split('\n').at(-1)).toBe('oauth-https-proxy: sign-in denied: it was refused at GitHub, or this GitHub user may not use this server')
  })

  test('a bad --token is refused with exit 3 and one line naming where it came from', async () => {
    const result = await cli(['system', 'info', '--url', publicUrl, '--token', 'not-a-token'])
    expect(result.code).toBe(3)
    expect(result.stderr).toBe('oauth-https-proxy: 401 invalid_token: the access token is invalid or expired (the token from --token or OHP_TOKEN)\n')
  })

  test('logout revokes the refresh token and forgets the tokens; a command then exits 3 with one line', async () => {
    const { refresh_token: refreshToken } = stored().servers[publicUrl]!.tokens!
    const clientId = stored().servers[publicUrl]!.client_id
    const result = await cli(['logout', '--url', publicUrl])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`✓ Signed out of ${publicUrl} (tokens revoked)`)
    expect(stored().servers[publicUrl]!.tokens).toBeUndefined()
    // The client id (the CLI's own) stays for the next login.
    expect(stored().servers[publicUrl]!.client_id).toBe(clientId)
    const refresh = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: clientId }),
    })
    expect(refresh.status).toBe(400)
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant')

    const after = await cli(['system', 'info', '--url', publicUrl])
    expect(after.code).toBe(3)
    expect(after.stderr).toBe(`oauth-https-proxy: not signed in to ${publicUrl}; run: oauth-https-proxy login --url ${publicUrl}\n`)
    expect((await cli(['status', '--url', publicUrl])).code).toBe(3)
  })

  test('server gone: a command says it cannot reach it (exit 1); logout still forgets the tokens (exit 0) and says so', async () => {
    await server.stop()
    const command = await cli(['system', 'info', '--url', loopbackUrl])
    expect(command.code).toBe(1)
    expect(command.stderr).toBe(`oauth-https-proxy: cannot reach ${loopbackUrl}: connection refused\n`)
    const logout = await cli(['logout', '--url', loopbackUrl])
    expect(logout.code).toBe(0)
    expect(logout.stderr).toBe(`Signed out of ${loopbackUrl} on this machine, but the tokens could not be revoked: cannot reach ${loopbackUrl}: connection refused\n`)
    expect(stored().servers[loopbackUrl]!.tokens).toBeUndefined()
  })

  test('no token ever appeared on stdout or stderr', () => {
    const texts = edge.outputs.join('\n')
    expect(edge.seenTokens.size).toBeGreaterThanOrEqual(6)
    for (const token of edge.seenTokens) expect(texts).not.toContain(token)
    expect(texts).not.toMatch(/ey[A-Za-z0-9_-]{10,}\.ey[A-Za-z0-9_-]{10,}\./)
  })
})
