/**
 * @module Composition of the authorization server: builds its parts once and returns their routes.
 * A token is for one resource (RFC 8707): the management API, or an auth-enabled proxy, whose own
 * allowlist, scope lists and GitHub app then apply (falling back to OAUTH_*_USERS and GITHUB_CLIENT_*).
 */
import {
  authorizeRoutes,
  clientAdminRoutes,
  createDeviceGrant,
  deviceRoutes,
  oauthMetadataRoutes,
  registerRoutes,
  tokenAdminRoutes,
  tokenRoutes,
  type RouteSpec,
} from './api/index.ts'
import * as v from 'valibot'
import type { Config } from './config/index.ts'
import type { EventBus } from './events/index.ts'
import type { Clock, Logger } from './lib/index.ts'
import {
  accessFor,
  apiResource,
  createCimdResolver,
  createClientFinder,
  createClientRegistry,
  createDeviceAuthorizations,
  createGitHubClient,
  createGrants,
  createIssuerResolver,
  isLoopbackHost,
  MetadataOverridesSchema,
  resolveResource,
  selectApp,
  type ClientRegistry,
  type Grants,
  type KeyRing,
  type OAuthUser,
} from './oauth/index.ts'
import type { Store } from './store/index.ts'
import { accessListsOf, createTargetCache, hostnamesTargeting, type ProxyTarget, type ProxyTargets } from './targets/index.ts'

export interface OAuthServer {
  readonly routes: RouteSpec[]
  readonly grants: Grants
  /** Registered (RFC 7591) clients, for the configuration export and import. */
  readonly clients: ClientRegistry
  /** Whether a token's iss is one of this server's issuers (PUBLIC_URL, the API's own address, a proxy in front of the API). */
  isOurIssuer(issuer: string): Promise<boolean>
}

export interface OAuthDeps {
  readonly config: Config
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly keyRing: KeyRing
  readonly targets: ProxyTargets
  /** The API's own origin, known once it listens. */
  readonly apiOrigin: () => string
}

export function composeOAuthServer(deps: OAuthDeps): OAuthServer {
  const { config, store, clock, logger } = deps
  const audience = apiResource(config)
  const proxies = createTargetCache(deps.targets, deps.bus, clock)
  const resolveIssuer = createIssuerResolver({
    publicUrl: config.publicUrl,
    apiOrigin: deps.apiOrigin,
    apiProxyHostnames: hostnamesTargeting(proxies, deps.apiOrigin),
  })
  const resources = createResourcePolicy({ apiResource: audience, proxies, apiOrigin: deps.apiOrigin, config, targets: deps.targets })

  const registry = createClientRegistry(store, clock)
  const clients = createClientFinder(registry, createCimdResolver({ clock, allowPrivateAddresses: config.oauth.cimdAllowPrivate, logger }))
  const github = createGitHubClient({ webUrl: config.github.url, apiUrl: config.github.apiUrl, logger })
  const grants = createGrants({
    store,
    clock,
    keyRing: deps.keyRing,
    logger,
    accessTokenLifetimeSec: config.oauth.accessTokenLifetimeSec,
    refreshTokenLifetimeSec: config.oauth.refreshTokenLifetimeSec,
    // Every node's token verifier evicts the revoked token from its cache (auth/verifier.ts).
    onAccessTokenRevoked: (jti) => deps.bus.publish({ type: 'token_revoked', jti }),
    // RFC 6749 §6: a refresh re-checks access; scopes may shrink, never grow.
    recheck: async (grant) => {
      const access = await resources.accessFor(grant.user, grant.resource)
      return access.allowed ? grant.scopes.filter((scope) => access.scopes.includes(scope)) : null
    },
  })
  const devices = createDeviceAuthorizations({ store, clock, logger, github, grants, githubAppFor: resources.githubAppFor, accessFor: resources.accessFor })

  return {
    grants,
    clients: registry,
    // An issuer is ours when a request to its host would resolve to exactly that issuer.
    async isOurIssuer(issuer) {
      if (issuer === config.publicUrl) return true
      const url = URL.parse(issuer)
      if (!url || url.origin !== issuer) return false
      return (await resolveIssuer(new Request(issuer, { headers: { host: url.host } }))) === issuer
    },
    routes: [
      ...oauthMetadataRoutes({
        resolveIssuer,
        // Original §4.8: a proxy in front of the authorization server may narrow its scopes and add fields.
        overridesFor: async (hostname) => {
          const proxy = (await proxies()).find((target) => target.proxy_hostname === hostname)
          if (!proxy || (!proxy.oauth_server_scopes && !proxy.oauth_server_custom_metadata)) return null
          const overrides = v.safeParse(MetadataOverridesSchema, {
            ...(proxy.oauth_server_scopes ? { scopes_supported: proxy.oauth_server_scopes } : {}),
            ...(proxy.oauth_server_custom_metadata ? { custom_metadata: proxy.oauth_server_custom_metadata } : {}),
          })
          if (overrides.success) return overrides.output
          logger.warn('ignored invalid metadata overrides', { proxy: hostname })
          return null
        },
      }),
      ...registerRoutes(registry, resolveIssuer),
      ...authorizeRoutes({
        resolveIssuer,
        findClient: (clientId) => clients.findClient(clientId),
        resolveResource: resources.resolve,
        githubAppFor: resources.githubAppFor,
        github,
        grants,
        accessFor: resources.accessFor,
        store,
        clock,
        logger,
        callbackPath: '/callback',
      }),
      ...deviceRoutes({ devices, registry: clients, resolveIssuer, logger, resolveResource: resources.resolve }),
      ...tokenRoutes({ grants, registry: clients, resolveIssuer, logger, deviceGrant: createDeviceGrant({ devices, logger }) }),
      ...tokenAdminRoutes(grants),
      ...clientAdminRoutes(registry, grants),
    ],
  }
}

