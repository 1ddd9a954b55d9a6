/**
 * /proxy/targets/{h}/auth and /github-oauth: partial updates that keep what they do not mention
 * (original-behaviour §12.2), `*` and logins validated, the GitHub secret write-only (§12.1.5), admin
 * writes and user reads, and every change announced as proxy_updated.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { AppEvent } from '../../src/events/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(() => edge.stop())

const SECRET = 'gh-secret-7c1f0e9a2b4d6f8e0a1c3e5f7a9b1d3f'
const DEFAULT_AUTH = {
  auth_enabled: false,
  auth_mode: 'forward',
  auth_required_users: null,
  auth_excluded_paths: [],
  oauth_admin_users: null,
  oauth_user_users: null,
  oauth_mcp_users: null,
  auth_required_orgs: null,
  auth_required_teams: null,
  auth_pass_authorization: false,
  auth_origin_check: 'auto',
  auth_allowed_origins: [],
  auth_realm: null,
  oauth_server_scopes: null,
  oauth_server_custom_metadata: null,
}

let counter = 0
async function newProxy(extra: Record<string, unknown> = {}): Promise<string> {
  const hostname = `auth${++counter}.example.com`
  await edge.createProxy(hostname, 'http://127.0.0.1:9', extra)
  return hostname
}
const json = async (response: Response) => (await response.json()) as Record<string, unknown>
const errorOf = async (response: Response) => (await json(response)) as { error: string; error_description: string }

/** Events published while `work` runs. */
async function eventsDuring(work: () => Promise<unknown>): Promise<AppEvent[]> {
  const seen: AppEvent[] = []
  const unsubscribe = edge.server.bus.subscribe((event) => void seen.push(event))
  try {
    await work()
    return seen
  } finally {
    unsubscribe()
  }
}

