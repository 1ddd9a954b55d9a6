/**
 * @module What an import would do: per kind, what it creates, updates and (only with prune) deletes,
 * and how many entries are already as the document says. An entry equal to the server's is left
 * alone, so importing the same document twice changes nothing the second time. The plan is refused
 * when the configuration it leads to would have a dangling reference or two equal routes that this
 * import causes; references that were already dangling on the server are only warned about.
 */
import { isSameDefinition } from '../certs/index.ts'
import type { PortableClient } from '../oauth/index.ts'
import { routeFingerprint, type Route } from '../routes/index.ts'
import type { CreateExternalService } from '../services/index.ts'
import { parseServiceRef, SERVICE_SCHEME } from '../lib/index.ts'
import { serviceNameOf, type GitHubApp, type ProxyTarget } from '../targets/index.ts'
import { isBuiltInProxy, pick, PROXY_FIELDS, ROUTE_FIELDS, SERVICE_FIELDS, type CurrentConfig } from './config-document.ts'
import type { Located, ParsedCertificate, ParsedDocument, ParsedProxy, ParsedRoute } from './config-parse.ts'

export interface KindPlan<T> {
  readonly create: Located<T>[]
  readonly update: Located<T>[]
  /** Keys of what the server has and the document does not: filled only with prune. */
  readonly delete: string[]
  unchanged: number
}

/** A proxy's GitHub app: set it, clear it (null), or leave it (undefined). */
export type ProxyChange = ParsedProxy & { readonly settingsChanged: boolean; readonly gitHubApp?: GitHubApp | null }

export interface ImportPlan {
  readonly services: KindPlan<CreateExternalService>
  readonly proxies: KindPlan<ProxyChange>
  readonly routes: KindPlan<ParsedRoute>
  readonly clients: KindPlan<PortableClient>
  readonly certificates: KindPlan<ParsedCertificate>
  readonly warnings: string[]
}

export type PlanResult = { readonly ok: true; readonly plan: ImportPlan } | { readonly ok: false; readonly issues: string[] }

/** JSON with sorted keys: two values are the same configuration when these are equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1))) : inner,
  )
}
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b)

/** Sorts a section's entries into create / update / unchanged against what the server has, and lists prune's deletions. */
function diff<T, C>(
  entries: readonly Located<T>[],
  current: readonly C[],
  keyOf: { entry: (value: T) => string; current: (value: C) => string },
  compare: (entry: Located<T>, current: C) => Located<T> | 'unchanged',
  prunable: (current: C) => boolean,
  prune: boolean,
): KindPlan<T> {
  const byKey = new Map(current.map((item) => [keyOf.current(item), item]))
  const plan: KindPlan<T> = { create: [], update: [], delete: [], unchanged: 0 }
  for (const entry of entries) {
    const existing = byKey.get(keyOf.entry(entry.value))
    if (existing === undefined) plan.create.push(entry)
    else {
      const outcome = compare(entry, existing)
      if (outcome === 'unchanged') plan.unchanged++
      else plan.update.push(outcome)
    }
  }
  if (prune) {
    const kept = new Set(entries.map((entry) => keyOf.entry(entry.value)))
    for (const item of current) if (prunable(item) && !kept.has(keyOf.current(item))) plan.delete.push(keyOf.current(item))
  }
  return plan
}

const emptyPlan = <T>(): KindPlan<T> => ({ create: [], update: [], delete: [], unchanged: 0 })

/** The GitHub app change a proxy entry asks for; a missing secret cannot be made up, only kept. */
function gitHubChange(entry: Located<ParsedProxy>, current: ProxyTarget | undefined, currentSecret: string | undefined, warnings: string[]): GitHubApp | null | undefined {
  const { gitHubClientId: id, gitHubClientSecret: secret } = entry.value
  const currentId = current?.github_client_id ?? null
  if (id === null) return currentId === null ? undefined : null
  if (secret !== undefined) return currentId === id && currentSecret === secret ? undefined : { clientId: id, clientSecret: secret }
  if (currentId === id && currentSecret !== undefined) return undefined
  warnings.push(`${entry.path}.github_client_secret: not in the document (export with include_secrets=true), so the GitHub app ${id} is not set; ${current ? 'the proxy keeps its current one' : 'the global GitHub app applies'}`)
  return undefined
}

