/**
 * @module Composition of the authorization server: builds its parts once and returns their routes.
 * Every grant is for the management API until tokens for proxies are issued (its own issue), so access
 * follows the OAUTH_*_USERS lists and RFC 8707 resources other than the API's are unknown.
 */
import {
  authorizeRoutes,
  createDeviceGrant,
  deviceRoutes,
  oauthMetadataRoutes,
  registerRoutes,
  tokenAdminRoutes,
  tokenRoutes,
  type RouteSpec,
} from './api/index.ts'
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
  resolveResource,
  selectApp,
  type Grants,
  type KeyRing,
  type OAuthUser,
} from './oauth/index.ts'
import type { Store } from './store/index.ts'
import { createHostnamesTargeting, type ProxyTargets } from './targets/index.ts'

export interface OAuthServer {
  readonly routes: RouteSpec[]
  readonly grants: Grants
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
  const resolveIssuer = createIssuerResolver({
    publicUrl: config.publicUrl,
    apiOrigin: deps.apiOrigin,
    apiProxyHostnames: createHostnamesTargeting(deps.targets, deps.bus, deps.apiOrigin, clock),
  })
  const apiAccess = async (user: OAuthUser) => accessFor(user, null, config.oauth)
  const knownResource = async (requested: string | undefined) => resolveResource(requested, { apiResource: audience, proxyResources: () => false })
  const githubAppFor = async () => selectApp(null, config.github)

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
    // RFC 6749 §6: a refresh re-checks access; scopes may shrink, never grow.
    recheck: async (grant) => {
      const access = await apiAccess(grant.user)
      return access.allowed ? grant.scopes.filter((scope) => access.scopes.includes(scope)) : null
    },
  })
  const devices = createDeviceAuthorizations({ store, clock, logger, github, grants, githubAppFor, accessFor: apiAccess })

  return {
    grants,
    routes: [
      ...oauthMetadataRoutes({ resolveIssuer }),
      ...registerRoutes(registry),
      ...authorizeRoutes({
        resolveIssuer,
        findClient: (clientId) => clients.findClient(clientId),
        resolveResource: knownResource,
        githubAppFor,
        github,
        grants,
        accessFor: (user) => apiAccess(user),
        store,
        clock,
        logger,
        callbackPath: '/callback',
      }),
      ...deviceRoutes({ devices, registry: clients, resolveIssuer, logger, resolveResource: knownResource }),
      ...tokenRoutes({ grants, registry: clients, resolveIssuer, logger, deviceGrant: createDeviceGrant({ devices, logger }) }),
      ...tokenAdminRoutes(grants),
    ],
  }
}
