/**
 * @module /services/external: named backend URLs that proxies (`service://<name>`) and routes
 * (target_type `service`) point at (admin writes, user reads).
 */
import * as v from 'valibot'
import {
  CreateExternalServiceSchema,
  ExternalServiceSchema,
  ServiceError,
  ServiceNameSchema,
  UpdateExternalServiceSchema,
  type ExternalServices,
} from '../services/index.ts'
import { ForceQuerySchema, refuseIfDependents } from './dependents.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

const TAG = 'services'
const NameParams = v.object({ name: ServiceNameSchema })
const NOT_FOUND = { description: 'no such service' }

export interface ExternalServiceRoutesDeps {
  /** What points at the service: proxies whose target_url is `service://<name>`, routes whose target is the service. */
  readonly dependentsOfService: (name: string) => Promise<{ proxies: string[]; routes: string[] }>
}

export function externalServiceRoutes(services: ExternalServices, deps: ExternalServiceRoutesDeps): RouteSpec[] {
  const existing = async (name: string) => {
    const service = await services.get(name)
    if (!service) throw new ServiceError('not_found', `no service named ${name}`)
    return service
  }

  return [
    defineRoute({
      method: 'post',
      path: '/services/external',
      scope: 'admin',
      tag: TAG,
      summary: 'Register an external service: a name for a backend URL (http:// is assumed when no scheme is given)',
      body: CreateExternalServiceSchema,
      responses: { 201: { description: 'created', schema: ExternalServiceSchema }, 409: { description: 'the name is taken' } },
      async handler(c, { body }) {
        const created = await services.create(body, c.get('principal').username)
        c.header('Location', `/services/external/${created.service_name}`)
        return c.json(created, 201)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/services/external',
      scope: 'user',
      tag: TAG,
      summary: 'List external services, by name',
      responses: { 200: { description: 'every external service', schema: v.array(ExternalServiceSchema) } },
      handler: async (c) => c.json(await services.list()),
    }),
    defineRoute({
      method: 'get',
      path: '/services/external/:name',
      scope: 'user',
      tag: TAG,
      summary: 'Read one external service',
      params: NameParams,
      responses: { 200: { description: 'the service', schema: ExternalServiceSchema }, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(await existing(params.name)),
    }),
    defineRoute({
      method: 'put',
      path: '/services/external/:name',
      scope: 'admin',
      tag: TAG,
      summary: "Change an external service: every field given is applied; what points at it follows at its next request",
      params: NameParams,
      body: UpdateExternalServiceSchema,
      responses: { 200: { description: 'the updated service', schema: ExternalServiceSchema }, 404: NOT_FOUND },
      handler: async (c, { params, body }) => c.json(await services.update(params.name, body)),
    }),
    defineRoute({
      method: 'delete',
      path: '/services/external/:name',
      scope: 'admin',
      tag: TAG,
      summary:
        'Delete an external service. Refused (409, naming them) while proxies or routes point at it, unless force=true: those are kept and answer 502 until they are changed',
      params: NameParams,
      query: ForceQuerySchema,
      responses: { 204: { description: 'deleted' }, 404: NOT_FOUND, 409: { description: 'proxies or routes point at the service (and force is not true)' } },
      async handler(c, { params, query }) {
        if (!query.force) {
          await existing(params.name)
          refuseIfDependents(`service ${params.name}`, await deps.dependentsOfService(params.name))
        }
        await services.remove(params.name)
        return c.body(null, 204)
      },
    }),
  ]
}
