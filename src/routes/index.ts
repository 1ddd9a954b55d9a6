/** @module Routes: the model, input schemas, pattern rules, the store that changes routes, and matching. */
export {
  ROUTE_MODES,
  ROUTE_SCOPES,
  ROUTE_TARGET_TYPES,
  RouteAuthSchema,
  RouteSchema,
  type ProxyRouteSettings,
  type Route,
  type RouteAuth,
  type RouteMode,
  type RouteScope,
  type RouteTargetType,
} from './model.ts'
export {
  checkRouteFields,
  CreateRouteSchema,
  ListRoutesQuerySchema,
  normaliseTarget,
  RouteIdSchema,
  UpdateRouteSchema,
  type CreateRoute,
  type RouteFields,
  type UpdateRoute,
} from './schemas.ts'
export { RouteError, type RouteErrorKind } from './errors.ts'
export { checkPattern } from './pattern.ts'
export { byMatchingOrder } from './order.ts'
export { routeFingerprint } from './claims.ts'
export { createRouteStore, routesTargeting, type RouteStore, type RouteTargetChecks } from './service.ts'
export { compileRouteTable, type RouteMatch, type RouteTable } from './matcher.ts'
