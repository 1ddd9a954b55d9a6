/**
 * POST /system/config refusing and planning: a bad field deep in the document or a dangling reference
 * changes nothing and names its path; dry_run lists and changes nothing; only prune deletes; changed
 * entries are updates, equal ones unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { configure, exportDocument, importDocument, withoutTime, type ConfiguredEdge } from '../support/configured-edge.ts'

let source: TestEdge
let target: TestEdge
let configured: ConfiguredEdge
let backend: ReturnType<typeof Bun.serve>
let exported: Record<string, any>

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('backend') })
  source = await startTestEdge()
  target = await startTestEdge()
  configured = await configure(source, backend.port!)
  exported = await exportDocument(source, '?include_secrets=true')
})
afterAll(async () => {
  await source.stop()
  await target.stop()
  await backend.stop(true)
})

const copy = () => structuredClone(exported)
const errorOf = async (response: Response) => {
  expect(response.status).toBe(400)
  return ((await response.json()) as { error: string; error_description: string }).error_description
}
/** The target's whole configuration, to show a refused import left it alone. */
const snapshot = async () => withoutTime(await exportDocument(target, '?include_secrets=true'))

describe('a bad document changes nothing and names the path', () => {
  test('one bad field deep in the document', async () => {
    const before = await snapshot()
    const document = copy()
    document.proxies[1].target_url = 'ftp://files.example.com'
    document.routes[3].auth.required_scopes = ['root']
    document.proxies[0].custom_headers = { 'Bad Header': 'x' }
    const message = await errorOf(await importDocument(target, document))
    expect(message).toStartWith('the document was not imported (nothing changed): ')
    expect(message).toContain('proxies[1].target_url: expected an http(s) URL')
    expect(message).toContain('routes[3].auth.required_scopes[0]: expected admin, user or mcp')
    expect(message).toContain('proxies[0].custom_headers.Bad Header: expected an HTTP header name')
    expect(await snapshot()).toEqual(before)
  })

  test.each([
    ['a route naming a service in neither place', (d: any) => (d.routes[3].target_value = 'nowhere'), 'routes[3].target_value: no external service nowhere on the server or in the document'],
    ['a route naming an unknown proxy', (d: any) => (d.routes[2].target_value = 'ghost.example.com'), 'routes[2].target_value: no proxy ghost.example.com on the server or in the document'],
    ['a proxy on service://<unknown>', (d: any) => (d.proxies[1].target_url = 'service://nowhere'), 'proxies[1].target_url: no external service nowhere on the server or in the document'],
    ['enabled_routes naming an unknown route', (d: any) => d.proxies[0].enabled_routes.push('ghost-1'), 'proxies[0].enabled_routes[2]: no route ghost-1 on the server or in the document'],
    ['a route without route_id', (d: any) => delete d.routes[0].route_id, 'routes[0].route_id: is required'],
    ['a repeated hostname', (d: any) => (d.proxies[1].proxy_hostname = 'APP.example.com'), 'proxies[1].proxy_hostname: app.example.com is also proxies[0]'],
    ['two equal routes', (d: any) => (d.routes[1].path_pattern = '/zeta/'), 'routes[1].path_pattern: the same path_pattern, is_regex, priority, scope and proxy_hostnames as routes[0]'],
    ['a secret without a GitHub app', (d: any) => (d.proxies[0].github_client_id = null), 'proxies[0].github_client_secret: needs github_client_id'],
    ['an unknown field', (d: any) => (d.routes[0].colour = 'red'), 'routes[0].colour: unknown field'],
    ['a client redirect URI registration refuses', (d: any) => (d.oauth_clients[0].redirect_uris = ['http://evil.example/cb']), 'oauth_clients[0].redirect_uris[0]: '],
    ['a public client with a secret hash', (d: any) => (d.oauth_clients[0].token_endpoint_auth_method = 'none'), 'oauth_clients[0].client_secret_hash: a public client'],
    ['a newer format version', (d: any) => (d.version = 2), 'version: expected 1'],
    ['a misspelt section', (d: any) => (d.route = d.routes), 'route: unknown field'],
  ])('%s', async (_name, spoil, expected) => {
    const before = await snapshot()
    const document = copy()
    spoil(document)
    expect(await errorOf(await importDocument(target, document))).toContain(expected)
    expect(await snapshot()).toEqual(before)
  })

  test('not JSON or YAML → 400, another media type → 415', async () => {
    expect(await errorOf(await importDocument(target, '{"format":'))).toStartWith('the document is not valid JSON')
    expect(await errorOf(await importDocument(target, 'a: [b', '', 'application/yaml'))).toStartWith('the document is not valid YAML')
    expect((await importDocument(target, 'x', '', 'text/plain')).status).toBe(415)
    expect(await errorOf(await importDocument(target, '[]'))).toContain('must be an object')
    expect(await errorOf(await importDocument(target, exported, '?dry_run=yes'))).toContain('query parameter dry_run')
  })
})

