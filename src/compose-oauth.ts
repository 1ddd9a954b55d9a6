/**
 * @module Composition of the authorization server: builds its parts once and returns their routes.
 * A token is for one resource (RFC 8707): the management API, or an auth-enabled proxy, whose own
 * allowlist, scope lists, GitHub organisations and teams and GitHub app then apply (falling back to
 * OAUTH_*_USERS and GITHUB_CLIENT_*); which is which is the resource policy's (compose-auth.ts).
 *
 * The activity the authorization server reports (logins, consent, tokens, registrations) goes to the
 * OAuth activity log with the address and user agent of the request that caused it. Those ride along
 * in an AsyncLocalStorage this function owns, entered by every route below, so the grant code need
 * not carry the HTTP request through its signatures; calls from outside a request (the edge's browser
 * sessions refreshing in-process) have neither.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import {
  authorizeRoutes,
  clientAddressOf,
  clientAdminRoutes,
  createDeviceGrant,
  deviceRoutes,
  oauthMetadataRoutes,
  registerRoutes,
  registrationTokenRoutes,
  tokenAdminRoutes,
  tokenRoutes,
  userAgentOf,
  type RegistrationGate,
  type RouteSpec,
} from './api/index.ts'
import * as v from 'valibot'
import { createResourcePolicy, type ResourcePolicy } from './compose-auth.ts'
import type { Config } from './config/index.ts'
import type { EventBus } from './events/index.ts'
import { DomainError, type Clock, type Logger } from './lib/index.ts'
import type { OAuthEventInput } from './logs/index.ts'
import {
  apiResource,
  createCimdResolver,
  createClientFinder,
  createClientRegistry,
  createDeviceAuthorizations,
  createGitHubClient,
  createGrants,
  createIssuerResolver,
  createRegistrationLimiter,
  createRegistrationTokens,
  MetadataOverridesSchema,
  type ClientRegistry,
  type Grants,
  type KeyRing,
  type RecordActivity,
  type ResolveIssuer,
} from './oauth/index.ts'
import { createExemptions, type RateLimitCounts } from './ratelimit/index.ts'
import type { Store } from './store/index.ts'
import { createTargetCache, hostnamesTargeting, type ProxyTargets } from './targets/index.ts'

export interface OAuthServer {
  readonly routes: RouteSpec[]
  readonly grants: Grants
  /** Registered (RFC 7591) clients, for the configuration export and import. */
  readonly clients: ClientRegistry
  /** Which origins are resources and who may use them: the same policy the edge can enforce with. */
  readonly resources: ResourcePolicy
  /** Whether a token's iss is one of this server's issuers (PUBLIC_URL, the API's own address, a proxy in front of the API). */
  isOurIssuer(issuer: string): Promise<boolean>
  /** The issuer a request's host is, or null: also where the web UI signs in. */
  readonly resolveIssuer: ResolveIssuer
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
  /** The OAuth activity log (logs/oauth-activity.ts). */
  readonly activity: { record(event: OAuthEventInput): void }
  /** The node's rate-limit refusal counts (/metrics): the registration limit's 429s go there too. */
  readonly rateLimitCounts?: RateLimitCounts
}

interface Requester {
  readonly ip: string | null
  readonly userAgent: string | null
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
  const requests = new AsyncLocalStorage<Requester>()
  const recordActivity: RecordActivity = (activity) => {
    const requester = requests.getStore()
    deps.activity.record({ ...activity, ip: requester?.ip ?? null, user_agent: requester?.userAgent ?? null })
  }
  /** Every route runs with its request's address and user agent at hand for recordActivity. */
  const withRequester = (route: RouteSpec): RouteSpec => ({
    ...route,
    handler: (c, input) => requests.run({ ip: clientAddressOf(c), userAgent: userAgentOf(c) }, () => route.handler(c, input)),
  })
  const github = createGitHubClient({ webUrl: config.github.url, apiUrl: config.github.apiUrl, logger })
  const resources = createResourcePolicy({ apiResource: audience, proxies, apiOrigin: deps.apiOrigin, config, targets: deps.targets, github })

