/**
 * The command line's first-party client (`oauth-https-proxy-cli`) through the client finder: it exists
 * without being registered (so OAUTH_REGISTRATION=token or closed cannot lock the CLI out), is public
 * (RFC 6749 §2.3.1: its id alone), has no redirect URI (the device flow needs none, so /authorize can
 * never send a code anywhere for it), and gets tokens for the API's resource alone (RFC 8707 §2).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { CLI_CLIENT_ID, createCimdResolver, createClientFinder, createClientRegistry, type ProxyDirectory } from '../../src/oauth/index.ts'
import { COLLECTIONS, createEmbeddedStore } from '../../src/store/index.ts'

const API = 'https://auth.example.com'
const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const registry = createClientRegistry(store, clock)
const cimd = createCimdResolver({ clock, logger: createLogger('silent'), allowPrivateAddresses: false })
const noProxies: ProxyDirectory = { isRedirectProxy: async () => false, proxyServing: async () => null }
const finder = createClientFinder(registry, cimd, noProxies, undefined, { apiResource: API })
afterAll(() => store.close())

describe('the CLI client', () => {
  test('exists unregistered: public, the device_code and refresh_token grants, no redirect URI, the CLI\'s scopes', async () => {
    expect(await finder.findClient(CLI_CLIENT_ID)).toEqual({
      client_id: CLI_CLIENT_ID,
      client_name: 'oauth-https-proxy CLI',
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      application_type: 'native',
      scope: 'admin user',
      client_id_issued_at: 0,
    })
    expect(await store.list(COLLECTIONS.oauthClients)).toEqual([])
    // Only where the composition root names the API's resource.
    expect(await createClientFinder(registry, cimd, noProxies).findClient(CLI_CLIENT_ID)).toBeNull()
  })

  test('RFC 6749 §2.3.1: it authenticates with its client_id alone; a secret or another method is refused', async () => {
    expect(await finder.authenticate(CLI_CLIENT_ID, undefined, 'none')).toMatchObject({ ok: true, client: { client_id: CLI_CLIENT_ID } })
    expect(await finder.authenticate(CLI_CLIENT_ID, 'guessed', 'client_secret_post')).toEqual({ ok: false, reason: 'unexpected_secret' })
    expect(await finder.authenticate(CLI_CLIENT_ID, undefined, 'client_secret_basic')).toEqual({ ok: false, reason: 'method_mismatch' })
    expect(await finder.recordUse((await finder.findClient(CLI_CLIENT_ID))!)).toBe(true)
  })

  test('RFC 6749 §3.1.2.4: no redirect URI is ever its own, loopback ones included', async () => {
    const client = (await finder.findClient(CLI_CLIENT_ID))!
    for (const uri of ['http://127.0.0.1/callback', 'http://127.0.0.1:33418/callback', 'http://localhost/cb', `${API}/ui/auth/callback`, 'https://evil.example/cb']) {
      expect({ uri, accepted: await finder.acceptsRedirectUri(client, uri) }).toEqual({ uri, accepted: false })
    }
  })

  test('RFC 8707 §2: tokens for the API\'s resource only, never a proxy\'s', async () => {
    const client = (await finder.findClient(CLI_CLIENT_ID))!
    expect(await finder.mayUseResource(client, API)).toBe(true)
    expect(await finder.mayUseResource(client, 'https://app.example.com')).toBe(false)
  })
})