/** The origin a proxy is known by as a resource: https, or http for loopback names (RFC 8252 §8.3). */
function resourceOf(target: ProxyTarget): string | null {
  if (target.proxy_hostname.startsWith('*.')) return null
  return `${isLoopbackHost(target.proxy_hostname) ? 'http' : 'https'}://${target.proxy_hostname}`
}

/** Which resources exist, and who may have which scopes at each. */
function createResourcePolicy(deps: {
  apiResource: string
  proxies: () => Promise<ProxyTarget[]>
  apiOrigin: () => string
  config: Config
  targets: ProxyTargets
}) {
  /** Auth-enabled proxies that are not the API itself, by their resource origin. */
  const protectedProxies = async () => {
    const byResource = new Map<string, ProxyTarget>()
    for (const target of await deps.proxies()) {
      const resource = resourceOf(target)
      const isApi = URL.parse(target.target_url)?.origin === deps.apiOrigin()
      if (resource && target.enabled && target.auth_enabled && !isApi) byResource.set(resource, target)
    }
    return byResource
  }
  const proxyFor = async (resource: string) => (resource === deps.apiResource ? null : ((await protectedProxies()).get(resource) ?? null))
  return {
    async resolve(requested: string | undefined): Promise<string | null> {
      const known = await protectedProxies()
      return resolveResource(requested, { apiResource: deps.apiResource, proxyResources: (origin) => known.has(origin) })
    },
    async accessFor(user: OAuthUser, resource: string) {
      if (resource === deps.apiResource) return accessFor(user, null, deps.config.oauth)
      const proxy = await proxyFor(resource)
      // A proxy that lost its auth (or was deleted) admits nobody through tokens meant for it.
      return proxy ? accessFor(user, accessListsOf(proxy), deps.config.oauth) : { allowed: false, scopes: [] }
    },
    async githubAppFor(resource: string) {
      const proxy = await proxyFor(resource)
      return selectApp(proxy ? await deps.targets.gitHubApp(proxy.proxy_hostname) : null, deps.config.github)
    },
  }
}