describe('dry_run', () => {
  test('answers what would be created and changes nothing', async () => {
    const before = await snapshot()
    const response = await importDocument(target, exported, '?dry_run=true')
    expect(response.status).toBe(200)
    const result = (await response.json()) as Record<string, any>
    expect(result).toMatchObject({ dry_run: true, prune: false, changed: true })
    expect(result.plan.proxies.create).toEqual(['app.example.com', 'svc.example.com'])
    expect(result.plan.routes.create).toEqual(Object.values(configured.routeIds))
    expect(result.plan.oauth_clients.create).toEqual([configured.client.client_id])
    expect(await snapshot()).toEqual(before)
    expect(((await (await target.api('GET', '/proxy/targets')).json()) as { proxy_hostname: string }[]).map((proxy) => proxy.proxy_hostname)).toEqual(['localhost'])
  })
})

describe('updates and prune', () => {
  test('changed entries are updates; without prune nothing is deleted; with prune what the document lacks is (built-in localhost never)', async () => {
    expect((await importDocument(target, exported)).status).toBe(200)
    const document = copy()
    document.proxies[1].upstream_timeout = 5
    document.services.external[0].description = 'moved'
    const dropped = document.routes.splice(0, 1)[0].route_id as string
    document.oauth_clients = []

    const plan = async (query: string) => ((await (await importDocument(target, document, query)).json()) as Record<string, any>).plan
    const kept = await plan('?dry_run=true')
    expect(kept.proxies).toEqual({ create: [], update: ['svc.example.com'], delete: [], unchanged: 1 })
    expect(kept.services.external).toEqual({ create: [], update: ['billing'], delete: [], unchanged: 0 })
    expect(kept.routes).toEqual({ create: [], update: [], delete: [], unchanged: 3 })
    expect(kept.oauth_clients).toEqual({ create: [], update: [], delete: [], unchanged: 0 })

    const pruned = await plan('?dry_run=true&prune=true')
    expect(pruned.routes.delete).toEqual([dropped])
    expect(pruned.oauth_clients.delete).toEqual([configured.client.client_id])
    expect(pruned.proxies.delete).toEqual([])

    await plan('?prune=true')
    expect((await target.api('GET', `/routes/${dropped}`)).status).toBe(404)
    expect((await target.api('GET', `/oauth/clients/${configured.client.client_id}`)).status).toBe(404)
    expect(await target.api('GET', '/proxy/targets/svc.example.com').then((r) => r.json())).toMatchObject({ upstream_timeout: 5 })
    expect((await target.api('GET', '/proxy/targets/localhost')).status).toBe(200)
  })

  test('prune refuses to delete what a kept entry still points at', async () => {
    const document = { format: 'oauth-https-proxy/config', version: 1, services: { external: [] } }
    const message = await errorOf(await importDocument(target, document, '?prune=true'))
    expect(message).toContain('proxy svc.example.com on the server (not in the document), target_url: external service billing is not in the document, so prune would delete it')
    // Without prune an empty section deletes nothing, so there is nothing to refuse.
    expect((await importDocument(target, document)).status).toBe(200)
  })

  test('a reference already dangling on the server is only a warning when its entry is unchanged', async () => {
    expect((await target.api('DELETE', '/services/external/billing?force=true')).status).toBe(204)
    const own = await exportDocument(target, '?include_secrets=true')
    const result = (await (await importDocument(target, own)).json()) as { changed: boolean; warnings: string[] }
    expect(result.changed).toBe(false)
    expect(result.warnings).toContain('proxies[1].target_url: no external service billing (already so on the server)')
  })
})