  const registry = createClientRegistry(store, clock, { recordActivity, unusedClientTtlSec: config.oauth.registration.unusedClientTtlSec })
  // RFC 7591 §3: who may register (OAUTH_REGISTRATION), and how often one address may try, on all nodes together.
  const registrationTokens = createRegistrationTokens(store, clock)
  const registrationLimiter = createRegistrationLimiter(store, clock, config.oauth.registration.perAddressPerHour)
  const { mode } = config.oauth.registration
  const limit = { limiter: registrationLimiter, isExempt: createExemptions(config.rateLimits.exempt), logger, counts: deps.rateLimitCounts }
  const registrationGate: RegistrationGate = mode === 'token' ? { mode, tokens: registrationTokens, ...limit } : { mode, ...limit }
  const cimd = createCimdResolver({ clock, allowPrivateAddresses: config.oauth.cimdAllowPrivate, logger })
  // An issuer is ours when a request to its host would resolve to exactly that issuer.
  async function isOurIssuer(issuer: string): Promise<boolean> {
    if (issuer === config.publicUrl) return true
    const url = URL.parse(issuer)
    if (!url || url.origin !== issuer) return false
    return (await resolveIssuer(new Request(issuer, { headers: { host: url.host } }))) === issuer
  }
  // The web UI is served wherever the API answers: on each of its issuers' origins (PUBLIC_URL's too, whatever its path).
  const publicOrigin = new URL(config.publicUrl).origin
  const uiOrigins = { apiResource: audience, isApiOrigin: async (origin: string) => origin === publicOrigin || (await isOurIssuer(origin)) }
  // The CLI's own client (device flow) exists whatever OAUTH_REGISTRATION says; its tokens are for the API alone.
  const clients = createClientFinder(registry, cimd, resources.proxyDirectory, uiOrigins, { apiResource: audience })
  const grants = createGrants({
    store,
    clock,
    keyRing: deps.keyRing,
    logger,
    accessTokenLifetimeSec: config.oauth.accessTokenLifetimeSec,
    refreshTokenLifetimeSec: config.oauth.refreshTokenLifetimeSec,
    recordActivity,
    // Every node's token verifier evicts the revoked token from its cache (auth/verifier.ts).
    onAccessTokenRevoked: (jti) => deps.bus.publish({ type: 'token_revoked', jti }),
    // RFC 6749 §6: a refresh re-checks access (GitHub memberships too, with the token kept for it);
    // scopes may shrink, never grow. A GitHub that does not answer is no refusal: the refresh fails
    // and the family stays, to be tried again.
    recheck: async (grant) => {
      const access = await resources.accessFor(grant.user, grant.resource, grant.upstreamToken ?? null)
      if (access.denial === 'github_unavailable') throw new DomainError('unavailable', 'GitHub did not answer the membership check of this refresh; the refresh token stays valid, retry later')
      if (access.denial) logger.info('refresh refused by GitHub membership', { username: grant.user.username, resource: grant.resource, denial: access.denial })
      return access.allowed ? grant.scopes.filter((scope) => access.scopes.includes(scope)) : null
    },
  })
  const devices = createDeviceAuthorizations({
    store,
    clock,
    logger,
    github,
    grants,
    githubAppFor: resources.githubAppFor,
    githubScopeFor: resources.githubScopeFor,
    accessFor: resources.accessFor,
    recordActivity,
  })

  return {
    grants,
    clients: registry,
    resources,
    isOurIssuer,
    resolveIssuer,
    routes: [
      ...oauthMetadataRoutes({
        resolveIssuer,
        offersRegistration: mode !== 'closed',
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
      ...registerRoutes(registry, resolveIssuer, registrationGate),
      ...registrationTokenRoutes(registrationTokens),
      ...authorizeRoutes({
        resolveIssuer,
        findClient: (clientId) => clients.findClient(clientId),
        clientRules: clients,
        resolveResource: resources.resolve,
        githubAppFor: resources.githubAppFor,
        githubScopeFor: resources.githubScopeFor,
        github,
        grants,
        accessFor: resources.accessFor,
        store,
        clock,
        logger,
        callbackPath: '/callback',
        recordActivity,
      }),
      ...deviceRoutes({ devices, registry: clients, clientRules: clients, resolveIssuer, logger, resolveResource: resources.resolve }),
      ...tokenRoutes({ grants, registry: clients, resolveIssuer, logger, deviceGrant: createDeviceGrant({ devices, logger }) }),
      ...tokenAdminRoutes(grants),
      ...clientAdminRoutes(registry, grants),
    ].map(withRequester),
  }
}