export function planImport(current: CurrentConfig, document: ParsedDocument, options: { readonly prune: boolean }): PlanResult {
  const { prune } = options
  const warnings = [...document.ignored]

  const services = document.services
    ? diff(
        document.services,
        current.services,
        { entry: (service) => service.service_name, current: (service) => service.service_name },
        (entry, existing) => (same(pick(entry.value, SERVICE_FIELDS), pick(existing, SERVICE_FIELDS)) ? 'unchanged' : entry),
        () => true,
        prune,
      )
    : emptyPlan<CreateExternalService>()

  const currentProxies = new Map(current.proxies.map((proxy) => [proxy.proxy_hostname, proxy]))
  const proxyChanges = document.proxies?.map((entry): Located<ProxyChange> => {
    const existing = currentProxies.get(entry.value.target.proxy_hostname)
    const gitHubApp = gitHubChange(entry, existing, current.gitHubSecrets.get(entry.value.target.proxy_hostname), warnings)
    const settingsChanged = existing === undefined || !same(pick(entry.value.target, PROXY_FIELDS), pick(existing, PROXY_FIELDS))
    return { path: entry.path, value: { ...entry.value, settingsChanged, ...(gitHubApp === undefined ? {} : { gitHubApp }) } }
  })
  const proxies = proxyChanges
    ? diff(
        proxyChanges,
        current.proxies,
        { entry: (change) => change.target.proxy_hostname, current: (proxy) => proxy.proxy_hostname },
        (entry) => (entry.value.settingsChanged || 'gitHubApp' in entry.value ? entry : 'unchanged'),
        (proxy) => !isBuiltInProxy(proxy),
        prune,
      )
    : emptyPlan<ProxyChange>()

  const routes = document.routes
    ? diff(
        document.routes,
        current.routes,
        { entry: (route) => route.route_id, current: (route) => route.route_id },
        (entry, existing) => (same(pick(entry.value, ROUTE_FIELDS), pick(existing, ROUTE_FIELDS)) ? 'unchanged' : entry),
        () => true,
        prune,
      )
    : emptyPlan<ParsedRoute>()

  const clients = document.clients
    ? diff(
        document.clients,
        current.clients,
        { entry: (client) => client.client_id, current: (client) => client.client_id },
        // Hashes count only when the document carries them; without them the server's are kept.
        (entry, existing) => (same(entry.value, pick(existing, Object.keys(entry.value) as (keyof PortableClient)[])) ? 'unchanged' : entry),
        () => true,
        prune,
      )
    : emptyPlan<PortableClient>()

  const certificates = document.certificates
    ? diff(
        document.certificates,
        current.certificates,
        { entry: (certificate) => certificate.definition.cert_name, current: (certificate) => certificate.stored.cert_name },
        // The manager's own comparison: an equal definition is one request() would leave alone.
        (entry, existing) => (isSameDefinition(entry.value.definition, existing.stored) ? 'unchanged' : entry),
        () => true,
        prune,
      )
    : emptyPlan<ParsedCertificate>()

  const plan: ImportPlan = { services, proxies, routes, clients, certificates, warnings }
  const issues = checkOutcome(current, document, plan)
  return issues.length > 0 ? { ok: false, issues } : { ok: true, plan }
}

/** One thing that points at another, as the configuration will be after the import. */
interface Reference {
  /** Where to point the operator: a document path, or a server entry the document does not have. */
  readonly where: string
  readonly kind: 'external service' | 'proxy' | 'route'
  readonly name: string
  /** Created or changed by this import (so its references are this import's doing). */
  readonly touched: boolean
}

