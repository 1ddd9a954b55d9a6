/**
 * /proxy/targets/{h}/oauth-server and /proxy/targets/oauth-servers/configured (original-behaviour §3.4,
 * §4.8): a proxy in front of the authorization server narrows scopes_supported and adds RFC 8414 §2
 * fields on its host, and nothing else; the original's other overrides are refused with the reason.
 * The metadata the host serves is read through the edge, as a client reads it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { AppEvent } from '../../src/events/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { via } from '../support/edge-clients.ts'
import { tokenWith } from '../support/configured-edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(() => edge.stop())

const NONE = { oauth_server_scopes: null, oauth_server_custom_metadata: null }
const WELL_KNOWN = '/.well-known/oauth-authorization-server'

let counter = 0
/** A proxy whose target is the API, so its host serves the authorization server's metadata. */
async function newAsProxy(): Promise<string> {
  const hostname = `as${++counter}.example.com`
  await edge.createProxy(hostname, edge.server.apiUrl)
  return hostname
}
const path = (hostname: string) => `/proxy/targets/${hostname}/oauth-server`
const json = async (response: Response) => (await response.json()) as Record<string, unknown>
const descriptionOf = async (response: Response) => ((await response.json()) as { error_description: string }).error_description
const metadataOf = async (host: string) => json(await via('https')(edge, host, WELL_KNOWN))

