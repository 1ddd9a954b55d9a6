/**
 * The MCP TypeScript SDK's client (issue #4 acceptance: "the MCP SDK client works end to end"): its `auth()`
 * with an in-memory OAuthClientProvider discovers the authorization server, registers dynamically (RFC 7591),
 * sends the user to /authorize with PKCE S256 (the test is the browser: consent form, GitHub fake,
 * /callback), and redeems the code; the token it saves opens the API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { driveBrowser, startOAuthE2E, systemInfo, type BrowserRun, type OAuthE2E } from '../support/oauth-e2e.ts'

const REDIRECT_URL = 'http://127.0.0.1:43117/oauth/callback'

class MemoryProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  verifier: string | undefined
  authorizationUrls: URL[] = []
  readonly stateValue = crypto.randomUUID()

  get redirectUrl() {
    return REDIRECT_URL
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP SDK e2e',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }
  state() {
    return this.stateValue
  }
  clientInformation() {
    return this.client
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url)
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    if (this.verifier === undefined) throw new Error('no code verifier saved')
    return this.verifier
  }
}

let t: OAuthE2E

beforeAll(async () => {
  t = await startOAuthE2E()
})
afterAll(() => t.stop())

describe('the MCP SDK client auth() against the authorization server', () => {
  test('discovery → registration → authorization (consent, GitHub) → token exchange → the API accepts the token', async () => {
    const provider = new MemoryProvider()
    const requests: { method: string; url: string; status: number }[] = []
    const fetchFn = async (input: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(input, init)
      const url = input instanceof Request ? input.url : String(input)
      requests.push({ method: init?.method ?? (input instanceof Request ? input.method : 'GET'), url, status: response.status })
      return response
    }

    // First call: discovery, dynamic registration, then the redirect to /authorize.
    expect(await auth(provider, { serverUrl: t.issuer, fetchFn })).toBe('REDIRECT')

    // Discovery found our metadata (no protected-resource metadata exists: the SDK falls back to the server URL).
    const asMetadata = requests.find((r) => r.url === `${t.issuer}/.well-known/oauth-authorization-server`)
    expect(asMetadata?.status).toBe(200)
    // Registration happened at our registration_endpoint.
    const registration = requests.find((r) => r.method === 'POST' && r.url === `${t.issuer}/register`)
    expect(registration?.status).toBe(201)
    expect(provider.client?.client_id).toBeString()
    expect(provider.verifier).toBeString()

    expect(provider.authorizationUrls).toHaveLength(1)
    const authorizationUrl = provider.authorizationUrls[0]!
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${t.issuer}/authorize`)
    expect(authorizationUrl.searchParams.get('client_id')).toBe(provider.client!.client_id)
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(REDIRECT_URL)

    // The user: consent page (approved through its own form) → GitHub → /callback → back to the client.
    const run: BrowserRun = await driveBrowser(t, authorizationUrl)
    expect(run.consentHtml).toContain('MCP SDK e2e')
    expect(run.final.origin + run.final.pathname).toBe(REDIRECT_URL)
    expect(run.final.searchParams.get('state')).toBe(provider.stateValue)
    expect(run.final.searchParams.get('iss')).toBe(t.issuer)
    const code = run.final.searchParams.get('code')
    expect(code).toBeString()

    // Second call: the token exchange.
    expect(await auth(provider, { serverUrl: t.issuer, authorizationCode: code!, fetchFn })).toBe('AUTHORIZED')
    const token = requests.find((r) => r.method === 'POST' && r.url === `${t.issuer}/token`)
    expect(token?.status).toBe(200)

    const tokens = provider.saved!
    expect(tokens.access_token).toBeString()
    expect(tokens.token_type.toLowerCase()).toBe('bearer')
    expect(tokens.refresh_token).toBeString()
    const info = await systemInfo(t, tokens.access_token)
    expect(info.status).toBe(200)

    // A third call with tokens saved refreshes them (rotated refresh token) and keeps them working.
    expect(await auth(provider, { serverUrl: t.issuer, fetchFn })).toBe('AUTHORIZED')
    expect(provider.saved!.refresh_token).not.toBe(tokens.refresh_token)
    expect((await systemInfo(t, provider.saved!.access_token)).status).toBe(200)
  })
})
