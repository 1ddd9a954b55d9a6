/**
 * @module /proxy/targets/{hostname}/resource: a protected proxy as an OAuth protected resource
 * (RFC 9728): the path of its resource identifier and what its metadata document adds (admin writes,
 * user reads). PUT takes this API's field names; POST takes the original's body (original-behaviour
 * §3.4) and maps it. Every change is announced as proxy_updated, so every node's edge serves it at once.
 */
import * as v from 'valibot'
import {
  RESOURCE_DEFAULTS,
  ResourceSettingsSchema,
  resourceSettingsOf,
  TargetError,
  UpdateResourceSettingsSchema,
  type ProxyTarget,
  type ProxyTargets,
  type UpdateResourceSettings,
} from '../targets/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'
import { HostnameParams } from './proxy-targets.ts'

const NOT_FOUND = { description: 'no such proxy' }

const RESOURCE_SEMANTICS =
  'The resource identifier (RFC 8707 §2, RFC 9728 §2 `resource`) is the origin clients use (https://<hostname>, or http:// on the HTTP listener) ' +
  'followed by resource_endpoint ("/" adds nothing): tokens must name exactly it, and its metadata is served at ' +
  '/.well-known/oauth-protected-resource followed by resource_endpoint (RFC 9728 §3.1). resource_scopes is scopes_supported (null: admin, user and mcp); ' +
  'resource_documentation a page for people; resource_custom_metadata extra top-level fields. authorization_servers and ' +
  'bearer_methods_supported (["header"]) are filled in by the proxy.'

const entry = UpdateResourceSettingsSchema.entries

/** RFC 9728 §2 bearer_methods_supported: the edge reads a token from the Authorization header alone. */
const BEARER_METHODS_REFUSED =
  'only ["header"]: tokens are accepted in the Authorization header alone (RFC 9728 §2 bearer_methods_supported; RFC 6750 §2.3: a token in the query is never accepted, and §2.2 form bodies are not read)'

/** Fields of the original's body that did nothing there (original-behaviour §2.1 "Dead"): refused, not silently dropped (§12.2). */
const dead = (why: string) => v.optional(v.never(why))

/**
 * POST's body: the original's ProxyResourceConfig. Each field is checked by the rule of the field it
 * maps to, so its 400 names the field the caller sent.
 */
const OriginalResourceBodySchema = v.pipe(
  v.strictObject(
    {
      endpoint: entry.resource_endpoint,
      scopes: entry.resource_scopes,
      /** Appended to the resource identifier: "/docs" on https://app.example.com/mcp is https://app.example.com/mcp/docs. */
      documentation_suffix: v.optional(v.nullable(v.unwrap(entry.resource_endpoint))),
      custom_metadata: entry.resource_custom_metadata,
      /** The original merged it into the metadata beside custom_metadata; here it becomes part of resource_custom_metadata. */
      server_info: entry.resource_custom_metadata,
      bearer_methods: v.optional(
        v.pipe(
          v.array(v.string(BEARER_METHODS_REFUSED), BEARER_METHODS_REFUSED),
          v.check((methods) => methods.length === 1 && methods[0] === 'header', BEARER_METHODS_REFUSED),
        ),
      ),
      stateful: dead('not supported: it had no effect in the original, and the proxy keeps no per-resource session state'),
      versions: dead('not supported: it had no effect in the original; the backend speaks for its own protocol versions'),
      override_backend: dead('not supported: the original ignored it; the proxy always serves the metadata itself'),
      hacker_one_research_header: dead('not supported here: set the response header with custom_response_headers on the proxy (PUT /proxy/targets/{hostname})'),
    },
    'unknown field',
  ),
  v.forward(
    v.check(
      (body) => body.server_info === undefined || body.custom_metadata === undefined || metadataFits({ ...body.server_info, ...body.custom_metadata }),
      'with server_info: at most 32 fields and 8 KiB of JSON together',
    ),
    ['custom_metadata'],
  ),
)

type OriginalResourceBody = v.InferOutput<typeof OriginalResourceBodySchema>

const metadataFits = (fields: Record<string, unknown>) => v.is(v.unwrap(entry.resource_custom_metadata), fields)