describe('GET, PUT, POST and DELETE /proxy/targets/{hostname}/oauth-server', () => {
  test('PUT narrows the scopes and adds fields on that host only; the issuer and endpoints stay the server\'s; DELETE restores the defaults', async () => {
    const hostname = await newAsProxy()
    const other = await newAsProxy()
    expect(await json(await edge.api('GET', path(hostname)))).toEqual(NONE)
    const put = await edge.api('PUT', path(hostname), { oauth_server_scopes: ['mcp', 'user', 'mcp'], oauth_server_custom_metadata: { service_documentation: 'https://docs.example.com/mcp' } })
    expect(put.status).toBe(200)
    const expected = { oauth_server_scopes: ['mcp', 'user'], oauth_server_custom_metadata: { service_documentation: 'https://docs.example.com/mcp' } }
    expect(await json(put)).toEqual(expected)
    expect(await json(await edge.api('GET', path(hostname)))).toEqual(expected)

    const metadata = await metadataOf(hostname)
    // The server's own order, narrowed.
    expect(metadata.scopes_supported).toEqual(['user', 'mcp'])
    expect(metadata.service_documentation).toBe('https://docs.example.com/mcp')
    expect(metadata.issuer).toBe(`https://${hostname}`)
    expect(metadata.token_endpoint).toBe(`https://${hostname}/token`)
    expect((await metadataOf(other)).scopes_supported).toEqual(['admin', 'user', 'mcp'])

    // A field not given keeps its value; null removes one.
    expect(await json(await edge.api('PUT', path(hostname), { oauth_server_scopes: null }))).toEqual({ ...expected, oauth_server_scopes: null })
    expect((await metadataOf(hostname)).scopes_supported).toEqual(['admin', 'user', 'mcp'])

    const deleted = await edge.api('DELETE', path(hostname))
    expect(deleted.status).toBe(200)
    expect(await json(deleted)).toEqual(NONE)
    expect((await metadataOf(hostname)).service_documentation).toBeUndefined()
  })

  test("POST takes the original's body: scopes and custom_metadata, each applied when given", async () => {
    const hostname = await newAsProxy()
    expect(await json(await edge.api('POST', path(hostname), { scopes: ['mcp'] }))).toEqual({ ...NONE, oauth_server_scopes: ['mcp'] })
    expect(await json(await edge.api('POST', path(hostname), { custom_metadata: { op_policy_uri: 'https://example.com/policy' } }))).toEqual({
      oauth_server_scopes: ['mcp'],
      oauth_server_custom_metadata: { op_policy_uri: 'https://example.com/policy' },
    })
    expect((await metadataOf(hostname)).op_policy_uri).toBe('https://example.com/policy')
    // The same fields are on the proxy and in its auth settings.
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}/auth`))).toMatchObject({ oauth_server_scopes: ['mcp'] })
  })

  test("the original's other overrides → 400 naming the field and saying why; nothing changes", async () => {
    const hostname = await newAsProxy()
    await edge.api('PUT', path(hostname), { oauth_server_scopes: ['user'] })
    const refused: [string, unknown, string][] = [
      ['issuer', 'https://evil.example', 'RFC 8414 §3.3'],
      ['grant_types', ['implicit', 'client_credentials'], 'grants the token endpoint implements'],
      ['response_types', ['token'], 'authorization code flow'],
      ['token_auth_methods', ['private_key_jwt'], 'client authentication the token endpoint checks'],
      ['claims', ['email'], 'no ID tokens'],
      ['pkce_required', false, 'PKCE with S256 is always required'],
      ['pkce_required', true, 'PKCE with S256 is always required'],
      ['override_defaults', true, 'no master switch'],
    ]
    for (const [name, value, why] of refused) {
      for (const [method, field] of [['POST', name], ['PUT', `oauth_server_${name}`]] as const) {
        const response = await edge.api(method, path(hostname), { [field]: value, ...(method === 'POST' ? { scopes: ['mcp'] } : { oauth_server_scopes: ['mcp'] }) })
        expect({ method, field, status: response.status }).toEqual({ method, field, status: 400 })
        const description = await descriptionOf(response)
        expect(description).toStartWith(`field ${field}: cannot be set: `)
        expect(description).toContain(why)
      }
    }
    const bad: [string, Record<string, unknown>, string][] = [
      ['PUT', { oauth_server_scopes: ['root'] }, 'field oauth_server_scopes[0]:'],
      ['PUT', { oauth_server_scopes: [] }, 'field oauth_server_scopes:'],
      ['POST', { scopes: ['openid'] }, 'field scopes[0]:'],
      ['PUT', { oauth_server_custom_metadata: { token_endpoint: 'https://evil.example/token' } }, 'field oauth_server_custom_metadata.token_endpoint:'],
      ['PUT', { oauth_server_custom_metadata: { code_challenge_methods_supported: ['plain'] } }, 'field oauth_server_custom_metadata.code_challenge_methods_supported:'],
      ['POST', { custom_metadata: { require_pushed_authorization_requests: true } }, 'field custom_metadata.require_pushed_authorization_requests:'],
      ['POST', { custom_metadata: { mtls_endpoint_aliases: {} } }, 'field custom_metadata.mtls_endpoint_aliases:'],
      ['POST', { custom_metadata: ['x'] }, 'field custom_metadata: expected an object'],
      ['POST', { custom_metadata: { big: 'x'.repeat(9000) } }, 'field custom_metadata:'],
      ['PUT', { scopes: ['mcp'] }, 'field scopes: unknown field'],
      ['POST', { oauth_server_scopes: ['mcp'] }, 'field oauth_server_scopes: unknown field'],
      ['POST', { introspection: true }, 'field introspection: unknown field'],
    ]
    for (const [method, body, prefix] of bad) {
      const response = await edge.api(method, path(hostname), body)
      expect({ body, status: response.status }).toEqual({ body, status: 400 })
      expect(await descriptionOf(response)).toStartWith(prefix)
    }
    expect(await json(await edge.api('GET', path(hostname)))).toEqual({ ...NONE, oauth_server_scopes: ['user'] })
  })
})

describe('GET /proxy/targets/oauth-servers/configured', () => {
  test('lists the proxies with either override, by hostname; the literal path is not read as a hostname', async () => {
    const narrowed = await newAsProxy()
    const documented = await newAsProxy()
    const plain = await newAsProxy()
    await edge.api('PUT', path(narrowed), { oauth_server_scopes: ['mcp'] })
    await edge.api('POST', path(documented), { custom_metadata: { service_documentation: 'https://docs.example.com' } })
    const response = await edge.api('GET', '/proxy/targets/oauth-servers/configured')
    expect(response.status).toBe(200)
    const listed = (await response.json()) as (Record<string, unknown> & { proxy_hostname: string })[]
    const mine = listed.filter((entry) => [narrowed, documented, plain].includes(entry.proxy_hostname))
    expect(mine).toEqual([
      { proxy_hostname: narrowed, oauth_server_scopes: ['mcp'], oauth_server_custom_metadata: null },
      { proxy_hostname: documented, oauth_server_scopes: null, oauth_server_custom_metadata: { service_documentation: 'https://docs.example.com' } },
    ])
    expect(listed.map((entry) => entry.proxy_hostname)).toEqual(listed.map((entry) => entry.proxy_hostname).sort())
    await edge.api('DELETE', path(narrowed))
    const after = (await (await edge.api('GET', '/proxy/targets/oauth-servers/configured')).json()) as { proxy_hostname: string }[]
    expect(after.map((entry) => entry.proxy_hostname)).not.toContain(narrowed)
  })
})

describe('every oauth-server route', () => {
  const routes = (hostname: string): [string, string, unknown?][] => [
    ['GET', path(hostname)],
    ['PUT', path(hostname), { oauth_server_scopes: ['mcp'] }],
    ['POST', path(hostname), { scopes: ['mcp'] }],
    ['DELETE', path(hostname)],
  ]

  test('an unknown proxy → 404, an invalid hostname → 400 naming the path parameter', async () => {
    for (const [method, route, body] of routes('missing.example.com')) {
      expect({ method, status: (await edge.api(method, route, body)).status }).toEqual({ method, status: 404 })
    }
    for (const [method, route, body] of routes('bad_name!')) {
      const response = await edge.api(method, route, body)
      expect({ method, status: response.status }).toEqual({ method, status: 400 })
      expect(await descriptionOf(response)).toStartWith('path parameter hostname:')
    }
  })

  test('RFC 6750 §3.1: no token → 401; a user token reads (the list too) but a write → 403', async () => {
    const hostname = await newAsProxy()
    const userToken = await tokenWith(edge, ['user'])
    for (const [method, route, body] of [...routes(hostname), ['GET', '/proxy/targets/oauth-servers/configured'] as [string, string]]) {
      const init = { method, body: body === undefined ? undefined : JSON.stringify(body) }
      const asUser = await fetch(`${edge.server.apiUrl}${route}`, { ...init, headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' } })
      expect({ method, route, status: asUser.status }).toEqual({ method, route, status: method === 'GET' ? 200 : 403 })
      const anonymous = await fetch(`${edge.server.apiUrl}${route}`, { ...init, headers: { 'content-type': 'application/json' } })
      expect({ method, route, status: anonymous.status }).toEqual({ method, route, status: 401 })
    }
    expect(await json(await edge.api('GET', path(hostname)))).toEqual(NONE)
  })

  test('every change is announced as proxy_updated for that hostname', async () => {
    const hostname = await newAsProxy()
    for (const [method, route, body] of routes(hostname)) {
      const seen: AppEvent[] = []
      const unsubscribe = edge.server.bus.subscribe((event) => void seen.push(event))
      await edge.api(method, route, body)
      unsubscribe()
      expect({ method, seen }).toEqual({ method, seen: method === 'GET' ? [] : [{ type: 'proxy_updated', hostname }] })
    }
  })
})
