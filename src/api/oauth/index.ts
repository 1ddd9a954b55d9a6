/** @module The authorization server's HTTP endpoints (DESIGN §2): registration, authorization, device, token, discovery, and the admin views of clients and tokens. */
export { registerRoutes } from './register.ts'
export { authorizeRoutes } from './authorize.ts'
export { createDeviceGrant, deviceRoutes, type DeviceRoutesDeps } from './device.ts'
export { tokenRoutes, type DeviceGrantHandler, type TokenRoutesDeps } from './token.ts'
export { tokenAdminRoutes } from './tokens-admin.ts'
export { clientAdminRoutes } from './clients-admin.ts'
export type { FormParams } from './form-body.ts'
export { oauthMetadataRoutes, type OAuthMetadataDeps } from './metadata.ts'
