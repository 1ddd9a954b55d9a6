/**
 * @module A test edge with one of everything an operator configures (external service, proxies with
 * auth, metadata, route settings and a GitHub app, routes of every target kind, a registered OAuth
 * client), through the real API, for the configuration export and import tests.
 */
import { issueAccessToken, type Scope } from '../../src/oauth/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import type { TestEdge } from './edge.ts'

export const GITHUB_SECRET = 'gh-secret-0123456789abcdef'

export interface ConfiguredEdge {
  readonly routeIds: { readonly first: string; readonly second: string; readonly toProxy: string; readonly toService: string }
  readonly client: { readonly client_id: string; readonly client_secret: string }
}

async function ok(response: Promise<Response>, status = 201): Promise<unknown> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
  return answered.status === 204 ? null : answered.json()
}

export async function configure(edge: TestEdge, backendPort: number): Promise<ConfiguredEdge> {
  const backend = `http://127.0.0.1:${backendPort}`
  await ok(edge.api('POST', '/services/external', { service_name: 'billing', target_url: backend, description: 'the billing backend' }))
  await edge.createProxy('app.example.com', backend, {
    custom_headers: { 'X-Team': 'blue' },
    custom_response_headers: { 'X-Served-By': 'edge' },
    hsts_max_age: 600,
    upstream_timeout: 30,
    auth_mode: 'passthrough',
    auth_required_users: ['alice', 'Bob'],
    oauth_admin_users: ['alice'],
    auth_excluded_paths: ['/public'],
    oauth_server_scopes: ['user', 'mcp'],
    oauth_server_custom_metadata: { service_documentation: 'https://docs.example.com' },
  })
  await edge.createProxy('svc.example.com', 'service://billing', { preserve_host_header: false })
  await ok(edge.api('POST', '/proxy/targets/app.example.com/github-oauth', { github_client_id: 'Iv1.abc123', github_client_secret: GITHUB_SECRET }), 200)
  const route = async (body: Record<string, unknown>) => ((await ok(edge.api('POST', '/routes', body))) as { route_id: string }).route_id
  // Equal priorities: matched in creation order, which the import must keep.
  const first = await route({ path_pattern: '/zeta/', target_type: 'url', target_value: `${backend}/z`, priority: 60, description: 'first' })
  const second = await route({ path_pattern: '/alpha/', target_type: 'port', target_value: backendPort, priority: 60, methods: ['get', 'post'] })
  const toProxy = await route({ path_pattern: '/inner/', target_type: 'hostname', target_value: 'svc.example.com', scope: 'proxy', proxy_hostnames: ['app.example.com'], strip_prefix: true })
  const toService = await route({ path_pattern: '^/pay/[0-9]+$', is_regex: true, target_type: 'service', target_value: 'billing', auth: { required_scopes: ['user'] } })
  await ok(edge.api('PUT', '/proxy/targets/app.example.com/routes', { route_mode: 'selective', enabled_routes: [toProxy, second] }), 200)
  const registered = (await ok(
    fetch(`${edge.server.apiUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Exported app', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' }),
    }),
  )) as { client_id: string; client_secret: string }
  return { routeIds: { first, second, toProxy, toService }, client: registered }
}

/** A token for this edge's API with other scopes (same issuer and audience as its admin token). */
export async function tokenWith(edge: TestEdge, scopes: Scope[]): Promise<string> {
  const claims = JSON.parse(Buffer.from(edge.adminToken.split('.')[1]!, 'base64url').toString()) as { iss: string; aud: string }
  return issueAccessToken(edge.server.keyRing, systemClock, { issuer: claims.iss, audience: claims.aud, subject: 'local:bob', username: 'bob', scopes, clientId: 'test', ttlSec: 600 })
}

/** POSTs a document as admin: JSON by default, or a YAML text. */
export function importDocument(edge: TestEdge, document: unknown, query = '', contentType = 'application/json'): Promise<Response> {
  return fetch(`${edge.server.apiUrl}/system/config${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': contentType },
    body: typeof document === 'string' ? document : JSON.stringify(document),
  })
}

export async function exportDocument(edge: TestEdge, query = ''): Promise<Record<string, unknown>> {
  const response = await edge.api('GET', `/system/config${query}`)
  if (response.status !== 200) throw new Error(`export failed: ${response.status} ${await response.text()}`)
  return (await response.json()) as Record<string, unknown>
}

/** The document without its export time, for comparing two exports. */
export const withoutTime = ({ exported_at: _time, ...rest }: Record<string, unknown>) => rest
