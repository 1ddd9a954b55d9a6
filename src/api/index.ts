/** @module The management API: the Hono app and the route-definition helper feature modules use. */
export { createApiApp, type ApiDeps } from './app.ts'
export type { Principal, RouteScope, SessionCredential, VerifyApiToken } from './auth.ts'
export { defineRoute, type RouteSpec } from './define-route.ts'
export { ApiError, type ApiErrorCode } from './errors.ts'
export { clientAddressOf, userAgentOf } from './client-address.ts'
export { apiRateLimit, isAuthorizationServerPath, type ApiRateLimits } from './rate-limit.ts'
export { proxyTargetRoutes, type ProxyTargetRoutesDeps } from './proxy-targets.ts'
export { proxyRouteRoutes, type ProxyRoutesDeps } from './proxy-routes.ts'
export { externalServiceRoutes, type ExternalServiceRoutesDeps } from './external-services.ts'
export { dockerServiceRoutes, type DockerServiceRoutesDeps } from './docker-services.ts'
export { createLogFollows, type LogFollows } from './docker-service-logs.ts'
export { proxyAuthRoutes } from './proxy-auth.ts'
export { proxyResourceRoutes } from './proxy-resource.ts'
export { proxyOAuthServerRoutes } from './proxy-oauth-server.ts'
export { routeRoutes } from './routes.ts'
export { portRoutes } from './ports.ts'
export { certificateRoutes, type CertificateOperations, type CertificateRoutesDeps } from './certificates.ts'
export {
  authorizeRoutes,
  clientAdminRoutes,
  createDeviceGrant,
  deviceRoutes,
  oauthMetadataRoutes,
  OPEN_REGISTRATION,
  registerRoutes,
  registrationTokenRoutes,
  tokenAdminRoutes,
  tokenRoutes,
  type DeviceGrantHandler,
  type DeviceRoutesDeps,
  type FormParams,
  type OAuthMetadataDeps,
  type RegistrationGate,
  type RegistrationMode,
  type TokenRoutesDeps,
} from './oauth/index.ts'
export { systemConfigRoutes } from './system-config.ts'
export { systemNodeRoutes, type SystemNodesDeps } from './system-nodes.ts'
export { verifyRoutes, type VerifyRoutesDeps } from './verify.ts'
export type { ConfigDeps } from './config-document.ts'
export { metricsRoutes, type MetricsRoutesDeps } from './metrics.ts'
export { oauthEventRoutes, type OAuthEventRoutesDeps } from './oauth-events.ts'
export { applyLogLevelChange, logLevelRoutes, type LogLevelRoutesDeps } from './logs-level.ts'
export { logCaptureRoutes, type CaptureRoutesDeps } from './logs-capture.ts'
export { logRoutes, type LogRoutesDeps } from './logs.ts'
