/**
 * @module Reads a configuration document for import: every entry is checked with the schema its own
 * API uses (CreateProxyTargetSchema, CreateRouteSchema, CreateExternalServiceSchema, the registration
 * policy of parseClientMetadata, the certificate manager's own request rules), and every problem is
 * collected with its path in the document (`proxies[2].target_url: expected an http(s) URL…`) before
 * anything is written (oauth2-proxy's Validate: all errors, each with its path).
 */
import * as v from 'valibot'
import { fieldPath } from '../lib/index.ts'
import { CertificateError, normalizeDomain, type CertificateDefinition, type CertificateManager, type CertificateRequestInput } from '../certs/index.ts'
import { isConfidentialMethod, parseClientMetadata, PortableClientSchema, type PortableClient } from '../oauth/index.ts'
import { CreateRouteSchema, RouteIdSchema, type CreateRoute } from '../routes/index.ts'
import { CreateExternalServiceSchema, type CreateExternalService } from '../services/index.ts'
import { CreateProxyTargetSchema, GitHubAppInputSchema, type CreateProxyTarget } from '../targets/index.ts'
import { MultiDomainBodySchema } from './certificates.ts'
import { CONFIG_FORMAT, CONFIG_VERSION } from './config-document.ts'

/** An entry and where it stands in the document, for messages: `routes[3]`. */
export interface Located<T> {
  readonly path: string
  readonly value: T
}

export interface ParsedProxy {
  readonly target: CreateProxyTarget
  readonly gitHubClientId: string | null
  /** Only in documents exported with include_secrets. */
  readonly gitHubClientSecret?: string
}

export type ParsedRoute = CreateRoute & { readonly route_id: string }

export interface ParsedCertificate {
  /** As the document says it, for request(). */
  readonly request: CertificateRequestInput
  /** What request() will store on this server (its defaults filled in), for the plan's comparison. */
  readonly definition: CertificateDefinition
}

/** The rules the document is read with that belong to a domain service and its configuration. */
export interface ParseRules {
  /** The certificate manager's: request() would refuse what this throws for. */
  readonly resolveCertificate: CertificateManager['resolveRequest']
}

/** A section the document does not have is left alone by the import, even with prune. */
export interface ParsedDocument {
  readonly proxies?: Located<ParsedProxy>[]
  readonly routes?: Located<ParsedRoute>[]
  readonly services?: Located<CreateExternalService>[]
  readonly clients?: Located<PortableClient>[]
  readonly certificates?: Located<ParsedCertificate>[]
  /** Sections this version reads but does not import yet. */
  readonly ignored: string[]
}

export type ParseResult = { readonly ok: true; readonly document: ParsedDocument } | { readonly ok: false; readonly issues: string[] }

const list = v.optional(v.array(v.unknown(), 'expected a list'))
const DocumentShape = v.strictObject(
  {
    format: v.literal(CONFIG_FORMAT, `expected "${CONFIG_FORMAT}"`),
    version: v.literal(CONFIG_VERSION, `expected ${CONFIG_VERSION} (the only version this server reads)`),
    exported_at: v.optional(v.string('expected a date')),
    proxies: list,
    routes: list,
    services: v.optional(v.strictObject({ external: list, docker: list }, 'unknown field')),
    oauth_clients: list,
    certificates: list,
  },
  'unknown field',
)

