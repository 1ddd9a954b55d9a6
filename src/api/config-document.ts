/**
 * @module The configuration document: everything an operator configured (proxies, routes, external
 * services, registered OAuth clients, certificate definitions) in one portable shape, and how it is read
 * from a running server. Fields a server assigns itself (stamps, config_version, created_by, sequence) are
 * left out; route_id and client_id stay, because other entries and clients name them. Secrets (a proxy's
 * GitHub client secret, a client's secret and registration-token hashes) are in it only when asked for;
 * a certificate's key and chain never are (the importing server orders its own from its CA).
 */
import * as v from 'valibot'
import type { CertificateManager, CertificateView, PortableCertificateRequest } from '../certs/index.ts'
import { PortableClientSchema, type ClientRegistry, type Grants, type PortableClient } from '../oauth/index.ts'
import { RouteSchema, type Route, type RouteFields, type RouteStore } from '../routes/index.ts'
import { CreateExternalServiceSchema, type CreateExternalService, type ExternalService, type ExternalServices } from '../services/index.ts'
import { CreateProxyTargetSchema, type CreateProxyTarget, type ProxyTarget, type ProxyTargets } from '../targets/index.ts'
import type { DockerServices } from '../docker/index.ts'

export const CONFIG_FORMAT = 'oauth-https-proxy/config'
export const CONFIG_VERSION = 1

/** The domain services the export reads and the import writes through, so every change is announced. */
export interface ConfigDeps {
  readonly targets: ProxyTargets
  readonly routes: RouteStore
  readonly services: ExternalServices
  readonly clients: ClientRegistry
  /** A pruned client's token families are revoked with it, as DELETE /oauth/clients/{id} does. */
  readonly grants: Pick<Grants, 'revokeClientFamilies'>
  /** Definitions only: list and portableRequest never carry key material; request orders in the background. */
  readonly certificates: Pick<CertificateManager, 'list' | 'portableRequest' | 'resolveRequest' | 'request' | 'remove'>
  /**
   * Docker services, read only so references to them (`service://name[:port]`, a route to name:port)
   * check; they are not in the document (containers on this engine, not configuration). null when off.
   */
  readonly dockerServices?: Pick<DockerServices, 'list'> | null
}

/** Every settable field of a proxy, in the API's order (proxy_hostname first). */
export const PROXY_FIELDS = Object.keys(CreateProxyTargetSchema.entries) as (keyof CreateProxyTarget)[]

/** Every settable field of a route; the type check below fails when RouteFields gains one that is missing here. */
export const ROUTE_FIELDS = [
  'path_pattern',
  'is_regex',
  'methods',
  'priority',
  'target_type',
  'target_value',
  'strip_prefix',
  'scope',
  'proxy_hostnames',
  'enabled',
  'description',
  'auth',
] as const satisfies readonly (keyof RouteFields)[]
const everyRouteField: Exclude<keyof RouteFields, (typeof ROUTE_FIELDS)[number]> extends never ? true : never = true
void everyRouteField

export const SERVICE_FIELDS = ['service_name', 'target_url', 'description'] as const satisfies readonly (keyof CreateExternalService)[]

export type ProxyEntry = CreateProxyTarget & { github_client_id: string | null; github_client_secret?: string | null }
export type RouteEntry = { route_id: string } & RouteFields
export type ServiceEntry = CreateExternalService
export type ClientEntry = PortableClient
export type CertificateEntry = PortableCertificateRequest

export interface ConfigDocument {
  format: typeof CONFIG_FORMAT
  version: typeof CONFIG_VERSION
  exported_at: string
  proxies: ProxyEntry[]
  /** In matching order; imported in this order, so equal priorities keep it. */
  routes: RouteEntry[]
  services: { external: ServiceEntry[] }
  oauth_clients: ClientEntry[]
  /** By cert_name; definitions, never keys or chains. */
  certificates: CertificateEntry[]
}

/**
 * The document as OpenAPI shows it. Docker services are not in it: they are containers on one engine (its
 * images, volumes and host ports), not portable configuration; `services.docker` is ignored on import
 * with a warning. A proxy or route that names one imports where a Docker service of that name (and port) runs.
 */
export const ConfigDocumentSchema = v.object({
  format: v.literal(CONFIG_FORMAT),
  version: v.literal(CONFIG_VERSION),
  exported_at: v.string(),
  proxies: v.array(v.object({ ...CreateProxyTargetSchema.entries, github_client_id: v.nullable(v.string()), github_client_secret: v.optional(v.nullable(v.string())) })),
  routes: v.array(v.omit(RouteSchema, ['created_by', 'created_at', 'updated_at', 'sequence'])),
  services: v.object({ external: v.array(CreateExternalServiceSchema), docker: v.optional(v.array(v.unknown())) }),
  oauth_clients: v.array(PortableClientSchema),
  certificates: v.array(
    v.object({
      cert_name: v.string(),
      domains: v.array(v.string()),
      email: v.nullable(v.string()),
      /** null: the importing server's own directory, production or (staging: true) staging. */
      acme_directory_url: v.nullable(v.string()),
      staging: v.boolean(),
    }),
  ),
})