describe('GET and PUT /proxy/targets/{hostname}/auth', () => {
  test('a new proxy has auth off, forward mode, null lists (defaults apply) and no excluded paths', async () => {
    const hostname = await newProxy()
    const response = await edge.api('GET', `/proxy/targets/${hostname}/auth`)
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual(DEFAULT_AUTH)
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}`))).toMatchObject({ ...DEFAULT_AUTH, github_client_id: null, github_client_secret_set: false })
  })

  test('§12.2: PUT applies the fields given and keeps every other one', async () => {
    const hostname = await newProxy()
    const first = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, {
      auth_enabled: true,
      auth_required_users: ['alice', 'bob'],
      auth_excluded_paths: ['/health', '/public/'],
      oauth_mcp_users: ['*'],
    })
    expect(first.status).toBe(200)
    const expected = { ...DEFAULT_AUTH, auth_enabled: true, auth_required_users: ['alice', 'bob'], auth_excluded_paths: ['/health', '/public/'], oauth_mcp_users: ['*'] }
    expect(await json(first)).toEqual(expected)

    const second = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_mode: 'passthrough' })
    expect(await json(second)).toEqual({ ...expected, auth_mode: 'passthrough' })

    // An explicit null is a value: the list falls back to OAUTH_*_USERS again.
    const third = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { oauth_mcp_users: null, auth_excluded_paths: [] })
    expect(await json(third)).toEqual({ ...expected, auth_mode: 'passthrough', oauth_mcp_users: null, auth_excluded_paths: [] })

    const stored = await json(await edge.api('GET', `/proxy/targets/${hostname}`))
    expect(stored).toMatchObject({ target_url: 'http://127.0.0.1:9', config_version: 4, auth_mode: 'passthrough', auth_required_users: ['alice', 'bob'] })
  })

  test('logins are stored lower-case without duplicates; "*" is kept as given', async () => {
    const hostname = await newProxy()
    const response = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_required_users: ['Alice', 'ALICE', 'alice', '*', 'Bob-1'], oauth_admin_users: [] })
    expect(await json(response)).toMatchObject({ auth_required_users: ['alice', '*', 'bob-1'], oauth_admin_users: [] })
  })

  test('bad input → 400 naming the field, and nothing changes', async () => {
    const hostname = await newProxy()
    await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_required_users: ['alice'] })
    const cases: [Record<string, unknown>, string][] = [
      ...['-alice', 'alice-', 'al--ice', 'a'.repeat(40), '', ' alice', 'alice ', 'al*ce', '**', 'a@b', 'al_ice', 'ａlice'].map(
        (login): [Record<string, unknown>, string] => [{ auth_required_users: ['bob', login] }, 'field auth_required_users[1]:'],
      ),
      [{ oauth_admin_users: [7] }, 'field oauth_admin_users[0]:'],
      [{ oauth_user_users: 'alice' }, 'field oauth_user_users:'],
      [{ oauth_mcp_users: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'field oauth_mcp_users:'],
      [{ auth_mode: 'basic' }, 'field auth_mode:'],
      [{ auth_enabled: 'true' }, 'field auth_enabled:'],
      ...['no-slash', '', '/a?b', '/a#b', '/a b', '/../admin', '/a/./b', '/a\\b', '/\u00e9'].map(
        (path): [Record<string, unknown>, string] => [{ auth_excluded_paths: ['/ok', path] }, 'field auth_excluded_paths[1]:'],
      ),
      [{ auth_excluded_paths: null }, 'field auth_excluded_paths:'],
      // The auth endpoint changes auth fields only; the GitHub secret has its own endpoint.
      [{ target_url: 'http://127.0.0.1:10' }, 'field target_url:'],
      [{ github_client_secret: SECRET }, 'field github_client_secret:'],
      [{ auth_proxy: 'auth.example.com' }, 'field auth_proxy:'],
    ]
    for (const [body, prefix] of cases) {
      const response = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, body)
      expect({ body, status: response.status }).toEqual({ body, status: 400 })
      const error = await errorOf(response)
      expect(error.error).toBe('invalid_request')
      expect(error.error_description).toStartWith(prefix)
    }
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/auth`))).toEqual({ ...DEFAULT_AUTH, auth_required_users: ['alice'] })
  })

  test('the org, team, Authorization, Origin and realm fields: valid values are stored normalised', async () => {
    const hostname = await newProxy()
    const settings = {
      auth_required_orgs: ['Acme', 'acme', 'octo-org'],
      auth_required_teams: ['Acme/Platform_Team', 'acme/platform_team', 'octo-org/sre'],
      auth_pass_authorization: true,
      auth_origin_check: 'enforce',
      auth_allowed_origins: ['https://App.Example.com', 'http://localhost:5173', 'https://app.example.com:443', 'http://[::1]:8080/'],
      auth_realm: 'example api',
    }
    const response = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, settings)
    expect(response.status).toBe(200)
    const expected = {
      ...DEFAULT_AUTH,
      auth_required_orgs: ['acme', 'octo-org'],
      auth_required_teams: ['acme/platform_team', 'octo-org/sre'],
      auth_pass_authorization: true,
      auth_origin_check: 'enforce',
      // RFC 6454 §6.2: origins are serialised lower-case, the default port and a trailing "/" left out.
      auth_allowed_origins: ['https://app.example.com', 'http://localhost:5173', 'http://[::1]:8080'],
      auth_realm: 'example api',
    }
    expect(await json(response)).toEqual(expected)
    for (const check of ['auto', 'off'] as const) {
      expect(await json(await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_origin_check: check }))).toMatchObject({ auth_origin_check: check })
    }
    // null empties the nullable ones again (no org/team check, no realm).
    const cleared = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_required_orgs: null, auth_required_teams: null, auth_realm: null, auth_allowed_origins: [] })
    expect(await json(cleared)).toEqual({ ...expected, auth_origin_check: 'off', auth_required_orgs: null, auth_required_teams: null, auth_realm: null, auth_allowed_origins: [] })
  })

  test('bad org, team, Authorization, Origin and realm values → 400 naming the field, and nothing changes', async () => {
    const hostname = await newProxy()
    const cases: [Record<string, unknown>, string][] = [
      ...['-acme', 'ac--me', 'a'.repeat(40), '', 'acme/team', '*', 7].map((org): [Record<string, unknown>, string] => [{ auth_required_orgs: ['ok', org] }, 'field auth_required_orgs[1]:']),
      [{ auth_required_orgs: 'acme' }, 'field auth_required_orgs:'],
      [{ auth_required_orgs: Array.from({ length: 101 }, (_, i) => `o${i}`) }, 'field auth_required_orgs:'],
      ...['acme', 'acme/', '/team', 'acme/team/x', 'acme/te am', '-acme/team', 'acme/t.eam', `acme/${'t'.repeat(101)}`].map(
        (team): [Record<string, unknown>, string] => [{ auth_required_teams: ['acme/ok', team] }, 'field auth_required_teams[1]:'],
      ),
      [{ auth_pass_authorization: 'yes' }, 'field auth_pass_authorization:'],
      [{ auth_pass_authorization: null }, 'field auth_pass_authorization:'],
      [{ auth_origin_check: 'strict' }, 'field auth_origin_check:'],
      [{ auth_origin_check: null }, 'field auth_origin_check:'],
      ...['app.example.com', 'https://app.example.com/path', 'https://*.example.com', ' https://app.example.com', 'https://app.example.com#', 'ftp://app.example.com', 'https://u:p@app.example.com', 'https://app.example.com?x', 'null', ''].map(
        (origin): [Record<string, unknown>, string] => [{ auth_allowed_origins: ['https://ok.example.com', origin] }, 'field auth_allowed_origins[1]:'],
      ),
      [{ auth_allowed_origins: null }, 'field auth_allowed_origins:'],
      // RFC 6750 §3: the realm is a quoted-string in WWW-Authenticate; a quote, backslash or control would break the header.
      ...['', 'a"b', 'a\\b', 'line\nbreak', 'x'.repeat(129), 'caf\u00e9', 5].map((realm): [Record<string, unknown>, string] => [{ auth_realm: realm }, 'field auth_realm:']),
    ]
    for (const [body, prefix] of cases) {
      const response = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, body)
      expect({ body, status: response.status }).toEqual({ body, status: 400 })
      expect((await errorOf(response)).error_description).toStartWith(prefix)
    }
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/auth`))).toEqual(DEFAULT_AUTH)
  })

  test('concurrent PUTs of different fields all apply (compare-and-set)', async () => {
    const hostname = await newProxy()
    const responses = await Promise.all([
      edge.api('PUT', `/proxy/targets/${hostname}/auth`, { oauth_admin_users: ['a'] }),
      edge.api('PUT', `/proxy/targets/${hostname}/auth`, { oauth_user_users: ['u'] }),
      edge.api('PUT', `/proxy/targets/${hostname}/auth`, { oauth_mcp_users: ['m'] }),
    ])
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200])
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/auth`))).toMatchObject({ oauth_admin_users: ['a'], oauth_user_users: ['u'], oauth_mcp_users: ['m'] })
  })

  test('the auth fields can also be set when the proxy is created and through PUT /proxy/targets/{h}', async () => {
    const hostname = await newProxy({ auth_enabled: true, oauth_admin_users: ['Alice'] })
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/auth`))).toMatchObject({ auth_enabled: true, oauth_admin_users: ['alice'] })
    const updated = await edge.api('PUT', `/proxy/targets/${hostname}`, { auth_mode: 'redirect' })
    expect(await json(updated)).toMatchObject({ auth_enabled: true, auth_mode: 'redirect', oauth_admin_users: ['alice'] })
    expect((await edge.api('PUT', `/proxy/targets/${hostname}`, { github_client_secret: SECRET })).status).toBe(400)
    expect((await edge.api('POST', '/proxy/targets', { proxy_hostname: 'secret-at-create.example.com', target_url: 'http://127.0.0.1:9', github_client_secret: SECRET })).status).toBe(400)
  })
})

describe('DELETE /proxy/targets/{hostname}/auth', () => {
  test('turns auth off and keeps the lists and excluded paths, so turning it on again restores them', async () => {
    const hostname = await newProxy()
    const settings = { auth_enabled: true, auth_mode: 'redirect', auth_required_users: ['*'], auth_excluded_paths: ['/public'], oauth_user_users: ['bob'] }
    await edge.api('PUT', `/proxy/targets/${hostname}/auth`, settings)
    const response = await edge.api('DELETE', `/proxy/targets/${hostname}/auth`)
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({ ...DEFAULT_AUTH, ...settings, auth_enabled: false })
    const again = await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true })
    expect(await json(again)).toEqual({ ...DEFAULT_AUTH, ...settings })
  })
})

describe('/proxy/targets/{hostname}/github-oauth', () => {
  test('POST stores the app and answers with the id and github_client_secret_set, never the secret', async () => {
    const hostname = await newProxy()
    const response = await edge.api('POST', `/proxy/targets/${hostname}/github-oauth`, { github_client_id: 'Iv1.0123456789abcdef', github_client_secret: SECRET })
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).not.toContain(SECRET)
    expect(JSON.parse(text)).toEqual({ proxy_hostname: hostname, github_client_id: 'Iv1.0123456789abcdef', github_client_secret_set: true })
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/github-oauth`))).toEqual({ proxy_hostname: hostname, github_client_id: 'Iv1.0123456789abcdef', github_client_secret_set: true })
    // The GitHub login reads it through the service, the only way to the secret.
    expect(await edge.server.targets.gitHubApp(hostname)).toEqual({ clientId: 'Iv1.0123456789abcdef', clientSecret: SECRET })
  })

  test('§12.1.5: no read or list response carries the secret, whatever else changes', async () => {
    const hostname = await newProxy()
    await edge.api('POST', `/proxy/targets/${hostname}/github-oauth`, { github_client_id: 'scan-client', github_client_secret: SECRET })
    const responses = [
      await edge.api('GET', '/proxy/targets'),
      await edge.api('GET', `/proxy/targets/${hostname}`),
      await edge.api('GET', `/proxy/targets/${hostname}/auth`),
      await edge.api('GET', `/proxy/targets/${hostname}/github-oauth`),
      await edge.api('PUT', `/proxy/targets/${hostname}`, { enable_http: false }),
      await edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true }),
      await edge.api('DELETE', `/proxy/targets/${hostname}/auth`),
    ]
    for (const response of responses) {
      expect(response.status).toBe(200)
      const text = await response.text()
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain('"github_client_secret"')
    }
    const listed = ((await (await edge.api('GET', '/proxy/targets')).json()) as Record<string, unknown>[]).find((target) => target.proxy_hostname === hostname)
    expect(listed).toMatchObject({ github_client_id: 'scan-client', github_client_secret_set: true })
    // Changing other fields kept the app.
    expect(await edge.server.targets.gitHubApp(hostname)).toEqual({ clientId: 'scan-client', clientSecret: SECRET })
  })

  test('POST again replaces the app; DELETE removes it, so the global app applies again', async () => {
    const hostname = await newProxy()
    await edge.api('POST', `/proxy/targets/${hostname}/github-oauth`, { github_client_id: 'first', github_client_secret: 'first-secret' })
    await edge.api('POST', `/proxy/targets/${hostname}/github-oauth`, { github_client_id: 'second', github_client_secret: 'second-secret' })
    expect(await edge.server.targets.gitHubApp(hostname)).toEqual({ clientId: 'second', clientSecret: 'second-secret' })
    const deleted = await edge.api('DELETE', `/proxy/targets/${hostname}/github-oauth`)
    expect(deleted.status).toBe(200)
    expect(await json(deleted)).toEqual({ proxy_hostname: hostname, github_client_id: null, github_client_secret_set: false })
    expect(await edge.server.targets.gitHubApp(hostname)).toBeNull()
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}`))).toMatchObject({ github_client_id: null, github_client_secret_set: false })
  })

  test('bad input → 400 naming the field, without echoing the secret; nothing stored', async () => {
    const hostname = await newProxy()
    const cases: [Record<string, unknown>, string][] = [
      [{ github_client_id: 'id' }, 'field github_client_secret:'],
      [{ github_client_secret: SECRET }, 'field github_client_id:'],
      [{ github_client_id: 'id', github_client_secret: '' }, 'field github_client_secret:'],
      [{ github_client_id: 'id', github_client_secret: `${SECRET} ` }, 'field github_client_secret:'],
      [{ github_client_id: 'id', github_client_secret: `${SECRET}\n` }, 'field github_client_secret:'],
      [{ github_client_id: 'id', github_client_secret: 'x'.repeat(257) }, 'field github_client_secret:'],
      [{ github_client_id: 'id', github_client_secret: 42 }, 'field github_client_secret:'],
      [{ github_client_id: '', github_client_secret: SECRET }, 'field github_client_id:'],
      [{ github_client_id: 'id with space', github_client_secret: SECRET }, 'field github_client_id:'],
      [{ github_client_id: 'id', github_client_secret: SECRET, github_client_secret_set: true }, 'field github_client_secret_set:'],
    ]
    for (const [body, prefix] of cases) {
      const response = await edge.api('POST', `/proxy/targets/${hostname}/github-oauth`, body)
      expect({ body, status: response.status }).toEqual({ body, status: 400 })
      const text = await response.text()
      expect(text).not.toContain(SECRET)
      expect((JSON.parse(text) as { error_description: string }).error_description).toStartWith(prefix)
    }
    expect(await edge.server.targets.gitHubApp(hostname)).toBeNull()
  })
})

describe('every route', () => {
  const routes = (hostname: string): [string, string, unknown?][] => [
    ['GET', `/proxy/targets/${hostname}/auth`],
    ['PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true }],
    ['DELETE', `/proxy/targets/${hostname}/auth`],
    ['GET', `/proxy/targets/${hostname}/github-oauth`],
    ['POST', `/proxy/targets/${hostname}/github-oauth`, { github_client_id: 'id', github_client_secret: 'secret' }],
    ['DELETE', `/proxy/targets/${hostname}/github-oauth`],
  ]

  test('an unknown proxy → 404, an invalid hostname → 400', async () => {
    for (const [method, path, body] of routes('missing.example.com')) {
      const response = await edge.api(method, path, body)
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 })
    }
    for (const [method, path, body] of routes('bad_name!')) {
      const response = await edge.api(method, path, body)
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 400 })
    }
  })

  test('a user token reads but cannot write; no token → 401', async () => {
    const hostname = await newProxy()
    const publicUrl = edge.server.apiUrl.replace(/:\d+$/, ':0')
    const token = await issueAccessToken(edge.server.keyRing, systemClock, { issuer: publicUrl, audience: apiResource({ publicUrl }), subject: 'local:u', username: 'u', scopes: ['user'], clientId: 't', ttlSec: 600 })
    for (const [method, path, body] of routes(hostname)) {
      const init = { method, body: body === undefined ? undefined : JSON.stringify(body) }
      const asUser = await fetch(`${edge.server.apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
      expect({ method, path, status: asUser.status }).toEqual({ method, path, status: method === 'GET' ? 200 : 403 })
      const anonymous = await fetch(`${edge.server.apiUrl}${path}`, { ...init, headers: { 'content-type': 'application/json' } })
      expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 })
    }
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/auth`))).toEqual(DEFAULT_AUTH)
  })

  test('every change is announced as proxy_updated for that hostname (the edge of every node reloads it)', async () => {
    const hostname = await newProxy()
    for (const [method, path, body] of routes(hostname)) {
      const events = await eventsDuring(() => edge.api(method, path, body))
      expect({ method, path, events }).toEqual({ method, path, events: method === 'GET' ? [] : [{ type: 'proxy_updated', hostname }] })
    }
  })
})
