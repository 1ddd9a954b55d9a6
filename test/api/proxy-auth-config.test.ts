/**
 * Configuration export and import carry a proxy's #11 settings: the org and team allowlists,
 * pass_authorization, the Origin check and its origins, the realm, the RFC 9728 resource fields and the
 * authorization-server overrides, through JSON and YAML, and a document with a bad one changes nothing
 * and names its path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { exportDocument, importDocument, withoutTime } from '../support/configured-edge.ts'

const HOST = 'protected.example.com'
const SETTINGS = {
  auth_enabled: true,
  auth_mode: 'redirect',
  auth_required_users: ['alice', 'bob'],
  auth_required_orgs: ['acme'],
  auth_required_teams: ['acme/platform'],
  auth_pass_authorization: true,
  auth_origin_check: 'enforce',
  auth_allowed_origins: ['https://app.example.com', 'http://localhost:5173'],
  auth_realm: 'protected api',
  oauth_admin_users: ['alice'],
  oauth_user_users: [],
  oauth_mcp_users: ['*'],
  oauth_server_scopes: ['mcp'],
  oauth_server_custom_metadata: { service_documentation: 'https://docs.example.com' },
  resource_endpoint: '/mcp',
  resource_scopes: ['mcp', 'user'],
  resource_documentation: 'https://docs.example.com/mcp',
  resource_custom_metadata: { resource_name: 'Protected MCP' },
}

let source: TestEdge
let target: TestEdge
beforeAll(async () => {
  source = await startTestEdge()
  target = await startTestEdge()
  await source.createProxy(HOST, 'http://127.0.0.1:9', SETTINGS)
})
afterAll(async () => {
  await source.stop()
  await target.stop()
})

const proxyIn = (document: Record<string, unknown>) => (document.proxies as Record<string, unknown>[]).find((proxy) => proxy.proxy_hostname === HOST)

describe('export and import of the protection settings', () => {
  test('the export holds every field as set', async () => {
    expect(proxyIn(await exportDocument(source))).toMatchObject(SETTINGS)
  })

  test('JSON round trip: the imported proxy has the same settings, and importing again changes nothing', async () => {
    const document = await exportDocument(source)
    const response = await importDocument(target, document)
    expect(response.status).toBe(200)
    const imported = (await (await target.api('GET', `/proxy/targets/${HOST}`)).json()) as Record<string, unknown>
    expect(imported).toMatchObject(SETTINGS)
    expect(withoutTime(await exportDocument(target))).toEqual(withoutTime(document))
    const again = (await (await importDocument(target, document, '?dry_run=true')).json()) as { plan: { proxies: Record<string, unknown> } }
    expect(again.plan.proxies).toMatchObject({ create: [], update: [], delete: [] })
  })

  test('YAML round trip: a changed setting is an update, and the import applies it', async () => {
    await source.api('PUT', `/proxy/targets/${HOST}/auth`, { auth_origin_check: 'off', auth_required_teams: null })
    await source.api('PUT', `/proxy/targets/${HOST}/resource`, { resource_endpoint: '/' })
    const yaml = await (await source.api('GET', '/system/config?format=yaml')).text()
    expect(yaml).toContain('auth_origin_check: off')
    const response = await importDocument(target, yaml, '', 'application/yaml')
    expect(response.status).toBe(200)
    expect(((await response.json()) as { plan: { proxies: { update: string[] } } }).plan.proxies.update).toEqual([HOST])
    expect(await (await target.api('GET', `/proxy/targets/${HOST}`)).json()).toMatchObject({ ...SETTINGS, auth_origin_check: 'off', auth_required_teams: null, resource_endpoint: '/' })
  })

  test('a bad protection setting in a document changes nothing and names its path', async () => {
    const before = withoutTime(await exportDocument(target))
    const document = await exportDocument(source)
    Object.assign(proxyIn(document)!, { auth_origin_check: 'strict', auth_allowed_origins: ['https://app.example.com/path'], resource_custom_metadata: { resource: 'https://evil.example' } })
    const response = await importDocument(target, document)
    expect(response.status).toBe(400)
    const description = ((await response.json()) as { error_description: string }).error_description
    expect(description).toContain('proxies[0].auth_origin_check: expected "auto", "enforce" or "off"')
    expect(description).toContain('proxies[0].auth_allowed_origins[0]: expected an origin')
    expect(description).toContain('proxies[0].resource_custom_metadata.resource: ')
    expect(withoutTime(await exportDocument(target))).toEqual(before)
  })
})