/** What the server holds now, read once per export or import. */
export interface CurrentConfig {
  readonly proxies: readonly ProxyTarget[]
  /** hostname → its GitHub app's client secret, for proxies that have one. */
  readonly gitHubSecrets: ReadonlyMap<string, string>
  /** In matching order. */
  readonly routes: readonly Route[]
  readonly services: readonly ExternalService[]
  /** With their hashes; the export drops them unless secrets were asked for. */
  readonly clients: readonly PortableClient[]
  /** By cert_name: each as stored, and as the document carries it. */
  readonly certificates: readonly { readonly stored: CertificateView; readonly entry: CertificateEntry }[]
  /** Docker service name → its tcp port names (what service://name:port may name); never exported. */
  readonly dockerServices: ReadonlyMap<string, readonly string[]>
}

export async function readCurrentConfig(deps: ConfigDeps): Promise<CurrentConfig> {
  const [proxies, routes, services, clients, certificates, dockerServices] = await Promise.all([
    deps.targets.list(),
    deps.routes.list(),
    deps.services.list(),
    deps.clients.exportClients(),
    deps.certificates.list(),
    deps.dockerServices?.list() ?? [],
  ])
  const gitHubSecrets = new Map<string, string>()
  for (const proxy of proxies) {
    if (!proxy.github_client_secret_set) continue
    const app = await deps.targets.gitHubApp(proxy.proxy_hostname)
    if (app) gitHubSecrets.set(proxy.proxy_hostname, app.clientSecret)
  }
  return {
    proxies,
    gitHubSecrets,
    routes,
    services,
    clients,
    certificates: certificates.map((stored) => ({ stored, entry: deps.certificates.portableRequest(stored) })),
    dockerServices: new Map(dockerServices.map((service) => [service.service_name, service.ports.filter((port) => port.protocol === 'tcp').map((port) => port.name)])),
  }
}

/** Proxies the server makes for itself (the built-in localhost proxy, which follows the API's address): never exported or pruned. */
export const isBuiltInProxy = (proxy: Pick<ProxyTarget, 'created_by'>): boolean => proxy.created_by === 'system'

export function pick<T extends object, K extends keyof T>(from: T, fields: readonly K[]): Pick<T, K> {
  return Object.fromEntries(fields.map((field) => [field, from[field]])) as Pick<T, K>
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export function buildConfigDocument(current: CurrentConfig, options: { readonly includeSecrets: boolean; readonly exportedAt: string }): ConfigDocument {
  const routeIds = new Set(current.routes.map((route) => route.route_id))
  // A deleted route's id may linger in a proxy's lists; it names nothing, so it is not carried over.
  const live = (ids: readonly string[]) => ids.filter((id) => routeIds.has(id))
  const proxies = current.proxies
    .filter((proxy) => !isBuiltInProxy(proxy))
    .sort((a, b) => byString(a.proxy_hostname, b.proxy_hostname))
    .map((proxy): ProxyEntry => ({
      ...pick(proxy, PROXY_FIELDS),
      enabled_routes: live(proxy.enabled_routes),
      disabled_routes: live(proxy.disabled_routes),
      github_client_id: proxy.github_client_id,
      ...(options.includeSecrets ? { github_client_secret: current.gitHubSecrets.get(proxy.proxy_hostname) ?? null } : {}),
    }))
  const clients = [...current.clients]
    .sort((a, b) => a.client_id_issued_at - b.client_id_issued_at || byString(a.client_id, b.client_id))
    .map(({ client_secret_hash, registration_access_token_hash, ...client }): ClientEntry => ({
      ...client,
      ...(options.includeSecrets && client_secret_hash !== undefined ? { client_secret_hash } : {}),
      ...(options.includeSecrets && registration_access_token_hash !== undefined ? { registration_access_token_hash } : {}),
    }))
  return {
    format: CONFIG_FORMAT,
    version: CONFIG_VERSION,
    exported_at: options.exportedAt,
    proxies,
    routes: current.routes.map((route) => ({ route_id: route.route_id, ...pick(route, ROUTE_FIELDS) })),
    services: { external: current.services.map((service) => pick(service, SERVICE_FIELDS)) },
    oauth_clients: clients,
    // Every certificate, a proxy's automatic one too: re-requesting an equal definition changes nothing.
    certificates: current.certificates.map(({ entry }) => entry).sort((a, b) => byString(a.cert_name, b.cert_name)),
  }
}
