/** @module Proxy targets: the hostname → backend model, its validation, and the service that changes it. */
export { TargetError } from './errors.ts'
export { HostnameSchema, isValidHostname, wildcardParent } from '../lib/index.ts'
export {
  CreateProxyTargetSchema,
  ProxyTargetSchema,
  UpdateProxyAuthSchema,
  UpdateProxyTargetSchema,
  UpdateResourceSettingsSchema,
  UpdateRouteSettingsSchema,
  serviceNameOf,
  type CreateProxyTarget,
  type ProxyTarget,
  type UpdateProxyAuth,
  type UpdateProxyTarget,
  type UpdateResourceSettings,
  type UpdateRouteSettings,
} from './model.ts'
export { RESOURCE_DEFAULTS, ResourceSettingsSchema, resourceSettingsOf, type ResourceSettings } from './resource-settings.ts'
export { hasOAuthServerOverrides, OAuthServerSettingsSchema, oauthServerSettingsOf, type OAuthServerSettings } from './oauth-server-settings.ts'
export { ROUTE_MODES, RouteIdSchema, RouteSettingsSchema, type RouteMode, type RouteSettings, type RouteUse } from './route-settings.ts'
export {
  accessListsOf,
  AUTH_MODES,
  ORIGIN_CHECKS,
  authSettingsOf,
  GitHubAppInputSchema,
  GitHubAppViewSchema,
  ProxyAuthSchema,
  type AuthMode,
  type OriginCheck,
  type GitHubApp,
  type GitHubAppView,
  type ProxyAuth,
} from './auth-settings.ts'
export { createProxyTargets, type ProxyTargets } from './service.ts'
export { createTargetCache, hostnamesTargeting } from './target-cache.ts'
