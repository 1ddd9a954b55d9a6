/**
 * @module A Docker service behind a hostname: the proxy settings `auto_proxy` and
 * POST /services/{name}/proxy take (a proxy's own fields, its target being the service), the hostname
 * rule (`<name>.<BASE_DOMAIN>` unless one is given), and the warnings worth telling the caller.
 */
import * as v from 'valibot'
import { isValidHostname, SERVICE_SCHEME } from '../lib/index.ts'
import { CreateProxyTargetSchema, HostnameSchema, TargetError, type ProxyTarget, type ProxyTargets } from '../targets/index.ts'
import { ApiError } from './errors.ts'
import { optionalQueryFlag } from './query-flag.ts'

/** Every setting of a new proxy (auth included, with a new proxy's defaults) except its hostname and target. */
export const ServiceProxySchema = v.strictObject(
  {
    /** Default: <service name>.<BASE_DOMAIN>. */
    hostname: v.optional(HostnameSchema),
    ...v.omit(CreateProxyTargetSchema, ['proxy_hostname', 'target_url']).entries,
  },
  'unknown field',
)
export type ServiceProxySettings = v.InferOutput<typeof ServiceProxySchema>

/** The original's query form (`?hostname=…&enable_https=false`), for callers that send no body. */
export const ServiceProxyQueryEntries = {
  hostname: v.optional(HostnameSchema),
  enable_https: optionalQueryFlag(),
}

export interface ServiceProxyDeps {
  readonly targets: ProxyTargets
  /** BASE_DOMAIN: where a hostname is made when none is given. */
  readonly baseDomain: string | undefined
  /** ACME_EMAIL: without it (or the proxy's cert_email) the proxy keeps a self-signed certificate. */
  readonly acmeEmail: string | null
}

/**
 * The settings from the body (`fromBody`, undefined when none was sent), or else from the query's
 * `hostname` and `enable_https`; both at once is ambiguous and refused.
 */
export function proxySettingsOf(fromBody: ServiceProxySettings | undefined, query: { hostname?: string; enable_https?: boolean }): ServiceProxySettings {
  const inQuery = query.hostname !== undefined ? 'hostname' : query.enable_https !== undefined ? 'enable_https' : null
  if (fromBody && inQuery) throw new ApiError(400, 'invalid_request', `query parameter ${inQuery}: give the proxy settings in the body or as query parameters, not both`)
  return fromBody ?? v.parse(ServiceProxySchema, { hostname: query.hostname, enable_https: query.enable_https ?? true })
}

/** The proxy's hostname: the one given, else `<service>.<BASE_DOMAIN>`; a 400 naming `field` when neither works. */
export function proxyHostnameFor(serviceName: string, settings: ServiceProxySettings, baseDomain: string | undefined, field: string): string {
  if (settings.hostname) return settings.hostname
  if (!baseDomain) throw new ApiError(400, 'invalid_request', `field ${field}: is required when BASE_DOMAIN is not set`)
  const hostname = `${serviceName}.${baseDomain}`
  // Service names may hold "_", which a host name (RFC 1123) may not.
  if (!isValidHostname(hostname)) throw new ApiError(400, 'invalid_request', `field ${field}: is required: ${hostname} is not a valid host name`)
  return hostname
}

/** A 409 before anything is created, so a taken hostname costs no container; the create itself is still atomic. */
export async function refuseTakenHostname(targets: ProxyTargets, hostname: string): Promise<void> {
  if (await targets.get(hostname)) throw new ApiError(409, 'conflict', `${hostname} already has a proxy`)
}

/** Creates the proxy `hostname` → service://<name>; throws TargetError('conflict') when the hostname was taken meanwhile. */
export async function createServiceProxy(deps: ServiceProxyDeps, serviceName: string, hostname: string, settings: ServiceProxySettings, actor: string | null): Promise<{ proxy: ProxyTarget; warnings: string[] }> {
  const { hostname: _given, ...proxySettings } = settings
  const proxy = await deps.targets.create({ ...proxySettings, proxy_hostname: hostname, target_url: `${SERVICE_SCHEME}${serviceName}` }, actor)
  const warnings: string[] = []
  if (proxy.enable_https && (proxy.cert_email ?? deps.acmeEmail) === null) {
    warnings.push(`https://${hostname} serves a self-signed certificate: no ACME account email is set (the proxy's cert_email or ACME_EMAIL), so none is ordered`)
  }
  return { proxy, warnings }
}

/** Removes proxies by hostname; one already gone is not an error. */
export async function removeProxies(targets: ProxyTargets, hostnames: readonly string[]): Promise<void> {
  for (const hostname of hostnames) {
    await targets.remove(hostname).catch((error: unknown) => {
      if (!(error instanceof TargetError && error.kind === 'not_found')) throw error
    })
  }
}