export function proxyResourceRoutes(targets: ProxyTargets): RouteSpec[] {
  const existing = async (hostname: string): Promise<ProxyTarget> => {
    const target = await targets.get(hostname)
    if (!target) throw new TargetError('not_found', `no proxy for ${hostname}`)
    return target
  }
  const view = (target: ProxyTarget) => resourceSettingsOf(target)
  const responses = (what: string) => ({ 200: { description: what, schema: ResourceSettingsSchema }, 404: NOT_FOUND })

  return [
    defineRoute({
      method: 'get',
      path: '/proxy/targets/:hostname/resource',
      params: HostnameParams,
      scope: 'user',
      tag: 'proxies',
      summary: `Read a proxy's protected-resource settings (RFC 9728). ${RESOURCE_SEMANTICS}`,
      responses: responses('the resource settings'),
      handler: async (c, { params }) => c.json(view(await existing(params.hostname))),
    }),
    defineRoute({
      method: 'put',
      path: '/proxy/targets/:hostname/resource',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary: 'Change the protected-resource settings: every field given is applied, the others keep their values; null empties a nullable field',
      body: UpdateResourceSettingsSchema,
      responses: responses('the resource settings now'),
      handler: async (c, { params, body }) => c.json(view(await targets.update(params.hostname, body))),
    }),
    defineRoute({
      method: 'post',
      path: '/proxy/targets/:hostname/resource',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary:
        "The original's spelling: {endpoint, scopes, documentation_suffix, custom_metadata, server_info, bearer_methods}, each applied when given " +
        '(endpoint → resource_endpoint; scopes admin, user or mcp; documentation_suffix → resource_documentation, the resource identifier followed by it; ' +
        'server_info and custom_metadata together → resource_custom_metadata). bearer_methods may only be ["header"] (RFC 6750 §2.3: never the query); ' +
        'stateful, versions, override_backend and hacker_one_research_header are refused',
      body: OriginalResourceBodySchema,
      responses: { ...responses('the resource settings now'), 400: { description: 'a field this server cannot honour, named' } },
      async handler(c, { params, body }) {
        const current = await existing(params.hostname)
        return c.json(view(await targets.update(params.hostname, fromOriginalBody(current, body))))
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/proxy/targets/:hostname/resource',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary: 'Reset the protected-resource settings to their defaults: resource_endpoint "/", the other fields null',
      responses: responses('the resource settings now (the defaults)'),
      handler: async (c, { params }) => c.json(view(await targets.update(params.hostname, { ...RESOURCE_DEFAULTS }))),
    }),
  ]
}

/** The original's body as this API's fields; only what was given. */
function fromOriginalBody(target: ProxyTarget, body: OriginalResourceBody): UpdateResourceSettings {
  const endpoint = body.endpoint ?? target.resource_endpoint
  const update: UpdateResourceSettings = {}
  if (body.endpoint !== undefined) update.resource_endpoint = body.endpoint
  if (body.scopes !== undefined) update.resource_scopes = body.scopes
  if (body.documentation_suffix !== undefined) update.resource_documentation = body.documentation_suffix === null ? null : documentationUrl(target, endpoint, body.documentation_suffix)
  if (body.custom_metadata !== undefined || body.server_info !== undefined) {
    // The original merged server_info first and custom_metadata over it (original-behaviour §4.9).
    // null for either empties it; both null (or one null, the other not given) clears the extra metadata.
    const parts = [body.server_info, body.custom_metadata].filter((part) => part !== undefined && part !== null)
    update.resource_custom_metadata = parts.length === 0 ? null : Object.assign({}, ...parts)
  }
  return update
}

/**
 * The original appended the suffix to the resource identifier when it served the metadata; here it is
 * resolved once, against the origin clients use by default (https unless the proxy serves HTTP only).
 */
function documentationUrl(target: ProxyTarget, endpoint: string, suffix: string): string {
  // A wildcard proxy has no one origin to put in front of the suffix.
  if (target.proxy_hostname.startsWith('*.')) {
    throw new ApiError(400, 'invalid_request', 'field documentation_suffix: a wildcard proxy has no single origin; give a full URL as resource_documentation (PUT)')
  }
  const scheme = target.enable_https ? 'https' : 'http'
  return `${scheme}://${target.proxy_hostname}${endpoint === '/' ? '' : endpoint}${suffix}`
}
