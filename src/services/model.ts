/**
 * @module An external service: a name for a backend URL, so proxies (`service://<name>`) and routes
 * (target_type `service`) can point at it and follow it when it moves. Field names are the
 * original's (original-behaviour §2.5, `service:external:{name}`).
 */
import * as v from 'valibot'
import { isHttpUrl, ServiceNameSchema } from '../lib/index.ts'

export { ServiceNameSchema }

/** "backend:8080" means http://backend:8080, as in the original; any other scheme is refused. */
const withDefaultScheme = (text: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`)

export const ServiceUrlSchema = v.pipe(
  v.string('expected a URL'),
  v.trim(),
  v.transform(withDefaultScheme),
  v.check(isHttpUrl, 'expected an http(s) URL with a host (no credentials, no fragment)'),
)

const DescriptionSchema = v.pipe(v.string('expected a string'), v.maxLength(500, 'at most 500 characters'))

export const CreateExternalServiceSchema = v.strictObject(
  {
    service_name: ServiceNameSchema,
    target_url: ServiceUrlSchema,
    description: v.optional(DescriptionSchema, ''),
  },
  'unknown field',
)

/** PUT applies every field it is given; the name is the key and never changes. */
export const UpdateExternalServiceSchema = v.strictObject({ target_url: v.optional(ServiceUrlSchema), description: v.optional(DescriptionSchema) }, 'unknown field')

/** The stored document, and what the API returns (it holds nothing secret). */
export const ExternalServiceSchema = v.object({
  service_name: ServiceNameSchema,
  target_url: v.pipe(v.string(), v.check(isHttpUrl, 'expected an http(s) URL')),
  description: v.string(),
  created_by: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
})

export type CreateExternalService = v.InferOutput<typeof CreateExternalServiceSchema>
export type UpdateExternalService = v.InferOutput<typeof UpdateExternalServiceSchema>
export type ExternalService = v.InferOutput<typeof ExternalServiceSchema>
