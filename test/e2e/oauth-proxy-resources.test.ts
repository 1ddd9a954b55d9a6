/**
 * RFC 8707: a token is for exactly one resource. An auth-enabled proxy is a resource of its own, whose
 * allowlist and scope lists decide who gets in (DESIGN §6); a proxy without auth is no resource. The
 * resource is the origin clients use: any port, http for loopback names, and each name under a wildcard
 * proxy its own.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import * as oauth from 'oauth4webapi'
import { systemClock } from '../../src/lib/index.ts'
import { verifyAccessToken } from '../../src/oauth/index.ts'
import { driveBrowser, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

const REDIRECT_URI = 'http://127.0.0.1:33419/cb'
const insecure = { [oauth.allowInsecureRequests]: true } as const

let t: OAuthE2E
let as: oauth.AuthorizationServer
let client: oauth.Client

beforeAll(async () => {
  t = await startOAuthE2E()
  t.github.addUser({ id: 1002, login: 'bob', name: 'Bob', emails: [{ email: 'bob@example.com', primary: true, verified: true }] })
  const create = await t.edge.api('POST', '/proxy/targets', { proxy_hostname: 'app.test', target_url: 'http://127.0.0.1:9' })
  expect(create.status).toBe(201)
  const auth = await t.edge.api('PUT', '/proxy/targets/app.test/auth', { auth_enabled: true, auth_required_users: ['alice'], oauth_mcp_users: ['alice'] })
  expect(auth.status).toBe(200)
  expect((await t.edge.api('POST', '/proxy/targets', { proxy_hostname: 'open.test', target_url: 'http://127.0.0.1:9' })).status).toBe(201)
  for (const hostname of ['app.localhost', '*.wild.test']) {
    await t.edge.createProxy(hostname, 'http://127.0.0.1:9')
    expect((await t.edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true, auth_required_users: ['alice'], oauth_mcp_users: ['alice'] })).status).toBe(200)
  }

  const issuer = new URL(t.issuer)
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
  const registered = await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', client_name: 'resource test' }, insecure)
  client = (await oauth.processDynamicClientRegistrationResponse(registered)) as oauth.Client
})
afterAll(() => t.stop())

async function tokenFor(resource: string) {
  const { final, verifier } = await authorize(resource, 'mcp', 'alice')
  const params = oauth.validateAuthResponse(as, client, final, 'st')
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, { ...insecure, additionalParameters: { resource } })
  return (await oauth.processAuthorizationCodeResponse(as, client, response)).access_token
}

async function authorize(resource: string, scope: string, login: string) {
  const verifier = oauth.generateRandomCodeVerifier()
  const url = new URL(as.authorization_endpoint!)
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    scope,
    resource,
  })) url.searchParams.set(name, value)
  const run = await driveBrowser(t, url, login)
  return { final: run.final, verifier }
}

describe('proxy resources', () => {
  test('an allowed user gets a token whose only audience is the proxy, with the proxy\'s scopes', async () => {
    const { final, verifier } = await authorize('https://app.test', 'mcp', 'alice')
    const params = oauth.validateAuthResponse(as, client, final, 'st')
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, { ...insecure, additionalParameters: { resource: 'https://app.test' } })
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response)
    const claims = decodeJwt(tokens.access_token)
    expect(claims.aud).toBe('https://app.test')
    expect(claims.scope).toBe('mcp')
    expect(claims.username).toBe('alice')
    // A token for the proxy is no token for the API (RFC 8707 §2: one audience).
    expect((await fetch(`${t.issuer}/system/info`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401)
  })

  test('a user outside the proxy\'s allowlist is refused with access_denied, even though the API would admit nobody else either', async () => {
    const { final } = await authorize('https://app.test', 'mcp', 'bob')
    expect(final.searchParams.get('error')).toBe('access_denied')
    expect(final.searchParams.get('iss')).toBe(t.issuer)
  })

  test('RFC 8707 §2: a proxy without auth, or an unknown host, is no resource → invalid_target', async () => {
    for (const resource of ['https://open.test', 'https://elsewhere.example']) {
      const { final } = await authorize(resource, 'mcp', 'alice')
      expect(final.searchParams.get('error')).toBe('invalid_target')
    }
  })

  test('a proxy reached on a non-default port: the token\'s audience is that origin, port included (https, or http for a loopback name)', async () => {
    expect(decodeJwt(await tokenFor('http://app.localhost:8080/mcp')).aud).toBe('http://app.localhost:8080')
    expect(decodeJwt(await tokenFor('https://app.test:8443')).aud).toBe('https://app.test:8443')
    expect(decodeJwt(await tokenFor('https://app.localhost:8443/')).aud).toBe('https://app.localhost:8443')
  })

  test('a name under a wildcard proxy is its own resource: a token for a.wild.test is not one for b.wild.test', async () => {
    const token = await tokenFor('https://a.wild.test/mcp')
    expect(decodeJwt(token).aud).toBe('https://a.wild.test')
    const verify = (audience: string) => verifyAccessToken(t.edge.server.keyRing, systemClock, token, { issuers: [t.issuer], audience })
    expect(await verify('https://a.wild.test')).toMatchObject({ ok: true })
    expect(await verify('https://b.wild.test')).toEqual({ ok: false, reason: 'claims' })
    expect(decodeJwt(await tokenFor('https://b.wild.test:8443')).aud).toBe('https://b.wild.test:8443')
  })

  test('RFC 8707 §2: plain http on a public name, or a name two labels under the wildcard, is no resource → invalid_target', async () => {
    for (const resource of ['http://app.test:8080', 'https://x.a.wild.test', 'https://wild.test']) {
      const { final } = await authorize(resource, 'mcp', 'alice')
      expect(final.searchParams.get('error')).toBe('invalid_target')
    }
  })
})
