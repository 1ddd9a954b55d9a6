/** @module Proxy targets: the hostname → backend model, its validation, and the service that changes it. */
export { TargetError } from './errors.ts'
export { hostMatches, HostnameSchema, isValidHostname, wildcardParent } from './hostname.ts'
export {
  CreateProxyTargetSchema,
  ProxyTargetSchema,
  UpdateProxyTargetSchema,
  type CreateProxyTarget,
  type ProxyTarget,
  type UpdateProxyTarget,
} from './model.ts'
export { createProxyTargets, type ProxyTargets } from './service.ts'
export { createHostnamesTargeting } from './api-hostnames.ts'
