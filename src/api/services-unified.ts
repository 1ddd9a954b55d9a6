/**
 * @module GET /services/unified: every name a `service://<name>` target can point at, Docker and
 * external services together (they share one namespace), with where each leads now.
 */
import * as v from 'valibot'
import type { DockerServices } from '../docker/index.ts'
import type { ExternalServices } from '../services/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { TAG } from './docker-service-access.ts'

const SERVICE_TYPES = ['docker', 'external'] as const
type ServiceType = (typeof SERVICE_TYPES)[number]

const UnifiedQuerySchema = v.strictObject({ service_type: v.optional(v.picklist(SERVICE_TYPES, 'expected "docker" or "external"')) }, 'unknown query parameter')

export interface UnifiedService {
  readonly service_name: string
  readonly service_type: ServiceType
  /** Where service://<name> leads now: the external URL, or the container's bound address (null when it has none). */
  readonly target_url: string | null
  /** A Docker service's status; external services have none (null). */
  readonly status: string | null
  readonly description: string
  readonly created_by: string | null
  readonly created_at: string
}

export function unifiedServiceRoutes(docker: DockerServices | null, external: ExternalServices): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/services/unified',
      scope: 'user',
      tag: TAG,
      summary: 'Docker and external services in one list, by name: {services: [{service_name, service_type, target_url, status, description, created_by, created_at}], total, by_type}; service_type filters',
      query: UnifiedQuerySchema,
      responses: { 200: { description: 'the services' } },
      async handler(c, { query }) {
        const wants = (type: ServiceType) => query.service_type === undefined || query.service_type === type
        const fromDocker: UnifiedService[] = wants('docker') && docker
          ? (await docker.list()).map((service) => ({
              service_name: service.service_name,
              service_type: 'docker',
              target_url: docker.urlOf(service.service_name) ?? null,
              status: service.status,
              description: service.description,
              created_by: service.created_by,
              created_at: service.created_at,
            }))
          : []
        const fromExternal: UnifiedService[] = wants('external')
          ? (await external.list()).map((service) => ({
              service_name: service.service_name,
              service_type: 'external',
              target_url: service.target_url,
              status: null,
              description: service.description,
              created_by: service.created_by,
              created_at: service.created_at,
            }))
          : []
        const services = [...fromDocker, ...fromExternal].sort((a, b) => (a.service_name < b.service_name ? -1 : a.service_name > b.service_name ? 1 : 0))
        return c.json({ services, total: services.length, by_type: { docker: fromDocker.length, external: fromExternal.length } })
      },
    }),
  ]
}
