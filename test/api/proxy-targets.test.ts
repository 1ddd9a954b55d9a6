/** /proxy/targets: admin writes, user reads, every bad field named, nothing stored lost on bad input. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(() => edge.stop())

const create = (body: unknown) => edge.api('POST', '/proxy/targets', body)
const describeError = async (response: Response) => ((await response.json()) as { error_description: string }).error_description

describe('POST /proxy/targets', () => {
  test('creates a proxy with the documented defaults, stamped with its creator', async () => {
    const response = await create({ proxy_hostname: 'New.Example.COM', target_url: 'http://127.0.0.1:9/' })
    expect(response.status).toBe(201)
    expect(response.headers.get('location')).toBe('/proxy/targets/new.example.com')
    expect(await response.json()).toMatchObject({
      proxy_hostname: 'new.example.com',
      target_url: 'http://127.0.0.1:9/',
      enabled: true,
      enable_http: true,
      enable_https: true,
      preserve_host_header: true,
      custom_headers: {},
      custom_response_headers: {},
      cert_name: null,
      redirect_http_to_https: false,
      hsts_max_age: null,
      proxy_protocol: null,
      route_mode: 'all',
      enabled_routes: [],
      disabled_routes: [],
      created_by: 'test-admin',
      config_version: 1,
    })
  })

  test('a hostname that exists → 409, whatever its case', async () => {
    await create({ proxy_hostname: 'dup.example.com', target_url: 'http://127.0.0.1:9' })
    for (const name of ['dup.example.com', 'DUP.example.com']) {
      const response = await create({ proxy_hostname: name, target_url: 'http://127.0.0.1:10' })
      expect(response.status).toBe(409)
      expect(await response.json()).toMatchObject({ error: 'conflict' })
    }
    expect(((await (await edge.api('GET', '/proxy/targets/dup.example.com')).json()) as { target_url: string }).target_url).toBe('http://127.0.0.1:9')
  })

  test('RFC 1123: bad hostnames → 400 naming proxy_hostname', async () => {
    const bad = ['', ' ', 'a..b', '-a.test', 'a-.test', 'a_b.test', '*.test', 'a.*.test', '*', `${'x'.repeat(64)}.test`, 'ex ample.com', 'http://a.test', 'a.test/', 'a.test:80', 7, null]
    for (const proxy_hostname of bad) {
      const response = await create({ proxy_hostname, target_url: 'http://127.0.0.1:9' })
      expect(response.status).toBe(400)
      expect(await describeError(response)).toStartWith('field proxy_hostname:')
    }
  })

  test('target_url must be http(s) with a host, no credentials or fragment → 400 naming target_url', async () => {
    for (const target_url of ['ftp://x.test', 'http://', 'not a url', 'http://user:pw@x.test', 'javascript:alert(1)', 'http://x.test/#frag', '', 42]) {
      const response = await create({ proxy_hostname: 'url.example.com', target_url })
      expect(response.status).toBe(400)
      expect(await describeError(response)).toStartWith('field target_url:')
    }
    expect((await edge.api('GET', '/proxy/targets/url.example.com')).status).toBe(404)
  })

  test('target_url may name a service as service://<name>[:<port name>]; a bad name there → 400 naming target_url', async () => {
    for (const target_url of ['service://', 'service://Billing', 'service://ports', 'service://a/b', 'service://a:B', 'service://a:8080']) {
      const response = await create({ proxy_hostname: 'svc.example.com', target_url })
      expect(response.status).toBe(400)
      expect(await describeError(response)).toStartWith('field target_url:')
    }
    const response = await create({ proxy_hostname: 'svc.example.com', target_url: 'service://billing' })
    expect(response.status).toBe(201)
    expect(await response.json()).toMatchObject({ target_url: 'service://billing' })
  })

  test('RFC 9110 §5: header names must be tokens, values free of control characters (HTAB allowed), and proxy-managed headers are refused', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ custom_headers: { 'Bad Name': 'x' } }, 'field custom_headers.Bad Name:'],
      [{ custom_headers: { 'X-A': 'one\r\nX-Injected: two' } }, 'field custom_headers.X-A:'],
      [{ custom_headers: { 'X-A': 'bell\x07' } }, 'field custom_headers.X-A:'],
      [{ custom_response_headers: { 'X-B': 'delete\x7f' } }, 'field custom_response_headers.X-B:'],
      [{ custom_headers: { Host: 'evil.test' } }, 'field custom_headers.Host:'],
      [{ custom_response_headers: { 'Transfer-Encoding': 'chunked' } }, 'field custom_response_headers.Transfer-Encoding:'],
      [{ custom_headers: { 'X-A': 1 } }, 'field custom_headers.X-A:'],
      [{ hsts_max_age: -1 }, 'field hsts_max_age:'],
      [{ proxy_protocol: 'v3' }, 'field proxy_protocol:'],
      [{ upstream_timeout: 0 }, 'field upstream_timeout:'],
      [{ enable_https: 'yes' }, 'field enable_https:'],
      [{ surprise: true }, 'field surprise:'],
    ]
    for (const [extra, prefix] of cases) {
      const response = await create({ proxy_hostname: 'headers.example.com', target_url: 'http://127.0.0.1:9', ...extra })
      expect(response.status).toBe(400)
      expect(await describeError(response)).toStartWith(prefix)
    }
    // HTAB is part of a field value's grammar (RFC 9110 §5.5), so it is accepted.
    const tabbed = await create({ proxy_hostname: 'headers.example.com', target_url: 'http://127.0.0.1:9', custom_headers: { 'X-Tab': 'a\tb' } })
    expect(tabbed.status).toBe(201)
  })
})

describe('GET, PUT and DELETE /proxy/targets/{hostname}', () => {
  test('PUT applies every field it is given and bumps config_version; bad input changes nothing', async () => {
    await create({ proxy_hostname: 'put.example.com', target_url: 'http://127.0.0.1:9' })
    const changes = {
      target_url: 'https://backend.example.com/api',
      enable_http: false,
      preserve_host_header: false,
      custom_headers: { 'X-Tenant': 'a' },
      custom_response_headers: { 'X-Frame-Options': 'DENY' },
      cert_name: 'put-cert',
      redirect_http_to_https: true,
      hsts_max_age: 31_536_000,
      proxy_protocol: 'v2',
      upstream_timeout: 5,
      route_mode: 'selective',
      enabled_routes: ['api-1f2e3d4c'],
      disabled_routes: ['docs-0a1b2c3d'],
    }
    const updated = await edge.api('PUT', '/proxy/targets/put.example.com', changes)
    expect(updated.status).toBe(200)
    expect(await updated.json()).toMatchObject({ ...changes, config_version: 2, enabled: true })

    for (const bad of [{ target_url: 'ftp://x' }, { proxy_hostname: 'other.example.com' }, { custom_headers: { 'X-A': 'a\nb' } }, { route_mode: 'some' }, { enabled_routes: ['Bad!'] }]) {
      expect((await edge.api('PUT', '/proxy/targets/put.example.com', bad)).status).toBe(400)
    }
    const stored = (await (await edge.api('GET', '/proxy/targets/put.example.com')).json()) as Record<string, unknown>
    expect(stored).toMatchObject({ ...changes, config_version: 2 })
  })

  test('unknown and invalid hostnames: 404 and 400', async () => {
    expect((await edge.api('GET', '/proxy/targets/missing.example.com')).status).toBe(404)
    expect((await edge.api('PUT', '/proxy/targets/missing.example.com', { enabled: false })).status).toBe(404)
    expect((await edge.api('DELETE', '/proxy/targets/missing.example.com')).status).toBe(404)
    const invalid = await edge.api('GET', '/proxy/targets/bad_name!')
    expect(invalid.status).toBe(400)
    expect(await describeError(invalid)).toStartWith('path parameter hostname:')
  })

  test('DELETE removes the proxy and frees its ports', async () => {
    await create({ proxy_hostname: 'gone.example.com', target_url: 'http://127.0.0.1:9' })
    const before = (await (await edge.api('GET', '/ports')).json()) as { hostname: string }[]
    expect(before.map((row) => row.hostname)).toContain('gone.example.com')
    expect((await edge.api('DELETE', '/proxy/targets/gone.example.com')).status).toBe(204)
    expect((await edge.api('GET', '/proxy/targets/gone.example.com')).status).toBe(404)
    const after = (await (await edge.api('GET', '/ports')).json()) as { hostname: string }[]
    expect(after.map((row) => row.hostname)).not.toContain('gone.example.com')
  })

  test('the list includes the built-in localhost proxy, which targets the API', async () => {
    const list = (await (await edge.api('GET', '/proxy/targets')).json()) as { proxy_hostname: string; target_url: string; created_by: string }[]
    const localhost = list.find((target) => target.proxy_hostname === 'localhost')
    expect(localhost).toMatchObject({ target_url: edge.server.apiUrl, created_by: 'system' })
  })
})

describe('authorization', () => {
  test('a user token reads but cannot write; no token → 401', async () => {
    const config = { publicUrl: edge.server.apiUrl.replace(/:\d+$/, ':0') }
    const user = await issueAccessToken(edge.server.keyRing, systemClock, { issuer: config.publicUrl, audience: apiResource(config), subject: 'local:u', username: 'u', scopes: ['user'], clientId: 't', ttlSec: 600 })
    const headers = { authorization: `Bearer ${user}`, 'content-type': 'application/json' }
    expect((await fetch(`${edge.server.apiUrl}/proxy/targets`, { headers })).status).toBe(200)
    const write = await fetch(`${edge.server.apiUrl}/proxy/targets`, { method: 'POST', headers, body: JSON.stringify({ proxy_hostname: 'u.example.com', target_url: 'http://127.0.0.1:9' }) })
    expect(write.status).toBe(403)
    expect((await fetch(`${edge.server.apiUrl}/proxy/targets`)).status).toBe(401)
    expect((await fetch(`${edge.server.apiUrl}/proxy/targets/localhost`, { method: 'DELETE' })).status).toBe(401)
  })
})
