/**
 * GET and POST /system/config over real servers: export → a fresh server → import → export gives the
 * same document and the same traffic; a second import changes nothing and announces nothing; secrets
 * only with include_secrets; YAML both ways; admin only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import YAML from 'yaml'
import type { AppEvent } from '../../src/events/index.ts'
import { viaHttp } from '../support/edge-clients.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { configure, exportDocument, GITHUB_SECRET, importDocument, tokenWith, withoutTime, type ConfiguredEdge } from '../support/configured-edge.ts'

let source: TestEdge
let configured: ConfiguredEdge
let backend: ReturnType<typeof Bun.serve>
const started: TestEdge[] = []
const freshEdge = async () => {
  const edge = await startTestEdge()
  started.push(edge)
  return edge
}

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response(`backend ${request.method} ${new URL(request.url).pathname}`) })
  source = await freshEdge()
  configured = await configure(source, backend.port!)
})
afterAll(async () => {
  for (const edge of started) await edge.stop()
  await backend.stop(true)
})

/** What a few requests through the data plane answer: the same on every server with the same configuration. */
async function traffic(edge: TestEdge): Promise<string[]> {
  const answers: string[] = []
  for (const [host, path] of [['app.example.com', '/x'], ['app.example.com', '/alpha/y'], ['app.example.com', '/inner/z'], ['svc.example.com', '/pay/7'], ['svc.example.com', '/zeta/q']]) {
    const response = await viaHttp(edge, host!, path!)
    answers.push(`${host}${path} → ${response.status} ${await response.text()}`)
  }
  return answers
}

