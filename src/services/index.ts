/** @module External services: named backend URLs that proxies and routes can point at. */
export { ServiceError } from './errors.ts'
export {
  CreateExternalServiceSchema,
  ExternalServiceSchema,
  ServiceNameSchema,
  UpdateExternalServiceSchema,
  type CreateExternalService,
  type ExternalService,
  type UpdateExternalService,
} from './model.ts'
export { createExternalServices, type ExternalServices } from './service.ts'
