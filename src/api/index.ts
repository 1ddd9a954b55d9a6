/** @module The management API: the Hono app and the route-definition helper feature modules use. */
export { createApiApp, type ApiDeps } from './app.ts'
export type { Principal, RouteScope, VerifyApiToken } from './auth.ts'
export { defineRoute, type RouteSpec } from './define-route.ts'
export { ApiError, type ApiErrorCode } from './errors.ts'
export { proxyTargetRoutes } from './proxy-targets.ts'
export { portRoutes } from './ports.ts'
export { registerRoutes } from './oauth-register.ts'
export { oauthMetadataRoutes, type OAuthMetadataDeps } from './oauth-metadata.ts'
