/** @module Proxy targets: the hostname → backend model, its validation, and the service that changes it. */
export { TargetError } from './errors.ts'
export { HostnameSchema, isValidHostname, wildcardParent } from '../lib/index.ts'
export {
  CreateProxyTargetSchema,
  ProxyTargetSchema,
  UpdateProxyAuthSchema,
  UpdateProxyTargetSchema,
  UpdateRouteSettingsSchema,
  serviceNameOf,
  type CreateProxyTarget,
  type ProxyTarget,
  type UpdateProxyAuth,
  type UpdateProxyTarget,
  type UpdateRouteSettings,
} from './model.ts'
export { ROUTE_MODES, RouteIdSchema, RouteSettingsSchema, type RouteMode, type RouteSettings, type RouteUse } from './route-settings.ts'
export {
  accessListsOf,
  AUTH_MODES,
  authSettingsOf,
  GitHubAppInputSchema,
  GitHubAppViewSchema,
  ProxyAuthSchema,
  type AuthMode,
  type GitHubApp,
  type GitHubAppView,
  type ProxyAuth,
} from './auth-settings.ts'
export { createProxyTargets, type ProxyTargets } from './service.ts'
export { createTargetCache, hostnamesTargeting } from './target-cache.ts'