/**
 * The configuration after the import: refuses what the import would leave dangling or duplicated.
 * A reference is the import's doing when its entry is created or changed, or when prune deletes what it names.
 */
function checkOutcome(current: CurrentConfig, document: ParsedDocument, plan: ImportPlan): string[] {
  const issues: string[] = []
  const touched = (kindPlan: KindPlan<unknown>) => new Set([...kindPlan.create, ...kindPlan.update].map((entry) => entry.path))
  /** The names that will exist: the document's, and the server's that prune does not delete. */
  const after = (inDocument: readonly string[] = [], onServer: readonly string[], deleted: readonly string[]) => new Set([...inDocument, ...onServer.filter((key) => !deleted.includes(key))])
  const names = {
    'external service': after(document.services?.map((entry) => entry.value.service_name), current.services.map((s) => s.service_name), plan.services.delete),
    proxy: after(document.proxies?.map((entry) => entry.value.target.proxy_hostname), current.proxies.map((p) => p.proxy_hostname), plan.proxies.delete),
    route: after(document.routes?.map((entry) => entry.value.route_id), current.routes.map((r) => r.route_id), plan.routes.delete),
  }
  const existedBefore = {
    'external service': new Set(current.services.map((s) => s.service_name)),
    proxy: new Set(current.proxies.map((p) => p.proxy_hostname)),
    route: new Set(current.routes.map((r) => r.route_id)),
  }

  const references: Reference[] = []
  const proxyPaths = touched(plan.proxies)
  const inDocument = new Set(document.proxies?.map((entry) => entry.value.target.proxy_hostname))
  const proxyReferences = (proxy: Pick<ProxyTarget, 'target_url' | 'enabled_routes' | 'disabled_routes'>, at: (field: string) => string, isTouched: boolean) => {
    // The whole reference, name[:port]: a port names a Docker service's port.
    if (serviceNameOf(proxy) !== null) references.push({ where: at('target_url'), kind: 'external service', name: proxy.target_url.slice(SERVICE_SCHEME.length), touched: isTouched })
    for (const list of ['enabled_routes', 'disabled_routes'] as const) {
      proxy[list].forEach((id, index) => references.push({ where: at(`${list}[${index}]`), kind: 'route', name: id, touched: isTouched }))
    }
  }
  for (const entry of document.proxies ?? []) proxyReferences(entry.value.target, inDocumentAt(entry.path), proxyPaths.has(entry.path))
  for (const proxy of current.proxies) {
    if (!inDocument.has(proxy.proxy_hostname) && !plan.proxies.delete.includes(proxy.proxy_hostname)) proxyReferences(proxy, onServerAt(`proxy ${proxy.proxy_hostname}`), false)
  }

  const routePaths = touched(plan.routes)
  const routeReferences = (route: Pick<Route, 'target_type' | 'target_value'>, at: (field: string) => string, isTouched: boolean) => {
    if (route.target_type === 'service') references.push({ where: at('target_value'), kind: 'external service', name: route.target_value, touched: isTouched })
    if (route.target_type === 'hostname') references.push({ where: at('target_value'), kind: 'proxy', name: route.target_value, touched: isTouched })
  }
  const finalRoutes: { where: string; route: Pick<Route, 'path_pattern' | 'is_regex' | 'priority' | 'scope' | 'proxy_hostnames'> }[] = []
  const routesInDocument = new Set(document.routes?.map((entry) => entry.value.route_id))
  for (const entry of document.routes ?? []) {
    routeReferences(entry.value, inDocumentAt(entry.path), routePaths.has(entry.path))
    finalRoutes.push({ where: entry.path, route: entry.value })
  }
  for (const route of current.routes) {
    if (routesInDocument.has(route.route_id) || plan.routes.delete.includes(route.route_id)) continue
    routeReferences(route, onServerAt(`route ${route.route_id}`), false)
    finalRoutes.push({ where: `route ${route.route_id} on the server (not in the document)`, route })
  }

  /** A dangling reference is this import's fault (refused) only when the import touched it. */
  const dangling = (reference: Reference, problem: string) => (reference.touched ? issues.push(problem) : plan.warnings.push(`${problem} (already so on the server)`))
  for (const reference of references) {
    const ref = reference.kind === 'external service' ? parseServiceRef(reference.name) : null
    const dockerPorts = ref ? current.dockerServices.get(ref.name) : undefined
    // A Docker service is never in the document nor pruned: the reference holds where the server runs it.
    if (ref && dockerPorts) {
      if (ref.port !== null && !dockerPorts.includes(ref.port)) dangling(reference, `${reference.where}: Docker service ${ref.name} has no port ${ref.port} (it has ${dockerPorts.join(', ') || 'none'})`)
      continue
    }
    if (ref && ref.port !== null) {
      dangling(reference, `${reference.where}: no Docker service ${ref.name} with a port ${ref.port} on the server (an external service has no ports)`)
      continue
    }
    if (names[reference.kind].has(reference.name)) continue
    const pruned = existedBefore[reference.kind].has(reference.name)
    if (pruned) issues.push(`${reference.where}: ${reference.kind} ${reference.name} is not in the document, so prune would delete it`)
    else if (reference.touched) issues.push(`${reference.where}: no ${reference.kind} ${reference.name} on the server or in the document`)
    else plan.warnings.push(`${reference.where}: no ${reference.kind} ${reference.name} (already so on the server)`)
  }

  // One namespace for both kinds: a new external service may not take a Docker service's name.
  for (const entry of plan.services.create) {
    if (current.dockerServices.has(entry.value.service_name)) issues.push(`${entry.path}.service_name: a Docker service named ${entry.value.service_name} exists (external and Docker services share one namespace)`)
  }

  // Two equal routes cannot both exist (the route store's claims refuse the second); say which before writing.
  const byFingerprint = new Map<string, string>()
  for (const { where, route } of finalRoutes) {
    const fingerprint = routeFingerprint(route)
    const holder = byFingerprint.get(fingerprint)
    if (holder === undefined) byFingerprint.set(fingerprint, where)
    else issues.push(`${where}.path_pattern: the same path_pattern, is_regex, priority, scope and proxy_hostnames as ${holder}${holder.startsWith('route ') ? '; import with prune=true to delete it' : ''}`)
  }
  return issues
}

