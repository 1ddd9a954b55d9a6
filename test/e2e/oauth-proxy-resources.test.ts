/**
 * RFC 8707: a token is for exactly one resource. An auth-enabled proxy is a resource of its own, whose
 * allowlist and scope lists decide who gets in (DESIGN §6); a proxy without auth is no resource.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import * as oauth from 'oauth4webapi'
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

  const issuer = new URL(t.issuer)
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
  const registered = await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', client_name: 'resource test' }, insecure)
  client = (await oauth.processDynamicClientRegistrationResponse(registered)) as oauth.Client
})
afterAll(() => t.stop())

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
})
