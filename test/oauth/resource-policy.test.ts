/**
 * The resource policy (compose-auth.ts) over real proxy targets: a proxy's resource is the origin clients
 * use, any port (https, or http for loopback names), a name under a wildcard proxy is a resource of its own,
 * the exact proxy wins over the wildcard as at the edge; and the directory the proxies' own clients use.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createResourcePolicy, type ResourcePolicy } from '../../src/compose-auth.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createGitHubClient, DEFAULT_GITHUB_SCOPE, MEMBERSHIP_GITHUB_SCOPE } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { createProxyTargets, CreateProxyTargetSchema } from '../../src/targets/index.ts'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'

const API = 'https://auth.example.com'
const API_ORIGIN = 'http://127.0.0.1:9000'
const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const targets = createProxyTargets(store, createMemoryBus(createLogger('silent')), clock)
const config = loadConfig({ DATA_DIR: ':memory:', LOG_LEVEL: 'silent', PUBLIC_URL: API, OAUTH_MCP_USERS: '*', GITHUB_CLIENT_ID: 'Iv1.global', GITHUB_CLIENT_SECRET: 'global-secret' })
let fake: GitHubFake
let policy: ResourcePolicy

const AUTH = { auth_enabled: true, auth_required_users: ['*'] }
async function proxy(hostname: string, fields: Record<string, unknown> = {}) {
  await targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: hostname, target_url: 'http://127.0.0.1:9', ...fields }), null)
}

beforeAll(async () => {
  fake = createGitHubFake({ users: [{ id: 1001, login: 'alice', orgs: [{ org: 'acme' }] }] })
  await proxy('app.example.com', AUTH)
  await proxy('app.localhost', { ...AUTH, auth_mode: 'redirect' })
  await proxy('*.wild.example.com', { ...AUTH, auth_mode: 'redirect', auth_required_orgs: ['acme'] })
  // An exact proxy under the wildcard, without auth: it serves its name, so the wildcard does not.
  await proxy('open.wild.example.com')
  await proxy('off.example.com', { ...AUTH, enabled: false, auth_mode: 'redirect' })
  await proxy('plain.example.com')
  // A proxy in front of the API is an issuer, not a resource.
  await targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: 'api.example.com', target_url: API_ORIGIN, ...AUTH }), null)
  await targets.setGitHubApp('app.example.com', { clientId: 'Iv1.own', clientSecret: 'own-secret' })
  policy = createResourcePolicy({
    apiResource: API,
    proxies: () => targets.list(),
    apiOrigin: () => API_ORIGIN,
    config,
    targets,
    github: createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger: createLogger('silent') }),
  })
})
afterAll(async () => {
  await fake.stop()
  store.close()
})

describe('resolve (RFC 8707 §2)', () => {
  test('a proxy\'s origin on any port is its own resource; a path below it resolves to the origin', async () => {
    const cases: [string, string][] = [
      ['https://app.example.com', 'https://app.example.com'],
      ['https://app.example.com:8443', 'https://app.example.com:8443'],
      ['https://app.example.com:8443/mcp', 'https://app.example.com:8443'],
      ['https://APP.example.com:443/', 'https://app.example.com'],
      ['http://app.localhost:8080', 'http://app.localhost:8080'],
      ['http://app.localhost:8080/deep/path', 'http://app.localhost:8080'],
      ['https://app.localhost:8443', 'https://app.localhost:8443'],
      ['http://app.localhost', 'http://app.localhost'],
    ]
    for (const [requested, resolved] of cases) expect(await policy.resolve(requested)).toBe(resolved)
  })

  test('a name under a wildcard proxy is a resource of its own origin, one label deep', async () => {
    expect(await policy.resolve('https://a.wild.example.com/mcp')).toBe('https://a.wild.example.com')
    expect(await policy.resolve('https://b.wild.example.com:8443')).toBe('https://b.wild.example.com:8443')
    expect(await policy.resolve('https://x.a.wild.example.com')).toBeNull()
    expect(await policy.resolve('https://wild.example.com')).toBeNull()
  })

  test('RFC 8707 §2: no resource for plain http on a public name, a proxy without auth (even under a protected wildcard), a disabled proxy, the API\'s proxy or an unknown host', async () => {
    for (const requested of [
      'http://app.example.com',
      'http://app.example.com:8080',
      'https://open.wild.example.com',
      'https://plain.example.com',
      'https://off.example.com',
      'https://api.example.com',
      'https://unknown.example.com',
      'https://*.wild.example.com',
      'https://app.example.com:0',
      'https://app.example.com:65536',
    ]) {
      expect(await policy.resolve(requested)).toBeNull()
    }
    expect(await policy.resolve(undefined)).toBe(API)
  })
})

describe('access, app and scope follow the proxy of the origin', () => {
  const alice = { sub: '1001', username: 'alice' }

  test('accessFor finds the proxy for a non-default port and for a name under the wildcard (with its org list)', async () => {
    expect(await policy.accessFor(alice, 'https://app.example.com:8443')).toEqual({ allowed: true, scopes: ['mcp'] })
    expect(await policy.accessFor(alice, 'https://a.wild.example.com', fake.issueToken('alice', MEMBERSHIP_GITHUB_SCOPE))).toEqual({ allowed: true, scopes: ['mcp'], checkedMembership: true })
    expect(await policy.accessFor(alice, 'https://a.wild.example.com')).toMatchObject({ allowed: false, denial: 'github_token_missing' })
    // Unknown, unprotected or the wrong scheme: nobody.
    for (const resource of ['https://plain.example.com', 'http://app.example.com', 'https://open.wild.example.com']) {
      expect(await policy.accessFor(alice, resource)).toEqual({ allowed: false, scopes: [] })
    }
  })

  test('githubAppFor: the proxy\'s own app on any of its origins, else the global one', async () => {
    expect(await policy.githubAppFor('https://app.example.com:8443')).toMatchObject({ clientId: 'Iv1.own', source: 'proxy' })
    expect(await policy.githubAppFor('https://a.wild.example.com')).toMatchObject({ clientId: 'Iv1.global', source: 'global' })
    expect(await policy.githubAppFor(API)).toMatchObject({ clientId: 'Iv1.global' })
  })

  test('githubScopeFor: read:org only for a proxy with an organisation or team list', async () => {
    expect(await policy.githubScopeFor('https://a.wild.example.com')).toBe(MEMBERSHIP_GITHUB_SCOPE)
    expect(await policy.githubScopeFor('https://app.example.com')).toBe(DEFAULT_GITHUB_SCOPE)
    expect(await policy.githubScopeFor(API)).toBe(DEFAULT_GITHUB_SCOPE)
  })

  test('proxyFor: the proxy target, null for the API resource', async () => {
    expect((await policy.proxyFor('http://app.localhost:8080'))?.proxy_hostname).toBe('app.localhost')
    expect((await policy.proxyFor('https://z.wild.example.com'))?.proxy_hostname).toBe('*.wild.example.com')
    expect(await policy.proxyFor(API)).toBeNull()
  })
})

describe('the directory of proxy clients', () => {
  test('isRedirectProxy: exactly the stored hostname, enabled, auth-enabled, redirect mode', async () => {
    expect(await policy.proxyDirectory.isRedirectProxy('app.localhost')).toBe(true)
    expect(await policy.proxyDirectory.isRedirectProxy('*.wild.example.com')).toBe(true)
    for (const hostname of ['app.example.com', 'off.example.com', 'plain.example.com', 'a.wild.example.com', 'nope.example.com']) {
      expect(await policy.proxyDirectory.isRedirectProxy(hostname)).toBe(false)
    }
  })

  test('proxyServing: the edge\'s lookup, exact name first, then the one-label wildcard', async () => {
    expect(await policy.proxyDirectory.proxyServing('a.wild.example.com')).toBe('*.wild.example.com')
    expect(await policy.proxyDirectory.proxyServing('open.wild.example.com')).toBe('open.wild.example.com')
    expect(await policy.proxyDirectory.proxyServing('x.a.wild.example.com')).toBeNull()
    expect(await policy.proxyDirectory.proxyServing('app.localhost')).toBe('app.localhost')
  })
})
