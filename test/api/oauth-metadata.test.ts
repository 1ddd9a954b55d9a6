/**
 * RFC 8414 discovery in-process (issue #4, "Metadata"): the document for the request host's issuer,
 * 404 for a host or path that is not an issuer, CORS for browser clients, and per-proxy overrides
 * through their seam. Routing through the real edge is in test/e2e/oauth-issuer-edge.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { oauthMetadataRoutes } from '../../src/api/index.ts'
import {
  buildAuthorizationServerMetadata,
  createIssuerResolver,
  MetadataOverridesSchema,
  type MetadataOverrides,
  type MetadataOverridesFor,
} from '../../src/oauth/index.ts'
import { createTestApi } from '../support/api.ts'

const WELL_KNOWN = '/.well-known/oauth-authorization-server'

async function apiWith(publicUrl: string, overridesFor?: MetadataOverridesFor) {
  const resolveIssuer = createIssuerResolver({ publicUrl, apiOrigin: () => 'http://127.0.0.1:9000', apiProxyHostnames: async () => ['auth.test', 'mcp.test', 'localhost'] })
  return createTestApi({ env: { PUBLIC_URL: publicUrl }, extraRoutes: oauthMetadataRoutes({ resolveIssuer, overridesFor }) })
}

const overrideCalls: string[] = []
const overrides: Record<string, MetadataOverrides> = {
  'mcp.test': { scopes_supported: ['mcp'], custom_metadata: { service_documentation: 'https://docs.example.com/mcp', ui_locales_supported: ['en', 'de'] } },
}

let api: Awaited<ReturnType<typeof createTestApi>>
let pathApi: Awaited<ReturnType<typeof createTestApi>>
beforeAll(async () => {
  api = await apiWith('https://api.example.com', (hostname) => {
    overrideCalls.push(hostname)
    return overrides[hostname] ?? null
  })
  pathApi = await apiWith('https://example.com/oauth')
})
afterAll(async () => {
  await api.close()
  await pathApi.close()
})

const get = (app: typeof api, path: string, host: string, headers: Record<string, string> = {}) => app.app.request(path, { headers: { host, ...headers } })

describe('RFC 8414 §3: GET /.well-known/oauth-authorization-server', () => {
  test('for PUBLIC_URL: 200 JSON with exactly the fields of issue #4', async () => {
    const response = await get(api, WELL_KNOWN, 'api.example.com')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(await response.json()).toEqual({
      issuer: 'https://api.example.com',
      authorization_endpoint: 'https://api.example.com/authorize',
      token_endpoint: 'https://api.example.com/token',
      registration_endpoint: 'https://api.example.com/register',
      device_authorization_endpoint: 'https://api.example.com/device/code',
      revocation_endpoint: 'https://api.example.com/revoke',
      introspection_endpoint: 'https://api.example.com/introspect',
      jwks_uri: 'https://api.example.com/jwks',
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['admin', 'user', 'mcp'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    })
  })

  test('RFC 8414 §3.3: issuer is the URL the client built the request from, and every endpoint is under it', async () => {
    for (const [host, issuer] of [
      ['auth.test', 'https://auth.test'],
      ['AUTH.TEST:8443', 'https://auth.test'],
      ['localhost:8080', 'http://localhost:8080'],
      ['127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ] as const) {
      const body = (await (await get(api, WELL_KNOWN, host)).json()) as Record<string, unknown>
      expect(body.issuer).toBe(issuer)
      for (const field of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'jwks_uri']) {
        expect(String(body[field])).toStartWith(`${issuer}/`)
      }
    }
  })

  test('Cache-Control is public and short', async () => {
    expect((await get(api, WELL_KNOWN, 'auth.test')).headers.get('cache-control')).toBe('public, max-age=300')
  })

  for (const host of ['evil.com', 'localhost.evil.com', 'other.test', '', '[2001:db8::1]', 'auth.test.']) {
    test(`a host that is no issuer (${JSON.stringify(host)}): 404 not_found, not cacheable`, async () => {
      const response = await get(api, WELL_KNOWN, host)
      expect(response.status).toBe(404)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(await response.json()).toMatchObject({ error: 'not_found' })
    })
  }

  test('X-Forwarded-Host does not make a foreign host an issuer', async () => {
    const response = await get(api, WELL_KNOWN, 'evil.com', { 'x-forwarded-host': 'auth.test', 'x-forwarded-proto': 'https' })
    expect(response.status).toBe(404)
  })

  test('HEAD answers like GET without a body', async () => {
    const response = await api.app.request(WELL_KNOWN, { method: 'HEAD', headers: { host: 'auth.test' } })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })
})

describe('RFC 8414 §3.1: the path-suffixed form is for issuers with a path', () => {
  test('issuer https://example.com/oauth: served at /.well-known/oauth-authorization-server/oauth with endpoints under the path', async () => {
    const response = await get(pathApi, `${WELL_KNOWN}/oauth`, 'example.com')
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, string>
    expect(body.issuer).toBe('https://example.com/oauth')
    expect(body.token_endpoint).toBe('https://example.com/oauth/token')
    expect(body.jwks_uri).toBe('https://example.com/oauth/jwks')
  })

  test('issuer https://example.com/oauth: the root form and other suffixes are 404 (they would describe another issuer)', async () => {
    for (const path of [WELL_KNOWN, `${WELL_KNOWN}/other`, `${WELL_KNOWN}/oauth/extra`, `${WELL_KNOWN}/OAUTH`]) {
      expect((await get(pathApi, path, 'example.com')).status).toBe(404)
    }
  })

  test('pathless issuers: any suffix is 404', async () => {
    for (const path of [`${WELL_KNOWN}/mcp`, `${WELL_KNOWN}/a/b`, `${WELL_KNOWN}/auth.test`]) {
      const response = await get(api, path, 'auth.test')
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ error: 'not_found' })
    }
  })
})

describe('CORS on discovery and /jwks (peers-and-specs RS-09; RFC 9700 §2.6 allows it here)', () => {
  const preflight = (path: string, host = 'auth.test') =>
    api.app.request(path, {
      method: 'OPTIONS',
      headers: { host, origin: 'http://localhost:6274', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' },
    })

  for (const path of [WELL_KNOWN, `${WELL_KNOWN}/mcp`, '/jwks']) {
    test(`OPTIONS ${path}: 204, any origin, GET, and the MCP-Protocol-Version header the SDK sends`, async () => {
      const response = await preflight(path)
      expect(response.status).toBe(204)
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
      expect(response.headers.get('access-control-allow-methods')).toContain('GET')
      expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('mcp-protocol-version')
      expect(response.headers.get('access-control-allow-credentials')).toBeNull()
    })
  }

  test('GET metadata and GET /jwks carry Access-Control-Allow-Origin: *', async () => {
    for (const path of [WELL_KNOWN, '/jwks']) {
      const response = await get(api, path, 'auth.test', { origin: 'https://inspector.example' })
      expect(response.status).toBe(200)
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
    }
  })

  test('a 404 for a foreign host is still readable cross-origin (the SDK moves on to the next discovery URL)', async () => {
    const response = await get(api, WELL_KNOWN, 'evil.com', { origin: 'https://inspector.example' })
    expect(response.status).toBe(404)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('per-proxy overrides (original-behaviour §4.8), through the overridesFor seam', () => {
  test('asked with the issuer host name; a proxy with overrides narrows scopes and adds its own fields', async () => {
    overrideCalls.length = 0
    const body = (await (await get(api, WELL_KNOWN, 'mcp.test:8443')).json()) as Record<string, unknown>
    expect(overrideCalls).toEqual(['mcp.test'])
    expect(body.issuer).toBe('https://mcp.test')
    expect(body.scopes_supported).toEqual(['mcp'])
    expect(body.service_documentation).toBe('https://docs.example.com/mcp')
    expect(body.ui_locales_supported).toEqual(['en', 'de'])
    expect(body.code_challenge_methods_supported).toEqual(['S256'])
  })

  test('a host without overrides gets the defaults', async () => {
    const body = (await (await get(api, WELL_KNOWN, 'auth.test')).json()) as Record<string, unknown>
    expect(body.scopes_supported).toEqual(['admin', 'user', 'mcp'])
    expect(body).not.toHaveProperty('service_documentation')
  })

  test('not asked at all for a host that is no issuer', async () => {
    overrideCalls.length = 0
    await get(api, WELL_KNOWN, 'evil.com')
    expect(overrideCalls).toEqual([])
  })

  test('MetadataOverridesSchema accepts a subset of our scopes and snake_case extra fields', () => {
    const ok = v.safeParse(MetadataOverridesSchema, { scopes_supported: ['user', 'mcp'], custom_metadata: { op_policy_uri: 'https://example.com/policy', nested: { a: [1, null, true] } } })
    expect(ok.success).toBe(true)
  })

  const rejected: [string, unknown][] = [
    ['an unknown scope', { scopes_supported: ['openid'] }],
    ['an empty scope list', { scopes_supported: [] }],
    ['a scope that is not a string', { scopes_supported: [1] }],
    ['the issuer (it is the host\'s URL, always)', { custom_metadata: { issuer: 'https://evil.com' } }],
    ['an endpoint', { custom_metadata: { token_endpoint: 'https://evil.com/token' } }],
    ['jwks_uri', { custom_metadata: { jwks_uri: 'https://evil.com/jwks' } }],
    ['the PKCE methods (plain would be a downgrade)', { custom_metadata: { code_challenge_methods_supported: ['plain'] } }],
    ['grant types', { custom_metadata: { grant_types_supported: ['implicit'] } }],
    ['response modes', { custom_metadata: { response_modes_supported: ['fragment'] } }],
    ['a name that is not snake_case', { custom_metadata: { 'Bad-Name': 1 } }],
    ['a function-like value', { custom_metadata: { x: undefined } }],
    ['more than 32 fields', { custom_metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, i])) }],
    ['more than 8 KiB', { custom_metadata: { big: 'x'.repeat(9000) } }],
    ['an unknown top-level field (the original\'s issuer override)', { issuer: 'https://evil.com' }],
    ['the original\'s grant_types override', { grant_types: ['implicit'] }],
  ]
  for (const [what, input] of rejected) {
    test(`MetadataOverridesSchema refuses ${what}`, () => expect(v.safeParse(MetadataOverridesSchema, input).success).toBe(false))
  }

  test('a __proto__ key is dropped by the schema, so it cannot reach the merged document', () => {
    const parsed = v.parse(MetadataOverridesSchema, { custom_metadata: JSON.parse('{"__proto__": {"issuer": "x"}, "ok": 1}') })
    expect(Object.keys(parsed.custom_metadata ?? {})).toEqual(['ok'])
    const body = buildAuthorizationServerMetadata('https://auth.test', parsed)
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype)
    expect(body.issuer).toBe('https://auth.test')
  })

  test('even an unvalidated override cannot replace a computed field', () => {
    const sneaky = { custom_metadata: { issuer: 'https://evil.com', token_endpoint: 'https://evil.com/t', extra: 1 } } as unknown as MetadataOverrides
    const body = buildAuthorizationServerMetadata('https://auth.test', sneaky)
    expect(body.issuer).toBe('https://auth.test')
    expect(body.token_endpoint).toBe('https://auth.test/token')
    expect(body.extra).toBe(1)
  })
})
