/**
 * Issue #11 acceptance: an MCP client that just connects. The MCP TypeScript SDK's client
 * (StreamableHTTPClientTransport with an OAuthClientProvider whose "browser" follows the consent page through
 * its own form and the GitHub fake) reaches an MCP SDK server through an auth-enabled proxy, with nobody
 * stepping in: the first 401 and its challenge (RFC 6750 §3, RFC 9728 §5.1), the proxy's protected-resource
 * metadata (RFC 9728 §3), the authorization server's metadata (RFC 8414), dynamic registration (RFC 7591),
 * consent, GitHub, the code exchange with the resource (RFC 8707 §2) and PKCE (RFC 7636), the retry with the
 * token, tools/list and tools/call, server notifications on both SSE streams, and, once the short-lived
 * access token has expired, a 401 (invalid_token), the refresh grant (RFC 6749 §6) and the retry, again
 * without anybody. Once over HTTP on a loopback name, once over HTTPS with the proxy's self-signed
 * certificate, and once with a resource path (resource_endpoint /mcp: the path-suffixed metadata URL).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import { ANNOUNCE_TOOL, MCP_PATH, startMcpServer, type McpFixture } from '../fixtures/mcp-server.ts'
import { BrowserDrivenProvider, connectWithOAuth, recordingFetch, type ConnectedClient, type FetchRecord } from '../support/mcp-oauth-client.ts'
import { startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

/** Short enough to wait out, long enough for the first calls to finish with the first token. */
const ACCESS_TOKEN_LIFETIME_SEC = 3
const METADATA_PATH = '/.well-known/oauth-protected-resource'

let t: OAuthE2E
let mcp: McpFixture

beforeAll(async () => {
  t = await startOAuthE2E({ OAUTH_ACCESS_TOKEN_LIFETIME: `${ACCESS_TOKEN_LIFETIME_SEC}s` })
  mcp = startMcpServer()
  // The resource is the whole origin on app.localhost, and <origin>/mcp on tools.localhost.
  for (const [hostname, resourceEndpoint] of [['app.localhost', '/'], ['tools.localhost', MCP_PATH]] as const) {
    await t.edge.createProxy(hostname, mcp.url)
    const auth = await t.edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true, oauth_mcp_users: ['alice'] })
    expect(auth.status).toBe(200)
    const resource = await t.edge.api('PUT', `/proxy/targets/${hostname}/resource`, { resource_endpoint: resourceEndpoint })
    expect(resource.status).toBe(200)
  }
})
afterAll(async () => {
  await mcp?.stop()
  await t?.stop()
})

interface Run {
  readonly name: string
  readonly scheme: 'http' | 'https'
  readonly hostname: string
  /** The proxy's resource_endpoint. */
  readonly resourcePath: '/' | '/mcp'
}

const RUNS: readonly Run[] = [
  { name: 'HTTP on a loopback name', scheme: 'http', hostname: 'app.localhost', resourcePath: '/' },
  { name: 'HTTPS with the proxy\'s self-signed certificate', scheme: 'https', hostname: 'app.localhost', resourcePath: '/' },
  { name: 'HTTP with resource_endpoint /mcp (path-suffixed metadata URL)', scheme: 'http', hostname: 'tools.localhost', resourcePath: '/mcp' },
]

const originOf = (run: Run) => `${run.scheme}://${run.hostname}:${run.scheme === 'http' ? t.edge.httpPort : t.edge.httpsPort}`

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(20)
  }
}

const textOf = (result: Awaited<ReturnType<ConnectedClient['client']['callTool']>>) =>
  (result.content as { type: string; text?: string }[]).map((part) => part.text ?? '').join('')

const indexOf = (log: readonly FetchRecord[], predicate: (record: FetchRecord) => boolean, from = 0) => {
  const at = log.slice(from).findIndex(predicate)
  return at === -1 ? -1 : at + from
}

