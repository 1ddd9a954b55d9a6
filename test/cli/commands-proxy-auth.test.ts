/**
 * `oauth-https-proxy proxy auth …` and `proxy resource …` against a real server: every command with
 * --json compared with the API, the human forms (the scope rule on `auth show`), lists given with commas
 * or repeated flags, `none` and "" emptying, and the failures (2 for a wrong argument, 4 for a missing
 * proxy, 3 for a user-scope token on a write, 1 with the API's field for its 400).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { apiJson, createCliRunner, expectFailure, issueToken, type CliRunner } from './commands-cli.ts'

let edge: TestEdge
let cli: CliRunner
let userToken: string

const HOST = 'guarded.example.com'

beforeAll(async () => {
  edge = await startTestEdge()
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
  userToken = await issueToken(edge, ['user'])
  await edge.createProxy(HOST, 'http://127.0.0.1:3000')
})
afterAll(async () => {
  cli.cleanup()
  await edge.stop()
})

type Settings = Record<string, unknown>

describe('proxy auth', () => {
  test('show --json is the API\'s answer; show prints the settings and says auth is off, with the rule that applies once it is on', async () => {
    expect(await cli.json(['proxy', 'auth', 'show', HOST, '--json'])).toEqual(await apiJson(edge, `/proxy/targets/${HOST}/auth`))
    const shown = await cli.run(['proxy', 'auth', 'show', HOST])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/^proxy_hostname: +guarded\.example\.com$/m)
    expect(shown.stdout).toMatch(/^auth_enabled: +no$/m)
    expect(shown.stdout).toMatch(/^auth_origin_check: +auto$/m)
    // null and [] mean opposite things in the access lists: spelled out, not both "-".
    expect(shown.stdout).toMatch(/^oauth_admin_users: +\(OAUTH_ADMIN_USERS\)$/m)
    expect(shown.stdout).toMatch(/^auth_required_users: +\(everyone in the three scope lists\)$/m)
    expect(shown.stdout).toMatch(/^auth_required_orgs: +\(no organisation check\)$/m)
    expect(shown.stdout).toContain('auth is off (no token is checked); when it is on:\n')
    expect(shown.stdout).toContain('  - reads (GET, HEAD, OPTIONS) need the user scope\n')
    expect(shown.stdout).toContain('  - writes (every other method) need the admin scope\n')
    expect(shown.stdout).toContain('  - paths under /mcp need the mcp scope, whatever the method\n')
    expect(shown.stdout).toContain('  - admin implies user and mcp\n')
    expect(shown.stdout).toContain("  - a route's own auth overrides this rule\n")
    expect(await cli.run(['proxy', 'auth', 'show', HOST, '-q'])).toEqual({ code: 0, stdout: `${HOST}\n`, stderr: '' })
  })

  test('set sends every auth field given: lists with commas or repeated flags, --no- booleans, enums and the realm', async () => {
    const set = await cli.json<Settings>([
      'proxy', 'auth', 'set', HOST,
      '--mode', 'redirect',
      '--required-users', 'alice,bob', '--required-users', 'carol',
      '--required-orgs', 'acme',
      '--required-teams', 'acme/platform,acme/sre',
      '--excluded-paths', '/health', '--excluded-paths', '/public/',
      '--admin-users', 'alice',
      '--user-users', '*',
      '--mcp-users', 'bob, carol',
      '--pass-authorization',
      '--origin-check', 'enforce',
      '--allowed-origins', 'https://app.example.com',
      '--realm', 'guarded api',
      '--json',
    ])
    expect(set).toEqual(await apiJson(edge, `/proxy/targets/${HOST}/auth`))
    expect(set).toMatchObject({
      auth_enabled: false,
      auth_mode: 'redirect',
      auth_required_users: ['alice', 'bob', 'carol'],
      auth_required_orgs: ['acme'],
      auth_required_teams: ['acme/platform', 'acme/sre'],
      auth_excluded_paths: ['/health', '/public/'],
      oauth_admin_users: ['alice'],
      oauth_user_users: ['*'],
      oauth_mcp_users: ['bob', 'carol'],
      auth_pass_authorization: true,
      auth_origin_check: 'enforce',
      auth_allowed_origins: ['https://app.example.com'],
      auth_realm: 'guarded api',
    })
  })

  test('set changes only what is given; "none" is null (the default applies) or the empty list, "" the empty list (nobody)', async () => {
    const set = await cli.json<Settings>(['proxy', 'auth', 'set', HOST, '--required-orgs', 'none', '--realm', 'none', '--excluded-paths', 'none', '--admin-users', '', '--no-pass-authorization', '--json'])
    expect(set).toMatchObject({
      auth_required_orgs: null,
      auth_realm: null,
      auth_excluded_paths: [],
      oauth_admin_users: [],
      auth_pass_authorization: false,
      // Kept.
      auth_mode: 'redirect',
      auth_required_teams: ['acme/platform', 'acme/sre'],
      oauth_mcp_users: ['bob', 'carol'],
    })
  })

  test('show spells out an empty access list as nobody', async () => {
    const shown = await cli.run(['proxy', 'auth', 'show', HOST])
    expect(shown.stdout).toMatch(/^oauth_admin_users: +\(nobody\)$/m)
    expect(shown.stdout).toMatch(/^oauth_mcp_users: +bob, carol$/m)
  })

  test('enable turns auth on (optionally with a mode) and shows the rule in force; disable turns it off and keeps the lists', async () => {
    const enabled = await cli.run(['proxy', 'auth', 'enable', HOST, '--mode', 'forward'])
    expect(enabled.code).toBe(0)
    expect(enabled.stdout).toMatch(/^auth_enabled: +yes$/m)
    expect(enabled.stdout).toMatch(/^auth_mode: +forward$/m)
    expect(enabled.stdout).toContain('auth is on; the scope rule in force:\n')
    expect(await apiJson(edge, `/proxy/targets/${HOST}/auth`)).toMatchObject({ auth_enabled: true, auth_mode: 'forward' })
    const disabled = await cli.json<Settings>(['proxy', 'auth', 'disable', HOST, '--json'])
    expect(disabled).toEqual(await apiJson(edge, `/proxy/targets/${HOST}/auth`))
    expect(disabled).toMatchObject({ auth_enabled: false, auth_required_teams: ['acme/platform', 'acme/sre'] })
    expect((await cli.json<Settings>(['proxy', 'auth', 'enable', HOST, '--json'])).auth_enabled).toBe(true)
  })

  test('failures: wrong arguments exit 2 before any request; the API\'s 400 exits 1 naming the field; 3 for a user token; 4 for a missing proxy', async () => {
    const before = await apiJson(edge, `/proxy/targets/${HOST}/auth`)
    const usage: [string[], RegExp][] = [
      [['proxy', 'auth', 'set', HOST], /nothing to change: give at least one of --mode, --required-users/],
      [['proxy', 'auth', 'set', HOST, '--mode', 'basic'], /--mode/],
      [['proxy', 'auth', 'set', HOST, '--origin-check', 'strict'], /--origin-check/],
      [['proxy', 'auth', 'set', HOST, '--required-user', 'alice'], /unknown flag --required-user/],
      [['proxy', 'auth', 'show'], /hostname/i],
      [['proxy', 'auth', 'enable', HOST, 'extra'], /unexpected argument "extra"/],
    ]
    const results = await Promise.all(usage.map(([args]) => cli.run(args)))
    results.forEach((result, i) => expectFailure(result, 2, usage[i]![1]))
    const [team, realm, origin, user, missing] = await Promise.all([
      cli.run(['proxy', 'auth', 'set', HOST, '--required-teams', 'acme']),
      cli.run(['proxy', 'auth', 'set', HOST, '--realm', 'say "hi"']),
      cli.run(['proxy', 'auth', 'set', HOST, '--allowed-origins', 'https://ok.example.com,https://app.example.com/path']),
      cli.run(['proxy', 'auth', 'disable', HOST], { token: userToken }),
      cli.run(['proxy', 'auth', 'show', 'nope.example.com']),
    ])
    expectFailure(team, 1, /^oauth-https-proxy: 400 invalid_request: field auth_required_teams\[0\]: /)
    expectFailure(realm, 1, /^oauth-https-proxy: 400 invalid_request: field auth_realm: /)
    expectFailure(origin, 1, /^oauth-https-proxy: 400 invalid_request: field auth_allowed_origins\[1\]: /)
    expectFailure(user, 3, /^oauth-https-proxy: 403 /)
    expectFailure(missing, 4, /404 not_found: no proxy for nope\.example\.com/)
    expect(await apiJson(edge, `/proxy/targets/${HOST}/auth`)).toEqual(before)
  })
})

describe('proxy resource', () => {
  test('show --json is the API\'s answer; show prints key: value lines', async () => {
    expect(await cli.json(['proxy', 'resource', 'show', HOST, '--json'])).toEqual(await apiJson(edge, `/proxy/targets/${HOST}/resource`))
    const shown = await cli.run(['proxy', 'resource', 'show', HOST])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/^resource_endpoint: +\/$/m)
    expect(shown.stdout).toMatch(/^resource_scopes: +-$/m)
  })

  test('set sends the fields given (scopes by commas or repeated, metadata as JSON); "none" empties; clear resets the defaults', async () => {
    const set = await cli.json<Settings>([
      'proxy', 'resource', 'set', HOST,
      '--endpoint', '/mcp',
      '--scopes', 'mcp', '--scopes', 'user',
      '--documentation', 'https://docs.example.com/mcp',
      '--metadata', '{"resource_name":"Guarded MCP","resource_policy_uri":"https://example.com/policy"}',
      '--json',
    ])
    expect(set).toEqual(await apiJson(edge, `/proxy/targets/${HOST}/resource`))
    expect(set).toEqual({
      resource_endpoint: '/mcp',
      resource_scopes: ['mcp', 'user'],
      resource_documentation: 'https://docs.example.com/mcp',
      resource_custom_metadata: { resource_name: 'Guarded MCP', resource_policy_uri: 'https://example.com/policy' },
    })
    const human = await cli.run(['proxy', 'resource', 'set', HOST, '--scopes', 'none', '--metadata', 'none'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/^resource_endpoint: +\/mcp$/m)
    expect(await apiJson(edge, `/proxy/targets/${HOST}/resource`)).toEqual({ resource_endpoint: '/mcp', resource_scopes: null, resource_documentation: 'https://docs.example.com/mcp', resource_custom_metadata: null })
    const cleared = await cli.json(['proxy', 'resource', 'clear', HOST, '--json'])
    expect(cleared).toEqual({ resource_endpoint: '/', resource_scopes: null, resource_documentation: null, resource_custom_metadata: null })
    expect(await cli.run(['proxy', 'resource', 'clear', HOST, '-q'])).toEqual({ code: 0, stdout: `${HOST}\n`, stderr: '' })
  })

  test('failures: not a JSON object or nothing to set exits 2; the API\'s 400 exits 1 naming the field; 3 for a user token; 4 for a missing proxy', async () => {
    const usage: [string[], RegExp][] = [
      [['proxy', 'resource', 'set', HOST], /nothing to change/],
      [['proxy', 'resource', 'set', HOST, '--metadata', '{resource_name: x}'], /--metadata: expected a JSON object/],
      [['proxy', 'resource', 'set', HOST, '--metadata', '["resource_name"]'], /--metadata: expected a JSON object/],
      [['proxy', 'resource', 'set', HOST, '--endpont', '/mcp'], /unknown flag --endpont/],
    ]
    const results = await Promise.all(usage.map(([args]) => cli.run(args)))
    results.forEach((result, i) => expectFailure(result, 2, usage[i]![1]))
    const [endpoint, scopes, metadata, user, missing] = await Promise.all([
      cli.run(['proxy', 'resource', 'set', HOST, '--endpoint', 'mcp']),
      cli.run(['proxy', 'resource', 'set', HOST, '--scopes', 'read,write']),
      cli.run(['proxy', 'resource', 'set', HOST, '--metadata', '{"authorization_servers":["https://evil.example"]}']),
      cli.run(['proxy', 'resource', 'clear', HOST], { token: userToken }),
      cli.run(['proxy', 'resource', 'show', 'nope.example.com']),
    ])
    expectFailure(endpoint, 1, /^oauth-https-proxy: 400 invalid_request: field resource_endpoint: /)
    expectFailure(scopes, 1, /^oauth-https-proxy: 400 invalid_request: field resource_scopes\[0\]: /)
    expectFailure(metadata, 1, /^oauth-https-proxy: 400 invalid_request: field resource_custom_metadata\.authorization_servers: /)
    expectFailure(user, 3, /^oauth-https-proxy: 403 /)
    expectFailure(missing, 4, /404 not_found: no proxy for nope\.example\.com/)
  })
})
