/**
 * A strict third-party client against the real server (issue #4 acceptance: "a standards client works
 * end to end"): oauth4webapi discovers the issuer (RFC 8414, exact issuer), registers (RFC 7591), runs
 * the code flow with PKCE S256 through consent and the GitHub fake, validates `iss` (RFC 9207), redeems
 * the code, calls the API, refreshes, revokes (RFC 7009) and introspects (RFC 7662).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as oauth from 'oauth4webapi'
import { driveBrowser, startOAuthE2E, systemInfo, type OAuthE2E } from '../support/oauth-e2e.ts'

const REDIRECT_URI = 'http://127.0.0.1:33418/cb'
const insecure = { [oauth.allowInsecureRequests]: true } as const

let t: OAuthE2E
let as: oauth.AuthorizationServer

beforeAll(async () => {
  t = await startOAuthE2E()
})
afterAll(() => t.stop())

/** Authorization URL with PKCE S256 and state → browser → validated callback parameters → token response. */
async function codeFlow(client: oauth.Client, clientAuth: oauth.ClientAuth) {
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint!)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('client_id', client.client_id)
  url.searchParams.set('redirect_uri', REDIRECT_URI)
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', state)
  url.searchParams.set('scope', 'admin')

  const run = await driveBrowser(t, url)
  expect(run.final.origin + run.final.pathname).toBe(REDIRECT_URI)
  expect(run.final.searchParams.get('iss')).toBe(t.issuer)
  // Throws unless iss matches the discovered issuer and state matches ours.
  const params = oauth.validateAuthResponse(as, client, run.final, state)
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT_URI, verifier, insecure)
  return oauth.processAuthorizationCodeResponse(as, client, response)
}

async function register(metadata: Partial<oauth.Client>): Promise<oauth.Client> {
  const response = await oauth.dynamicClientRegistrationRequest(as, metadata, insecure)
  expect(response.status).toBe(201)
  return (await oauth.processDynamicClientRegistrationResponse(response)) as oauth.Client
}

describe('oauth4webapi against the authorization server', () => {
  test('discovery: processDiscoveryResponse accepts the metadata for the exact issuer', async () => {
    const issuer = new URL(t.issuer)
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure })
    as = await oauth.processDiscoveryResponse(issuer, response)
    expect(as.issuer).toBe(t.issuer)
    expect(as.code_challenge_methods_supported).toEqual(['S256'])
    expect(as.authorization_response_iss_parameter_supported).toBe(true)
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'introspection_endpoint'] as const) {
      expect(as[endpoint]).toStartWith(`${t.issuer}/`)
    }
  })

  test('public client: register, code + PKCE, API call, refresh (rotated), revoke the refresh token', async () => {
    const client = await register({
      client_name: 'oauth4webapi public',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })
    expect(client.client_id).toBeString()
    expect(client.client_secret).toBeUndefined()

    const tokens = await codeFlow(client, oauth.None())
    expect(tokens.token_type.toLowerCase()).toBe('bearer')
    expect(tokens.access_token).toBeString()
    expect(tokens.refresh_token).toBeString()
    expect(tokens.scope).toBe('admin')
    expect((await systemInfo(t, tokens.access_token)).status).toBe(200)

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    )
    expect(refreshed.access_token).not.toBe(tokens.access_token)
    expect(refreshed.refresh_token).toBeString()
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    expect((await systemInfo(t, refreshed.access_token)).status).toBe(200)

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure))
    // The revoked refresh token no longer refreshes.
    const again = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure)
    const error = await oauth.processRefreshTokenResponse(as, client, again).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(oauth.ResponseBodyError)
    expect((error as oauth.ResponseBodyError).error).toBe('invalid_grant')
  })

  test('confidential client (client_secret_basic): code flow, introspection active, revoke, introspection inactive', async () => {
    const client = await register({
      client_name: 'oauth4webapi confidential',
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })
    expect(client.client_secret).toBeString()
    const auth = oauth.ClientSecretBasic(client.client_secret as string)

    const tokens = await codeFlow(client, auth)
    expect((await systemInfo(t, tokens.access_token)).status).toBe(200)

    const before = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure))
    expect(before.active).toBe(true)
    expect(before.client_id).toBe(client.client_id)
    expect(before.scope).toBe('admin')

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure))

    const after = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, tokens.access_token, insecure))
    expect(after.active).toBe(false)
    expect((await systemInfo(t, tokens.access_token)).status).toBe(401)
  })
})