describe('the MCP SDK client through an auth-enabled proxy, with no manual step', () => {
  for (const run of RUNS) {
    test(`${run.name}: 401 → PRM → AS metadata → registration → consent → GitHub → token → tools → SSE notifications → expiry → refresh → retry`, async () => {
      const origin = originOf(run)
      const serverUrl = new URL(`${origin}${MCP_PATH}`)
      const resource = run.resourcePath === '/' ? origin : `${origin}${run.resourcePath}`
      const metadataUrl = `${origin}${METADATA_PATH}${run.resourcePath === '/' ? '' : run.resourcePath}`
      const { fetch: fetchFn, log } = recordingFetch()
      const provider = new BrowserDrivenProvider(t, { login: 'alice', redirectUrl: 'http://127.0.0.1:43118/oauth/callback', clientName: `MCP SDK via ${run.hostname}` })

      const connected = await connectWithOAuth(serverUrl, provider, fetchFn)
      const { client, transport, notifications } = connected
      try {
        // The first request met the proxy's challenge, pointing at the proxy's own metadata (RFC 9728 §5.1).
        expect(log[0]).toMatchObject({ method: 'POST', url: serverUrl.href, status: 401 })
        expect(log[0]!.challenge).toContain(`resource_metadata="${metadataUrl}"`)
        expect(log[0]!.challenge).toContain('scope="mcp"')
        // The SDK read that metadata (not a fallback), then the authorization server's, then registered.
        const prm = indexOf(log, (r) => r.url === metadataUrl)
        expect(log[prm]?.status).toBe(200)
        const asMetadata = indexOf(log, (r) => r.url === `${t.issuer}/.well-known/oauth-authorization-server`, prm)
        expect(log[asMetadata]?.status).toBe(200)
        const registration = indexOf(log, (r) => r.method === 'POST' && r.url === `${t.issuer}/register`, asMetadata)
        expect(log[registration]?.status).toBe(201)

        // One trip through the browser, for this proxy's resource and the scope the challenge named.
        expect(provider.authorizationUrls).toHaveLength(1)
        const authorization = provider.authorizationUrls[0]!
        expect(authorization.origin + authorization.pathname).toBe(`${t.issuer}/authorize`)
        expect(authorization.searchParams.get('resource')).toBe(resource)
        expect(authorization.searchParams.get('scope')).toBe('mcp')
        expect(authorization.searchParams.get('code_challenge_method')).toBe('S256')
        expect(provider.consentHtml).toContain(`MCP SDK via ${run.hostname}`)

        // The code exchange, then the retried initialize with the token.
        const exchange = indexOf(log, (r) => r.grantType === 'authorization_code', registration)
        expect(log[exchange]).toMatchObject({ url: `${t.issuer}/token`, status: 200 })
        expect(indexOf(log, (r) => r.method === 'POST' && r.url === serverUrl.href && r.status === 200, exchange)).toBeGreaterThan(exchange)
        const first = provider.saved!
        expect(first.refresh_token).toBeString()
        // RFC 8707 §2: the token is for the proxy the client used, and (RFC 9068 §3) only it: its aud is the
        // resource its metadata advertises (AS-04: that resource alone), which is what the edge checks.
        expect(decodeJwt(first.access_token)).toMatchObject({ aud: resource, scope: 'mcp', username: 'alice' })

        // MCP itself: the tool list and a call, and the standalone GET stream the SDK opened after initialize.
        expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([ANNOUNCE_TOOL])
        await waitFor('the standalone SSE stream', () => mcp.openStandaloneStreams(transport.sessionId!) === 1)
        expect(textOf(await client.callTool({ name: ANNOUNCE_TOOL }))).toStartWith('announced ')
        // A logging message on the POST's SSE stream, tools/list_changed on the standalone one.
        await waitFor('both notifications', () => notifications.length >= 2)
        expect(notifications.map((n) => n.method).sort()).toEqual(['notifications/message', 'notifications/tools/list_changed'])

        // The backend saw who the user is, set by the proxy, and not the token (auth_pass_authorization is off).
        const reached = mcp.seen.filter((r) => r.headers['mcp-session-id'] === transport.sessionId)
        expect(reached.length).toBeGreaterThan(0)
        for (const request of reached) {
          expect(request.headers['x-auth-user']).toBe('alice')
          expect(request.headers['authorization']).toBeUndefined()
        }

        // The access token expires; the next call meets 401 invalid_token, refreshes, and is retried.
        const expiresAtMs = decodeJwt(first.access_token).exp! * 1000
        expect(expiresAtMs - Date.now()).toBeLessThanOrEqual(ACCESS_TOKEN_LIFETIME_SEC * 1000)
        await Bun.sleep(Math.max(0, expiresAtMs - Date.now()) + 1100)
        const beforeRefresh = log.length
        expect(textOf(await client.callTool({ name: ANNOUNCE_TOOL }))).toStartWith('announced ')

        const expired = indexOf(log, (r) => r.method === 'POST' && r.url === serverUrl.href, beforeRefresh)
        expect(log[expired]!.status).toBe(401)
        expect(log[expired]!.challenge).toContain('error="invalid_token"')
        const refresh = indexOf(log, (r) => r.grantType === 'refresh_token', expired)
        expect(log[refresh]).toMatchObject({ url: `${t.issuer}/token`, status: 200 })
        expect(indexOf(log, (r) => r.method === 'POST' && r.url === serverUrl.href && r.status === 200, refresh)).toBeGreaterThan(refresh)
        // No second trip through the browser, nothing dropped, and a new pair (RFC 9700 §4.14.2: the refresh token rotates).
        expect(provider.authorizationUrls).toHaveLength(1)
        expect(provider.invalidations).toEqual([])
        const second = provider.saved!
        expect(second.access_token).not.toBe(first.access_token)
        expect(second.refresh_token).not.toBe(first.refresh_token)
        expect(decodeJwt(second.access_token)).toMatchObject({ aud: resource, scope: 'mcp', username: 'alice' })
        // The standalone stream outlived the first token, and carries the second call's notification too.
        await waitFor('the second call\'s notifications', () => notifications.length >= 4)
        expect(notifications.filter((n) => n.method === 'notifications/tools/list_changed')).toHaveLength(2)
        expect(connected.transportErrors).toEqual([])
      } finally {
        await client.close()
      }
    }, 30_000)
  }

  test('RFC 8707 §2, RFC 6750 §3.1: the token the SDK got for http://app.localhost:PORT opens no other origin (the same proxy over HTTPS, another proxy) → 401 invalid_token', async () => {
    const { fetch: fetchFn } = recordingFetch()
    const provider = new BrowserDrivenProvider(t, { login: 'alice', redirectUrl: 'http://127.0.0.1:43118/oauth/callback', clientName: 'MCP SDK audience check' })
    const http = originOf(RUNS[0]!)
    const { client } = await connectWithOAuth(new URL(`${http}${MCP_PATH}`), provider, fetchFn)
    await client.close()
    const token = provider.saved!.access_token
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })
    const post = (origin: string) =>
      fetchFn(`${origin}${MCP_PATH}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: initialize })

    const atHome = await post(http)
    expect(atHome.status).toBe(200)
    await atHome.body?.cancel()
    for (const origin of [originOf(RUNS[1]!), originOf(RUNS[2]!)]) {
      const elsewhere = await post(origin)
      expect(elsewhere.status).toBe(401)
      expect(elsewhere.headers.get('www-authenticate')).toContain('error="invalid_token"')
      await elsewhere.body?.cancel()
    }
  })
})
