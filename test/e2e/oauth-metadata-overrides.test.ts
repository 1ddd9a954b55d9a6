/**
 * Original §4.8 (per-proxy oauth_server_* settings): a proxy in front of the authorization server may
 * narrow the advertised scopes and add RFC 8414 §2 fields; it can never change the issuer or endpoints.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { via } from '../support/edge-clients.ts'

const WELL_KNOWN = '/.well-known/oauth-authorization-server'
let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
  await edge.createProxy('mcp-auth.test', edge.server.apiUrl)
  await edge.createProxy('plain-auth.test', edge.server.apiUrl)
})
afterAll(() => edge.stop())

const metadataOf = async (host: string) => (await (await via('https')(edge, host, WELL_KNOWN)).json()) as Record<string, unknown>

test('scopes narrow and extra fields appear on that host only; the issuer and endpoints stay ours', async () => {
  const put = await edge.api('PUT', '/proxy/targets/mcp-auth.test/auth', {
    oauth_server_scopes: ['mcp'],
    oauth_server_custom_metadata: { service_documentation: 'https://docs.example/mcp' },
  })
  expect(put.status).toBe(200)
  const narrowed = await metadataOf('mcp-auth.test')
  expect(narrowed.scopes_supported).toEqual(['mcp'])
  expect(narrowed.service_documentation).toBe('https://docs.example/mcp')
  expect(narrowed.issuer).toBe('https://mcp-auth.test')
  expect(narrowed.token_endpoint).toBe('https://mcp-auth.test/token')
  expect((await metadataOf('plain-auth.test')).scopes_supported).toEqual(['admin', 'user', 'mcp'])
})

test('bad overrides are refused with the field named, and nothing changes', async () => {
  for (const [body, field] of [
    [{ oauth_server_scopes: ['root'] }, 'oauth_server_scopes'],
    [{ oauth_server_scopes: [] }, 'oauth_server_scopes'],
    [{ oauth_server_custom_metadata: { 'Bad-Name': 1 } }, 'oauth_server_custom_metadata'],
    [{ oauth_server_custom_metadata: { big: 'x'.repeat(9000) } }, 'oauth_server_custom_metadata'],
    [{ oauth_server_custom_metadata: { issuer: 'https://evil.example' } }, 'oauth_server_custom_metadata'],
    [{ oauth_server_custom_metadata: { token_endpoint: 'https://evil.example/token' } }, 'oauth_server_custom_metadata'],
    [{ oauth_server_custom_metadata: { grant_types_supported: ['implicit'] } }, 'oauth_server_custom_metadata'],
  ] as const) {
    const response = await edge.api('PUT', '/proxy/targets/plain-auth.test/auth', body)
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error_description: string }).error_description).toContain(field)
  }
  expect((await metadataOf('plain-auth.test')).scopes_supported).toEqual(['admin', 'user', 'mcp'])
})
