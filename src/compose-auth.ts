/**
 * @module Composition of the resource policy: which origins are resources (RFC 8707), which proxy each
 * belongs to, who may have which scopes there (allowlists, scope lists, GitHub organisation and team
 * memberships), which GitHub app and scopes a login for it uses, and which proxies have their own
 * browser client (redirect mode). It joins the proxy list (targets/) to the oauth module's pure
 * decisions; a composition root, since domain modules may not import each other. The authorization
 * server (compose-oauth.ts) is built on it, and the edge can use the same object.
 *
 * The resource of a proxy is the origin clients use: `https://<host>[:port]`, or `http://` for a
 * loopback name, any port; a name under a wildcard proxy is a resource of its own (a token for
 * a.example.com is no token for b.example.com). Which proxy serves a name follows the edge's own
 * lookup: the proxy stored under that exact name, else the "*.parent" one.
 */
import type { Config } from './config/index.ts'
import { wildcardParent } from './lib/index.ts'
import {
  decideSiteAccess,
  DEFAULT_GITHUB_SCOPE,
  githubScopeFor,
  isLoopbackHost,
  resolveResource,
  selectApp,
  type Access,
  type GitHubClient,
  type OAuthUser,
  type ProxyDirectory,
  type SelectedApp,
} from './oauth/index.ts'
import { accessListsOf, type ProxyTarget, type ProxyTargets } from './targets/index.ts'

export interface ResourcePolicy {
  /** RFC 8707 §2: the canonical resource a request names (the API's when absent), or null (invalid_target). */
  resolve(requested: string | undefined): Promise<string | null>
  /** The auth-enabled proxy a canonical resource origin belongs to; null for the API's resource and anything unknown. */
  proxyFor(resource: string): Promise<ProxyTarget | null>
  /** Who may use the resource with which scopes; `githubToken` is needed only where GitHub memberships are checked. */
  accessFor(user: OAuthUser, resource: string, githubToken?: string | null): Promise<Access>
  /** The GitHub OAuth app logins for the resource use: the proxy's own, else GITHUB_CLIENT_ID/_SECRET; null when none. */
  githubAppFor(resource: string): Promise<SelectedApp | null>
  /** The GitHub scopes such a login asks for: read:org only for a proxy with organisation or team lists. */
  githubScopeFor(resource: string): Promise<string>
  /** For the proxies' own browser clients (`proxy:<hostname>`). */
  readonly proxyDirectory: ProxyDirectory
}

export interface ResourcePolicyDeps {
  /** The management API's resource (PUBLIC_URL). */
  readonly apiResource: string
  /** The proxy list, cached (createTargetCache). */
  readonly proxies: () => Promise<ProxyTarget[]>
  /** The API's own listening origin: a proxy in front of the API is an issuer, not a resource. */
  readonly apiOrigin: () => string
  readonly config: Pick<Config, 'oauth' | 'github'>
  readonly targets: Pick<ProxyTargets, 'gitHubApp'>
  readonly github: Pick<GitHubClient, 'findMembership'>
}

const DENIED: Access = { allowed: false, scopes: [] }

export function createResourcePolicy(deps: ResourcePolicyDeps): ResourcePolicy {
  // The cache hands out the same list until something changes, so each list is indexed once.
  const indexes = new WeakMap<ProxyTarget[], Map<string, ProxyTarget>>()
  async function index(): Promise<Map<string, ProxyTarget>> {
    const list = await deps.proxies()
    let byName = indexes.get(list)
    if (!byName) indexes.set(list, (byName = new Map(list.map((target) => [target.proxy_hostname, target]))))
    return byName
  }

  /** The edge's lookup: the exact proxy even when it has no auth (it wins over the wildcard), else the wildcard's. */
  const servingProxy = (byName: Map<string, ProxyTarget>, host: string) => byName.get(host) ?? byName.get(wildcardParent(host) ?? '') ?? null

  const isProtected = (target: ProxyTarget) => target.enabled && target.auth_enabled && URL.parse(target.target_url)?.origin !== deps.apiOrigin()

  /** The protected proxy behind a canonical origin (https any port, http only for loopback names), or null. */
  function protectedProxyOf(byName: Map<string, ProxyTarget>, origin: string): ProxyTarget | null {
    const url = URL.parse(origin)
    if (!url || url.origin !== origin) return null
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) return null
    const target = servingProxy(byName, url.hostname)
    return target && isProtected(target) ? target : null
  }

  /** The resource identifier a protected proxy advertises at an origin (RFC 9728 §2): the origin and its resource path. */
  const identifierOf = (origin: string, target: ProxyTarget) => (target.resource_endpoint === '/' ? origin : `${origin}${target.resource_endpoint}`)

  /** The protected proxy whose resource identifier this is (a token minted before resource_endpoint changed names none). */
  const proxyFor = async (resource: string) => {
    if (resource === deps.apiResource) return null
    const origin = URL.parse(resource)?.origin
    const target = origin ? protectedProxyOf(await index(), origin) : null
    return target && identifierOf(origin!, target) === resource ? target : null
  }

  return {
    async resolve(requested) {
      const byName = await index()
      return resolveResource(requested, {
        apiResource: deps.apiResource,
        proxyResources: (origin) => protectedProxyOf(byName, origin) !== null,
        proxyResourceOf: (origin) => identifierOf(origin, protectedProxyOf(byName, origin)!),
      })
    },
    proxyFor,
    async accessFor(user, resource, githubToken = null) {
      const defaults = deps.config.oauth
      if (resource === deps.apiResource) return decideSiteAccess(deps.github, { user, site: null, defaults, githubToken })
      const proxy = await proxyFor(resource)
      // A proxy that lost its auth (or was deleted) admits nobody through tokens meant for it.
      return proxy ? decideSiteAccess(deps.github, { user, site: accessListsOf(proxy), defaults, githubToken }) : DENIED
    },
    async githubAppFor(resource) {
      const proxy = await proxyFor(resource)
      return selectApp(proxy ? await deps.targets.gitHubApp(proxy.proxy_hostname) : null, deps.config.github)
    },
    async githubScopeFor(resource) {
      const proxy = await proxyFor(resource)
      return proxy ? githubScopeFor(accessListsOf(proxy)) : DEFAULT_GITHUB_SCOPE
    },
    proxyDirectory: {
      async isRedirectProxy(hostname) {
        const target = (await index()).get(hostname)
        return !!target && target.enabled && target.auth_enabled && target.auth_mode === 'redirect'
      },
      async proxyServing(host) {
        return servingProxy(await index(), host)?.proxy_hostname ?? null
      },
    },
  }
}