/** `proxies[1].target_url` for a document entry; `proxy a.example.com on the server (not in the document), target_url` for a kept server entry. */
const inDocumentAt = (path: string) => (field: string) => `${path}.${field}`
const onServerAt = (what: string) => (field: string) => `${what} on the server (not in the document), ${field}`

/** The plan as the API answers it: keys only, never an entry's content (a secret may be in it). */
export function summarizePlan(plan: ImportPlan) {
  const summary = <T>(kindPlan: KindPlan<T>, key: (value: T) => string) => ({
    create: kindPlan.create.map((entry) => key(entry.value)),
    update: kindPlan.update.map((entry) => key(entry.value)),
    delete: [...kindPlan.delete],
    unchanged: kindPlan.unchanged,
  })
  return {
    proxies: summary(plan.proxies, (change) => change.target.proxy_hostname),
    routes: summary(plan.routes, (route) => route.route_id),
    services: { external: summary(plan.services, (service) => service.service_name) },
    oauth_clients: summary(plan.clients, (client) => client.client_id),
    certificates: summary(plan.certificates, (certificate) => certificate.definition.cert_name),
  }
}

export const hasChanges = (plan: ImportPlan): boolean =>
  [plan.services, plan.proxies, plan.routes, plan.clients, plan.certificates].some((kindPlan) => kindPlan.create.length + kindPlan.update.length + kindPlan.delete.length > 0)
