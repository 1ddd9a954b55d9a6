/**
 * @module /proxy/targets/{hostname}/oauth-server: what the RFC 8414 metadata served on a proxy's host
 * says when the proxy fronts the authorization server (original-behaviour §3.4, §4.8): narrower
 * scopes_supported and extra fields, nothing else. The original's other overrides are refused with
 * the reason, because metadata that promises what the server does not do makes clients fail.
 */
import * as v from 'valibot'
import {
  hasOAuthServerOverrides,
  OAuthServerSettingsSchema,
  oauthServerSettingsOf,
  TargetError,
  UpdateProxyAuthSchema,
  type ProxyTarget,
  type ProxyTargets,
} from '../targets/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { HostnameParams } from './proxy-targets.ts'

const NOT_FOUND = { description: 'no such proxy' }

/** Why each of the original's other overrides is refused; the key is its name in the original's POST body. */
const REFUSED = {
  issuer:
    'cannot be set: the issuer is the URL clients reach this host by, and RFC 8414 §3.3 makes clients refuse metadata whose issuer differs; another issuer would also move every endpoint away from this server',
  grant_types:
    'cannot be set: grant_types_supported lists the grants the token endpoint implements (authorization_code, refresh_token, device_code); advertising others would make clients fail',
  response_types: 'cannot be set: only the authorization code flow exists (response type "code"; OAuth 2.1 has no implicit flow); advertising others would make clients fail',
  token_auth_methods:
    'cannot be set: token_endpoint_auth_methods_supported lists the client authentication the token endpoint checks (none, client_secret_basic, client_secret_post); advertising others would make clients fail',
  claims: 'cannot be set: this server issues no ID tokens, so it has no claims to advertise',
  pkce_required: 'cannot be set: PKCE with S256 is always required (OAuth 2.1 §4.1.1), on every host; there is nothing to switch',
  override_defaults: 'cannot be set: there is no master switch; scopes and custom_metadata apply whenever they are set',
} as const

type RefusedName = keyof typeof REFUSED
const refusedEntries = (prefix: string) =>
  Object.fromEntries(Object.entries(REFUSED).map(([name, why]) => [`${prefix}${name}`, v.optional(v.never(why))])) as Record<string, v.OptionalSchema<v.NeverSchema<string>, undefined>>

const entry = UpdateProxyAuthSchema.entries

/** PUT: this API's names; the original's stored names for the other overrides are refused with the reason. */
const UpdateOAuthServerSchema = v.strictObject(
  { oauth_server_scopes: entry.oauth_server_scopes, oauth_server_custom_metadata: entry.oauth_server_custom_metadata, ...refusedEntries('oauth_server_') },
  'unknown field',
)

/** POST: the original's body, scopes and custom_metadata applied when given, the rest refused with the reason. */
const OriginalOAuthServerBodySchema = v.strictObject(
  { scopes: entry.oauth_server_scopes, custom_metadata: entry.oauth_server_custom_metadata, ...refusedEntries('') },
  'unknown field',
)

/** One proxy's overrides, as GET /proxy/targets/oauth-servers/configured lists them. */
const ConfiguredOAuthServerSchema = v.object({ proxy_hostname: v.string(), ...OAuthServerSettingsSchema.entries })

const SCOPE_SEMANTICS =
  'oauth_server_scopes narrows scopes_supported (null: admin, user and mcp); oauth_server_custom_metadata adds top-level fields (the standard ones always win). ' +
  'They apply to the metadata served on this proxy\'s host when the proxy fronts the authorization server (its target is the API).'

export function proxyOAuthServerRoutes(targets: ProxyTargets): RouteSpec[] {
  const existing = async (hostname: string): Promise<ProxyTarget> => {
    const target = await targets.get(hostname)
    if (!target) throw new TargetError('not_found', `no proxy for ${hostname}`)
    return target
  }
  const change = async (hostname: string, scopes: ProxyTarget['oauth_server_scopes'] | undefined, metadata: ProxyTarget['oauth_server_custom_metadata'] | undefined) =>
    oauthServerSettingsOf(await targets.update(hostname, { oauth_server_scopes: scopes, oauth_server_custom_metadata: metadata }))
  const responses = (what: string) => ({ 200: { description: what, schema: OAuthServerSettingsSchema }, 404: NOT_FOUND })

  return [
    // Before the :hostname routes in the list, so the literal path is never read as a hostname.
    defineRoute({
      method: 'get',
      path: '/proxy/targets/oauth-servers/configured',
      scope: 'user',
      tag: 'proxies',
      summary: 'List the proxies that change the authorization-server metadata on their host (either field set), by hostname',
      responses: { 200: { description: 'the proxies with overrides', schema: v.array(ConfiguredOAuthServerSchema) } },
      async handler(c) {
        const configured = (await targets.list())
          .filter(hasOAuthServerOverrides)
          .sort((a, b) => (a.proxy_hostname < b.proxy_hostname ? -1 : 1))
          .map((target) => ({ proxy_hostname: target.proxy_hostname, ...oauthServerSettingsOf(target) }))
        return c.json(configured)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/proxy/targets/:hostname/oauth-server',
      params: HostnameParams,
      scope: 'user',
      tag: 'proxies',
      summary: `Read what a proxy changes in the authorization-server metadata (RFC 8414) on its host. ${SCOPE_SEMANTICS}`,
      responses: responses('the overrides'),
      handler: async (c, { params }) => c.json(oauthServerSettingsOf(await existing(params.hostname))),
    }),
    defineRoute({
      method: 'put',
      path: '/proxy/targets/:hostname/oauth-server',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary:
        'Change the overrides: every field given is applied, the other keeps its value, null removes it. ' +
        `The original's oauth_server_${Object.keys(REFUSED).join(', oauth_server_')} are refused with the reason`,
      body: UpdateOAuthServerSchema,
      responses: { ...responses('the overrides now'), 400: { description: 'a bad value, or an override this server cannot honour, named' } },
      handler: async (c, { params, body }) => c.json(await change(params.hostname, body.oauth_server_scopes, body.oauth_server_custom_metadata)),
    }),
    defineRoute({
      method: 'post',
      path: '/proxy/targets/:hostname/oauth-server',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary:
        "The original's spelling: {scopes, custom_metadata}, each applied when given. " +
        `${(Object.keys(REFUSED) as RefusedName[]).join(', ')} are refused with the reason (the metadata may not promise what the server does not do)`,
      body: OriginalOAuthServerBodySchema,
      responses: { ...responses('the overrides now'), 400: { description: 'a bad value, or an override this server cannot honour, named' } },
      handler: async (c, { params, body }) => c.json(await change(params.hostname, body.scopes, body.custom_metadata)),
    }),
    defineRoute({
      method: 'delete',
      path: '/proxy/targets/:hostname/oauth-server',
      params: HostnameParams,
      scope: 'admin',
      tag: 'proxies',
      summary: "Remove both overrides: the host serves the server's own metadata again",
      responses: responses('the overrides now (none)'),
      handler: async (c, { params }) => c.json(await change(params.hostname, null, null)),
    }),
  ]
}
