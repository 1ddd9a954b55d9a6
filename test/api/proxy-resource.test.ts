/**
 * /proxy/targets/{h}/resource: a proxy's RFC 9728 protected-resource settings. PUT applies the fields
 * given, POST takes the original's body (original-behaviour §3.4) and maps it, refusing what cannot be
 * honoured (RFC 6750 §2.3: no token in the query), DELETE resets the defaults; admin writes, user
 * reads, every change announced as proxy_updated.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { AppEvent } from '../../src/events/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(() => edge.stop())

const DEFAULTS = { resource_endpoint: '/', resource_scopes: null, resource_documentation: null, resource_custom_metadata: null }

let counter = 0
async function newProxy(extra: Record<string, unknown> = {}): Promise<string> {
  const hostname = `res${++counter}.example.com`
  await edge.createProxy(hostname, 'http://127.0.0.1:9', extra)
  return hostname
}
const json = async (response: Response) => (await response.json()) as Record<string, unknown>
const descriptionOf = async (response: Response) => ((await response.json()) as { error_description: string }).error_description
const path = (hostname: string) => `/proxy/targets/${hostname}/resource`

async function eventsDuring(work: () => Promise<unknown>): Promise<AppEvent[]> {
  const seen: AppEvent[] = []
  const unsubscribe = edge.server.bus.subscribe((event) => void seen.push(event))
  try {
    await work()
    return seen
  } finally {
    unsubscribe()
  }
}

/** Each body → 400 whose description starts with its prefix; then the settings are still `expected`. */
async function expectRefused(method: 'PUT' | 'POST', hostname: string, cases: [Record<string, unknown>, string][], expected: Record<string, unknown>) {
  for (const [body, prefix] of cases) {
    const response = await edge.api(method, path(hostname), body)
    expect({ body, status: response.status }).toEqual({ body, status: 400 })
    expect({ body, description: await descriptionOf(response) }).toEqual({ body, description: expect.stringMatching(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)) })
  }
  expect(await json(await edge.api('GET', path(hostname)))).toEqual(expected)
}

describe('GET and PUT /proxy/targets/{hostname}/resource', () => {
  test('a new proxy is its own origin as resource, with nothing extra in its metadata', async () => {
    const hostname = await newProxy()
    const response = await edge.api('GET', path(hostname))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual(DEFAULTS)
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}`))).toMatchObject(DEFAULTS)
  })

  test('PUT applies the fields given and keeps the others; null empties a nullable field', async () => {
    const hostname = await newProxy()
    const first = await edge.api('PUT', path(hostname), {
      resource_endpoint: '/mcp',
      resource_scopes: ['mcp', 'user', 'mcp'],
      resource_documentation: 'https://docs.example.com/mcp',
      resource_custom_metadata: { resource_name: 'Example MCP', resource_policy_uri: 'https://example.com/policy' },
    })
    expect(first.status).toBe(200)
    const expected = {
      resource_endpoint: '/mcp',
      resource_scopes: ['mcp', 'user'],
      resource_documentation: 'https://docs.example.com/mcp',
      resource_custom_metadata: { resource_name: 'Example MCP', resource_policy_uri: 'https://example.com/policy' },
    }
    expect(await json(first)).toEqual(expected)
    expect(await json(await edge.api('PUT', path(hostname), { resource_scopes: null }))).toEqual({ ...expected, resource_scopes: null })
    expect(await json(await edge.api('PUT', path(hostname), { resource_documentation: null, resource_custom_metadata: null }))).toEqual({ ...DEFAULTS, resource_endpoint: '/mcp' })
    // The same fields through the proxy itself.
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}`))).toMatchObject({ resource_endpoint: '/mcp', config_version: 4 })
  })

  test('bad input → 400 naming the field, and nothing changes', async () => {
    const hostname = await newProxy()
    await edge.api('PUT', path(hostname), { resource_endpoint: '/api' })
    const cases: [Record<string, unknown>, string][] = [
      // RFC 8707 §2: the resource is an absolute URI without a fragment; the path is a plain one.
      ...['', 'mcp', '/mcp/', '/a//b', '/a?b', '/a#b', '/../x', '/a/./b', '/a b', '/caf\u00e9', `/${'a'.repeat(256)}`].map(
        (endpoint): [Record<string, unknown>, string] => [{ resource_endpoint: endpoint }, 'field resource_endpoint:'],
      ),
      [{ resource_endpoint: null }, 'field resource_endpoint:'],
      [{ resource_scopes: ['read'] }, 'field resource_scopes[0]:'],
      [{ resource_scopes: [] }, 'field resource_scopes:'],
      [{ resource_scopes: 'mcp' }, 'field resource_scopes:'],
      ...['docs', 'ftp://docs.example.com', 'https://user:pw@docs.example.com', 'https://docs.example.com/#top', ' https://docs.example.com', `https://docs.example.com/${'a'.repeat(2048)}`].map(
        (url): [Record<string, unknown>, string] => [{ resource_documentation: url }, 'field resource_documentation:'],
      ),
      // RFC 9728 §2: the edge fills these in, or clients would act on them.
      ...['resource', 'authorization_servers', 'bearer_methods_supported', 'scopes_supported', 'jwks_uri', 'resource_documentation', 'dpop_bound_access_tokens_required', 'tls_client_certificate_bound_access_tokens'].map(
        (name): [Record<string, unknown>, string] => [{ resource_custom_metadata: { [name]: 'x' } }, `field resource_custom_metadata.${name}:`],
      ),
      [{ resource_custom_metadata: { 'Resource-Name': 'x' } }, 'field resource_custom_metadata.Resource-Name:'],
      [{ resource_custom_metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, i])) }, 'field resource_custom_metadata:'],
      [{ resource_custom_metadata: { big: 'x'.repeat(8200) } }, 'field resource_custom_metadata:'],
      [{ resource_custom_metadata: ['resource_name'] }, 'field resource_custom_metadata: expected an object'],
      // PUT takes this API's names; the original's are POST's.
      [{ endpoint: '/mcp' }, 'field endpoint: unknown field'],
      [{ auth_enabled: true }, 'field auth_enabled: unknown field'],
    ]
    await expectRefused('PUT', hostname, cases, { ...DEFAULTS, resource_endpoint: '/api' })
  })
})

