/**
 * The proxies' own browser clients (`proxy:<hostname>`) through the client finder, over real proxy
 * targets and the resource policy's directory: which exist, how they authenticate, and the redirect URI
 * rule (RFC 6749 §3.1.2.3 exact match, §4.1.2.1 no redirect to anything else) and resource limit.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createResourcePolicy } from '../../src/compose-auth.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createCimdResolver, createClientFinder, createClientRegistry, createGitHubClient, proxyHostnameOf, type ClientFinder, type OAuthClient } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { createProxyTargets, CreateProxyTargetSchema } from '../../src/targets/index.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const targets = createProxyTargets(store, createMemoryBus(createLogger('silent')), clock)
let finder: ClientFinder

const REDIRECT = { auth_enabled: true, auth_mode: 'redirect' }
async function proxy(hostname: string, fields: Record<string, unknown> = {}) {
  await targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: hostname, target_url: 'http://127.0.0.1:9', ...fields }), null)
}

beforeAll(async () => {
  await proxy('app.example.com', REDIRECT)
  await proxy('app.localhost', REDIRECT)
  await proxy('*.wild.example.com', REDIRECT)
  await proxy('own.wild.example.com', REDIRECT)
  await proxy('forward.example.com', { auth_enabled: true })
  await proxy('noauth.example.com', { auth_mode: 'redirect' })
  await proxy('off.example.com', { ...REDIRECT, enabled: false })
  const config = loadConfig({ DATA_DIR: ':memory:', LOG_LEVEL: 'silent', PUBLIC_URL: 'https://auth.example.com' })
  const policy = createResourcePolicy({
    apiResource: config.publicUrl,
    proxies: () => targets.list(),
    apiOrigin: () => 'http://127.0.0.1:9000',
    config,
    targets,
    github: createGitHubClient({ webUrl: 'http://127.0.0.1:1', apiUrl: 'http://127.0.0.1:1', logger: createLogger('silent') }),
  })
  const logger = createLogger('silent')
  finder = createClientFinder(createClientRegistry(store, clock), createCimdResolver({ clock, logger, allowPrivateAddresses: false }), policy.proxyDirectory)
})
afterAll(() => store.close())

async function client(hostname: string): Promise<OAuthClient> {
  const found = await finder.findClient(`proxy:${hostname}`)
  if (!found) throw new Error(`no client for ${hostname}`)
  return found
}

describe('which proxy clients exist', () => {
  test('proxy:<hostname> for an enabled, auth-enabled proxy in redirect mode: a public code + refresh client', async () => {
    expect(await client('app.example.com')).toEqual({
      client_id: 'proxy:app.example.com',
      client_name: 'app.example.com',
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'web',
      client_id_issued_at: 0,
    })
    expect((await client('*.wild.example.com')).client_id).toBe('proxy:*.wild.example.com')
  })

  test('no client for forward mode, auth off, a disabled or unknown proxy, a name under a wildcard, or a malformed id', async () => {
    for (const id of [
      'proxy:forward.example.com',
      'proxy:noauth.example.com',
      'proxy:off.example.com',
      'proxy:nope.example.com',
      'proxy:a.wild.example.com',
      'proxy:APP.example.com',
      'proxy:',
      'proxy:app.example.com/',
      'proxy:app.example.com:443',
      'proxy:../app.example.com',
      'PROXY:app.example.com',
    ]) {
      expect(await finder.findClient(id)).toBeNull()
    }
    expect(proxyHostnameOf('proxy:*.wild.example.com')).toBe('*.wild.example.com')
    expect(proxyHostnameOf('proxy:**.example.com')).toBeNull()
  })

  test('RFC 6749 §2.3.1: it authenticates with its client_id alone; a secret or another method is refused, as is a client that no longer exists', async () => {
    expect(await finder.authenticate('proxy:app.example.com', undefined, 'none')).toMatchObject({ ok: true, client: { client_id: 'proxy:app.example.com' } })
    expect(await finder.authenticate('proxy:app.example.com', 'secret', 'client_secret_post')).toEqual({ ok: false, reason: 'unexpected_secret' })
    expect(await finder.authenticate('proxy:app.example.com', 'secret', 'client_secret_basic')).toEqual({ ok: false, reason: 'unexpected_secret' })
    expect(await finder.authenticate('proxy:forward.example.com', undefined, 'none')).toEqual({ ok: false, reason: 'unknown_client' })
  })
})

describe('redirect URIs: exactly <origin>/_oauth/callback on an origin the proxy serves', () => {
  test('https on any port; http only on a loopback name; any name the wildcard serves', async () => {
    const accepted: [string, string][] = [
      ['app.example.com', 'https://app.example.com/_oauth/callback'],
      ['app.example.com', 'https://app.example.com:8443/_oauth/callback'],
      ['app.localhost', 'http://app.localhost/_oauth/callback'],
      ['app.localhost', 'http://app.localhost:8080/_oauth/callback'],
      ['app.localhost', 'https://app.localhost:8443/_oauth/callback'],
      ['*.wild.example.com', 'https://a.wild.example.com/_oauth/callback'],
      ['*.wild.example.com', 'https://b.wild.example.com:9443/_oauth/callback'],
    ]
    for (const [hostname, uri] of accepted) expect(`${uri} ${await finder.acceptsRedirectUri(await client(hostname), uri)}`).toBe(`${uri} true`)
  })

  test('RFC 6749 §3.1.2.4: anything else is not registered', async () => {
    const app = await client('app.example.com')
    const wild = await client('*.wild.example.com')
    const refused: [OAuthClient, string][] = [
      // http on a public name, another path, a trailing slash, a query, a fragment
      [app, 'http://app.example.com/_oauth/callback'],
      [app, 'https://app.example.com/_oauth/callback/'],
      [app, 'https://app.example.com/_oauth/callbackx'],
      [app, 'https://app.example.com/oauth/callback'],
      [app, 'https://app.example.com/_oauth/callback?x=1'],
      [app, 'https://app.example.com/_oauth/callback#x'],
      // not in the form a browser navigates to: case, a default port, dot segments, escapes, userinfo, whitespace
      [app, 'https://APP.example.com/_oauth/callback'],
      [app, 'HTTPS://app.example.com/_oauth/callback'],
      [app, 'https://app.example.com:443/_oauth/callback'],
      [app, 'https://app.example.com/x/../_oauth/callback'],
      [app, 'https://app.example.com/_oauth/%63allback'],
      [app, 'https://user@app.example.com/_oauth/callback'],
      [app, 'https://app.example.com/_oauth/callback '],
      [app, 'https://app.example.com.evil.example/_oauth/callback'],
      [app, 'https://evil.example/_oauth/callback'],
      [app, 'https://app.example.com:0/_oauth/callback'],
      // another proxy's origin, or a name the proxy does not serve
      [app, 'https://forward.example.com/_oauth/callback'],
      [wild, 'https://wild.example.com/_oauth/callback'],
      [wild, 'https://x.a.wild.example.com/_oauth/callback'],
      [wild, 'https://*.wild.example.com/_oauth/callback'],
      // a name under the wildcard that has its own proxy belongs to that proxy
      [wild, 'https://own.wild.example.com/_oauth/callback'],
      [wild, 'http://a.wild.example.com/_oauth/callback'],
      [app, 'javascript:alert(1)//app.example.com/_oauth/callback'],
      [app, ''],
    ]
    for (const [found, uri] of refused) expect(`${uri} ${await finder.acceptsRedirectUri(found, uri)}`).toBe(`${uri} false`)
  })

  test('registered clients keep their list: the proxy rule never widens them', async () => {
    const registered: OAuthClient = { ...(await client('app.example.com')), client_id: 'abc', redirect_uris: ['https://client.example/cb'] }
    expect(await finder.acceptsRedirectUri(registered, 'https://client.example/cb')).toBe(true)
    expect(await finder.acceptsRedirectUri(registered, 'https://app.example.com/_oauth/callback')).toBe(false)
  })
})

describe('resources: a proxy client gets tokens only for its own proxy\'s origins (RFC 8707 §2)', () => {
  test('its origins on any port, names under its wildcard; never the API or another proxy', async () => {
    const app = await client('app.example.com')
    const wild = await client('*.wild.example.com')
    expect(await finder.mayUseResource(app, 'https://app.example.com:8443')).toBe(true)
    // A proxy with a resource_endpoint: its resource identifier is the origin and that path.
    expect(await finder.mayUseResource(app, 'https://app.example.com/mcp')).toBe(true)
    expect(await finder.mayUseResource(wild, 'https://a.wild.example.com')).toBe(true)
    for (const [found, resource] of [
      [app, 'https://auth.example.com'],
      [app, 'https://forward.example.com'],
      [wild, 'https://own.wild.example.com'],
      [app, 'http://app.example.com'],
      [app, 'https://forward.example.com/mcp'],
    ] as const) {
      expect(await finder.mayUseResource(found, resource)).toBe(false)
    }
    // Any resource for every other client.
    expect(await finder.mayUseResource({ ...app, client_id: 'abc' }, 'https://auth.example.com')).toBe(true)
  })
})