/** Parses with a schema, adding each issue as `path: message` (`proxies[2].custom_headers.X-Bad`, `routes[0].methods[1]`); undefined when it failed. */
function check<S extends v.GenericSchema>(schema: S, input: unknown, base: string, issues: string[]): v.InferOutput<S> | undefined {
  const result = v.safeParse(schema, input)
  if (result.success) return result.output
  for (const issue of result.issues) {
    // valibot reports a missing key as a type issue on undefined; say it plainly, as the API does.
    const message = issue.kind === 'schema' && issue.input === undefined && issue.path?.length ? 'is required' : issue.message
    const line = `${fieldPath(issue.path, base)}: ${message}`
    if (!issues.includes(line)) issues.push(line)
  }
  return undefined
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Parses each entry of a section; entries with problems are dropped (their issues recorded), duplicates of a key reported. */
function section<T>(entries: readonly unknown[] | undefined, name: string, key: (value: T) => string, keyField: string, parse: (entry: Record<string, unknown>, path: string, issues: string[]) => T | undefined, issues: string[]) {
  if (entries === undefined) return undefined
  const parsed: Located<T>[] = []
  const seen = new Map<string, string>()
  entries.forEach((entry, index) => {
    const path = `${name}[${index}]`
    if (!isRecord(entry)) return void issues.push(`${path}: expected an object`)
    const value = parse(entry, path, issues)
    if (value === undefined) return
    const earlier = seen.get(key(value))
    if (earlier !== undefined) return void issues.push(`${path}.${keyField}: ${key(value)} is also ${earlier}`)
    seen.set(key(value), path)
    parsed.push({ path, value })
  })
  return parsed
}

function parseProxy(entry: Record<string, unknown>, path: string, issues: string[]): ParsedProxy | undefined {
  const { github_client_id: id, github_client_secret: secret, ...settings } = entry
  const target = check(CreateProxyTargetSchema, settings, path, issues)
  const gitHubClientId = id === undefined || id === null ? null : check(GitHubAppInputSchema.entries.github_client_id, id, `${path}.github_client_id`, issues)
  const gitHubClientSecret = secret === undefined || secret === null ? undefined : check(GitHubAppInputSchema.entries.github_client_secret, secret, `${path}.github_client_secret`, issues)
  if (gitHubClientSecret !== undefined && gitHubClientId === null) issues.push(`${path}.github_client_secret: needs github_client_id`)
  if (target === undefined || gitHubClientId === undefined || (secret !== undefined && secret !== null && gitHubClientSecret === undefined)) return undefined
  return { target, gitHubClientId, ...(gitHubClientSecret === undefined ? {} : { gitHubClientSecret }) }
}

function parseRoute(entry: Record<string, unknown>, path: string, issues: string[]): ParsedRoute | undefined {
  const { route_id: id, ...fields } = entry
  const routeId = id === undefined ? void issues.push(`${path}.route_id: is required (proxies name routes by it)`) : check(RouteIdSchema, id, `${path}.route_id`, issues)
  const route = check(CreateRouteSchema, fields, path, issues)
  return routeId === undefined || route === undefined ? undefined : { ...route, route_id: routeId }
}

/** The shape first, then the registration policy /register applies, so an import cannot store what registration refuses. */
function parseClient(entry: Record<string, unknown>, path: string, issues: string[]): PortableClient | undefined {
  const shape = check(PortableClientSchema, entry, path, issues)
  if (shape === undefined) return undefined
  const policy = parseClientMetadata(shape)
  if (!policy.ok) {
    // "redirect_uris[0]: …" (lib/field-path.ts) → "oauth_clients[1].redirect_uris[0]: …"
    const namesField = /^[a-z_]+(?:\[\d+\])?: /.test(policy.description)
    issues.push(namesField ? `${path}.${policy.description}` : `${path}: ${policy.description}`)
    return undefined
  }
  const confidential = isConfidentialMethod(policy.metadata.token_endpoint_auth_method)
  if (!confidential && shape.client_secret_hash !== undefined) {
    issues.push(`${path}.client_secret_hash: a public client (token_endpoint_auth_method "none") has no secret`)
    return undefined
  }
  return {
    client_id: shape.client_id,
    ...policy.metadata,
    client_id_issued_at: shape.client_id_issued_at,
    ...(confidential ? { client_secret_expires_at: 0 as const } : {}),
    ...(shape.client_secret_hash === undefined ? {} : { client_secret_hash: shape.client_secret_hash }),
    ...(shape.registration_access_token_hash === undefined ? {} : { registration_access_token_hash: shape.registration_access_token_hash }),
  }
}

/**
 * The API's shape, each domain with the manager's rule (so a bad one is named by its index), then the
 * whole request with the manager's rules and this server's defaults, as request() will see it.
 */
function parseCertificate(entry: Record<string, unknown>, path: string, issues: string[], rules: ParseRules): ParsedCertificate | undefined {
  const request = check(MultiDomainBodySchema, entry, path, issues)
  if (request === undefined) return undefined
  const refused = (error: unknown, at: string) => {
    if (!(error instanceof CertificateError)) throw error
    issues.push(`${at}: ${error.message}`)
  }
  let isEveryDomainValid = true
  request.domains.forEach((domain, index) => {
    try {
      normalizeDomain(domain)
    } catch (error) {
      refused(error, `${path}.domains[${index}]`)
      isEveryDomainValid = false
    }
  })
  if (!isEveryDomainValid) return undefined
  try {
    return { request, definition: rules.resolveCertificate(request) }
  } catch (error) {
    refused(error, `${path}${error instanceof CertificateError && error.field ? `.${error.field}` : ''}`)
    return undefined
  }
}

export function parseConfigDocument(input: unknown, rules: ParseRules): ParseResult {
  if (!isRecord(input)) return { ok: false, issues: ['the document must be an object with format, version and the sections to import'] }
  const issues: string[] = []
  const shape = check(DocumentShape, input, '', issues)
  if (shape === undefined) return { ok: false, issues }
  const ignored = [
    ...(shape.services?.docker?.length ? [`services.docker: ${shape.services.docker.length} entries ignored (this server does not import Docker services yet)`] : []),
  ]
  const document: ParsedDocument = {
    proxies: section(shape.proxies, 'proxies', (proxy) => proxy.target.proxy_hostname, 'proxy_hostname', parseProxy, issues),
    routes: section(shape.routes, 'routes', (route) => route.route_id, 'route_id', parseRoute, issues),
    services: section(shape.services?.external, 'services.external', (service) => service.service_name, 'service_name', (entry, path, found) => check(CreateExternalServiceSchema, entry, path, found), issues),
    clients: section(shape.oauth_clients, 'oauth_clients', (client) => client.client_id, 'client_id', parseClient, issues),
    certificates: section(shape.certificates, 'certificates', (certificate) => certificate.definition.cert_name, 'cert_name', (entry, path, found) => parseCertificate(entry, path, found, rules), issues),
    ignored,
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, document }
}