describe("POST /proxy/targets/{hostname}/resource (the original's body)", () => {
  test('endpoint, scopes, documentation_suffix, server_info and custom_metadata map to the resource fields', async () => {
    const hostname = await newProxy()
    const response = await edge.api('POST', path(hostname), {
      endpoint: '/mcp',
      scopes: ['mcp'],
      documentation_suffix: '/docs',
      server_info: { resource_name: 'from server_info', server_version: '1.2' },
      custom_metadata: { resource_name: 'Example MCP', resource_tos_uri: 'https://example.com/tos' },
      bearer_methods: ['header'],
    })
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      resource_endpoint: '/mcp',
      resource_scopes: ['mcp'],
      // Original §4.9: resource + suffix, the resource being the origin followed by the endpoint.
      resource_documentation: `https://${hostname}/mcp/docs`,
      // Original §4.9: both merged at the top level, custom_metadata last.
      resource_custom_metadata: { resource_name: 'Example MCP', server_version: '1.2', resource_tos_uri: 'https://example.com/tos' },
    })
  })

  test('only the fields given change (the original overwrote every field); the suffix follows the stored endpoint and the HTTP-only origin', async () => {
    const hostname = await newProxy({ enable_https: false })
    await edge.api('PUT', path(hostname), { resource_endpoint: '/api/v1', resource_scopes: ['user'] })
    const response = await edge.api('POST', path(hostname), { documentation_suffix: '/help' })
    expect(await json(response)).toEqual({ ...DEFAULTS, resource_endpoint: '/api/v1', resource_scopes: ['user'], resource_documentation: `http://${hostname}/api/v1/help` })
    const root = await newProxy()
    expect(await json(await edge.api('POST', path(root), { documentation_suffix: '/docs', server_info: { resource_name: 'Root' } }))).toEqual({
      ...DEFAULTS,
      resource_documentation: `https://${root}/docs`,
      resource_custom_metadata: { resource_name: 'Root' },
    })
    // null clears what it maps to.
    expect(await json(await edge.api('POST', path(root), { documentation_suffix: null, custom_metadata: null }))).toEqual(DEFAULTS)
  })

  test('RFC 6750 §2.3 and RFC 9728 §2: bearer_methods other than ["header"] → 400 naming bearer_methods; nothing changes', async () => {
    const hostname = await newProxy()
    const cases: [Record<string, unknown>, string][] = [['query'], ['body'], ['header', 'query'], [], 'header', [7]].map((methods) => [
      { endpoint: '/mcp', bearer_methods: methods },
      'field bearer_methods',
    ])
    await expectRefused('POST', hostname, cases, DEFAULTS)
    const response = await edge.api('POST', path(hostname), { bearer_methods: ['header', 'query'] })
    const description = await descriptionOf(response)
    expect(description).toContain('RFC 6750 §2.3')
    expect(description).toContain('RFC 9728 §2')
  })

  test('fields the original ignored, scopes outside admin/user/mcp and bad values → 400 naming the field; nothing changes', async () => {
    const hostname = await newProxy()
    const cases: [Record<string, unknown>, string][] = [
      [{ stateful: true }, 'field stateful: not supported'],
      [{ versions: ['2025-06-18'] }, 'field versions: not supported'],
      [{ override_backend: false }, 'field override_backend: not supported'],
      [{ hacker_one_research_header: 'me' }, 'field hacker_one_research_header: not supported here: set the response header with custom_response_headers'],
      // The original's default scopes: not scopes this server issues.
      [{ scopes: ['read', 'write'] }, 'field scopes[0]:'],
      [{ endpoint: 'api' }, 'field endpoint:'],
      [{ documentation_suffix: 'docs' }, 'field documentation_suffix:'],
      [{ documentation_suffix: '/../admin' }, 'field documentation_suffix:'],
      [{ custom_metadata: { resource: 'https://evil.example' } }, 'field custom_metadata.resource:'],
      [{ server_info: { authorization_servers: ['https://evil.example'] } }, 'field server_info.authorization_servers:'],
      [{ server_info: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, i])), custom_metadata: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, i])) }, 'field custom_metadata: with server_info'],
      [{ resource_endpoint: '/mcp' }, 'field resource_endpoint: unknown field'],
    ]
    await expectRefused('POST', hostname, cases, DEFAULTS)
  })

  test('a wildcard proxy has no single origin: documentation_suffix → 400 naming it', async () => {
    await edge.createProxy('*.wild-res.example.com', 'http://127.0.0.1:9')
    const response = await edge.api('POST', path('*.wild-res.example.com'), { documentation_suffix: '/docs' })
    expect(response.status).toBe(400)
    expect(await descriptionOf(response)).toStartWith('field documentation_suffix: a wildcard proxy')
    expect(await json(await edge.api('POST', path('*.wild-res.example.com'), { endpoint: '/mcp' }))).toEqual({ ...DEFAULTS, resource_endpoint: '/mcp' })
  })
})