describe('export', () => {
  test('every configured field; built-in localhost and server-assigned fields left out; secrets absent', async () => {
    const response = await source.api('GET', '/system/config')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
    const text = await response.text()
    expect(text).not.toContain(GITHUB_SECRET)
    expect(text).not.toContain('_hash')
    expect(text).not.toContain(configured.client.client_secret)
    const document = JSON.parse(text) as Record<string, any>
    expect(document).toMatchObject({ format: 'oauth-https-proxy/config', version: 1, exported_at: expect.any(String) })
    expect(document.proxies.map((proxy: any) => proxy.proxy_hostname)).toEqual(['app.example.com', 'svc.example.com'])
    const app = document.proxies[0]
    expect(app).toMatchObject({
      custom_headers: { 'X-Team': 'blue' },
      auth_mode: 'passthrough',
      auth_required_users: ['alice', 'bob'],
      oauth_server_scopes: ['user', 'mcp'],
      oauth_server_custom_metadata: { service_documentation: 'https://docs.example.com' },
      route_mode: 'selective',
      enabled_routes: [configured.routeIds.toProxy, configured.routeIds.second],
      github_client_id: 'Iv1.abc123',
    })
    expect(app).not.toHaveProperty('github_client_secret')
    for (const stamp of ['created_at', 'updated_at', 'created_by', 'config_version', 'sequence']) {
      expect(document.proxies[0]).not.toHaveProperty(stamp)
      expect(document.routes[0]).not.toHaveProperty(stamp)
    }
    const { first, second, toProxy, toService } = configured.routeIds
    expect(document.routes.map((route: any) => route.route_id)).toEqual([first, second, toProxy, toService])
    expect(document.services.external).toEqual([{ service_name: 'billing', target_url: `http://127.0.0.1:${backend.port}`, description: 'the billing backend' }])
    expect(document.oauth_clients).toEqual([expect.objectContaining({ client_id: configured.client.client_id, client_name: 'Exported app', token_endpoint_auth_method: 'client_secret_basic' })])
  })

  test("include_secrets=true adds the GitHub client secret and the clients' hashes, never a plaintext client secret", async () => {
    const text = await (await source.api('GET', '/system/config?include_secrets=true')).text()
    expect(text).toContain(GITHUB_SECRET)
    expect(text).not.toContain(configured.client.client_secret)
    const document = JSON.parse(text) as Record<string, any>
    expect(document.proxies[0].github_client_secret).toBe(GITHUB_SECRET)
    expect(document.proxies[1].github_client_secret).toBeNull()
    expect(document.oauth_clients[0]).toMatchObject({ client_secret_hash: expect.stringMatching(/^[0-9a-f]{64}$/), registration_access_token_hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
  })

  test('?format=yaml and Accept: application/yaml answer YAML that parses to the same document', async () => {
    const json = await exportDocument(source)
    const response = await source.api('GET', '/system/config?format=yaml')
    expect(response.headers.get('content-type')).toBe('application/yaml; charset=utf-8')
    expect(withoutTime(YAML.parse(await response.text()))).toEqual(withoutTime(json))
    const accepted = await fetch(`${source.server.apiUrl}/system/config`, { headers: { authorization: `Bearer ${source.adminToken}`, accept: 'application/yaml' } })
    expect(accepted.headers.get('content-type')).toStartWith('application/yaml')
    expect((await source.api('GET', '/system/config?format=xml')).status).toBe(400)
  })
})

describe('import into an empty server', () => {
  test('reproduces the configuration: the same document, routes in the same order, the same answers through the data plane', async () => {
    const exported = await exportDocument(source, '?include_secrets=true')
    const target = await freshEdge()
    const response = await importDocument(target, exported)
    expect(response.status).toBe(200)
    const result = (await response.json()) as Record<string, any>
    expect(result).toMatchObject({ dry_run: false, prune: false, changed: true, warnings: [] })
    expect(result.plan.proxies).toEqual({ create: ['app.example.com', 'svc.example.com'], update: [], delete: [], unchanged: 0 })
    expect(result.plan.routes.create).toEqual(Object.values(configured.routeIds))
    expect(result.plan.services.external.create).toEqual(['billing'])
    expect(result.plan.oauth_clients.create).toEqual([configured.client.client_id])

    expect(withoutTime(await exportDocument(target, '?include_secrets=true'))).toEqual(withoutTime(exported))
    const order = async (edge: TestEdge) => ((await (await edge.api('GET', '/routes')).json()) as { route_id: string }[]).map((route) => route.route_id)
    expect(await order(target)).toEqual(await order(source))
    const answers = await traffic(source)
    expect(answers[0]).toBe('app.example.com/x → 200 backend GET /x')
    expect(await traffic(target)).toEqual(answers)
  })

  test('the imported client authenticates with the secret it was issued on the first server', async () => {
    const target = await freshEdge()
    await importDocument(target, await exportDocument(source, '?include_secrets=true'))
    const { client_id, client_secret } = configured.client
    const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`
    const introspect = (edge: TestEdge) =>
      fetch(`${edge.server.apiUrl}/introspect`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nothing' })
    expect((await introspect(source)).status).toBe(200)
    expect((await introspect(target)).status).toBe(200)
  })

  test('a second import of the same document changes nothing and publishes no event', async () => {
    const exported = await exportDocument(source, '?include_secrets=true')
    const target = await freshEdge()
    await importDocument(target, exported)
    const events: AppEvent[] = []
    const unsubscribe = target.server.bus.subscribe(async (event) => void events.push(event))
    const before = await exportDocument(target, '?include_secrets=true')
    const again = (await (await importDocument(target, exported)).json()) as Record<string, any>
    unsubscribe()
    expect(again.changed).toBe(false)
    expect(again.plan).toEqual({
      proxies: { create: [], update: [], delete: [], unchanged: 2 },
      routes: { create: [], update: [], delete: [], unchanged: 4 },
      services: { external: { create: [], update: [], delete: [], unchanged: 1 } },
      oauth_clients: { create: [], update: [], delete: [], unchanged: 1 },
      certificates: { create: [], update: [], delete: [], unchanged: 0 },
    })
    expect(events).toEqual([])
    expect(withoutTime(await exportDocument(target, '?include_secrets=true'))).toEqual(withoutTime(before))
  })

  test('a YAML export imports as YAML (Content-Type: application/yaml)', async () => {
    const yaml = await (await source.api('GET', '/system/config?format=yaml&include_secrets=true')).text()
    const target = await freshEdge()
    const response = await importDocument(target, yaml, '', 'application/yaml')
    expect(response.status).toBe(200)
    expect(withoutTime(await exportDocument(target, '?include_secrets=true'))).toEqual(withoutTime(await exportDocument(source, '?include_secrets=true')))
    expect(await traffic(target)).toEqual(await traffic(source))
  })

  test('without secrets: imported, with a warning that the GitHub app is not set', async () => {
    const target = await freshEdge()
    const result = (await (await importDocument(target, await exportDocument(source))).json()) as { warnings: string[] }
    expect(result.warnings).toHaveLength(1)
    expect(result.warnings[0]).toStartWith('proxies[0].github_client_secret: not in the document (export with include_secrets=true)')
    const view = (await (await target.api('GET', '/proxy/targets/app.example.com/github-oauth')).json()) as Record<string, unknown>
    expect(view).toMatchObject({ github_client_id: null, github_client_secret_set: false })
  })
})

describe('who may', () => {
  test('admin only: a user-scope token gets 403 on both, no token 401', async () => {
    const user = await tokenWith(source, ['user'])
    for (const method of ['GET', 'POST']) {
      const init = { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined }
      expect((await fetch(`${source.server.apiUrl}/system/config`, init)).status).toBe(401)
      expect((await fetch(`${source.server.apiUrl}/system/config`, { ...init, headers: { ...init.headers, authorization: `Bearer ${user}` } })).status).toBe(403)
    }
  })

  test('the OpenAPI document lists both, with their query parameters', async () => {
    const document = (await (await fetch(`${source.server.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> }
    expect(document.paths['/system/config']?.get?.parameters?.map((p) => p.name)).toEqual(['format', 'include_secrets'])
    expect(document.paths['/system/config']?.post?.parameters?.map((p) => p.name)).toEqual(['dry_run', 'prune'])
    expect(document.paths['/oauth/clients/{client_id}']?.get).toBeDefined()
  })
})