describe('DELETE /proxy/targets/{hostname}/resource', () => {
  test('resets every resource field to its default and keeps the rest of the proxy', async () => {
    const hostname = await newProxy({ auth_enabled: true })
    await edge.api('PUT', path(hostname), { resource_endpoint: '/mcp', resource_scopes: ['mcp'], resource_documentation: 'https://d.example.com', resource_custom_metadata: { resource_name: 'x' } })
    const response = await edge.api('DELETE', path(hostname))
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual(DEFAULTS)
    expect(await json(await edge.api('GET', `/proxy/targets/${hostname}`))).toMatchObject({ ...DEFAULTS, auth_enabled: true })
  })
})

describe('every resource route', () => {
  const routes = (hostname: string): [string, string, unknown?][] => [
    ['GET', path(hostname)],
    ['PUT', path(hostname), { resource_endpoint: '/mcp' }],
    ['POST', path(hostname), { endpoint: '/mcp' }],
    ['DELETE', path(hostname)],
  ]

  test('an unknown proxy → 404, an invalid hostname → 400 naming the path parameter', async () => {
    for (const [method, route, body] of routes('missing.example.com')) {
      const response = await edge.api(method, route, body)
      expect({ method, status: response.status }).toEqual({ method, status: 404 })
    }
    for (const [method, route, body] of routes('bad_name!')) {
      const response = await edge.api(method, route, body)
      expect({ method, status: response.status }).toEqual({ method, status: 400 })
      expect(await descriptionOf(response)).toStartWith('path parameter hostname:')
    }
  })

  test('RFC 6750 §3.1: no token → 401 with a Bearer challenge; a user token reads but a write → 403', async () => {
    const hostname = await newProxy()
    const publicUrl = edge.server.apiUrl.replace(/:\d+$/, ':0')
    const token = await issueAccessToken(edge.server.keyRing, systemClock, { issuer: publicUrl, audience: apiResource({ publicUrl }), subject: 'local:u', username: 'u', scopes: ['user'], clientId: 't', ttlSec: 600 })
    for (const [method, route, body] of routes(hostname)) {
      const init = { method, body: body === undefined ? undefined : JSON.stringify(body) }
      const asUser = await fetch(`${edge.server.apiUrl}${route}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
      expect({ method, status: asUser.status }).toEqual({ method, status: method === 'GET' ? 200 : 403 })
      const anonymous = await fetch(`${edge.server.apiUrl}${route}`, { ...init, headers: { 'content-type': 'application/json' } })
      expect({ method, status: anonymous.status }).toEqual({ method, status: 401 })
      expect(anonymous.headers.get('www-authenticate')).toStartWith('Bearer')
    }
    expect(await json(await edge.api('GET', path(hostname)))).toEqual(DEFAULTS)
  })

  test('every change is announced as proxy_updated for that hostname; a read announces nothing', async () => {
    const hostname = await newProxy()
    for (const [method, route, body] of routes(hostname)) {
      const events = await eventsDuring(() => edge.api(method, route, body))
      expect({ method, events }).toEqual({ method, events: method === 'GET' ? [] : [{ type: 'proxy_updated', hostname }] })
    }
  })

  test('the OpenAPI document describes the four routes, and GET says what the resource identifier is', async () => {
    const document = (await (await fetch(`${edge.server.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary?: string; description?: string }>> }
    const item = document.paths['/proxy/targets/{hostname}/resource']!
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'post', 'put'])
    const text = JSON.stringify(item.get)
    expect(text).toContain('origin clients use')
    expect(text).toContain('resource_endpoint')
    expect(text).toContain('RFC 9728')
  })
})
