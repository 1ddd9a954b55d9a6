/**
 * @module /services: Docker services, containers this server runs, created and (with `auto_proxy`)
 * published on a hostname in one call (admin writes, user reads). The fixed paths under /services
 * (external, ports, unified, cleanup) are mounted before /services/{name}, and those words are refused
 * as service names, so {name} never shadows them (the original's bug, original-behaviour §3.4).
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import { CreateDockerServiceSchema, DockerServiceSchema, UpdateDockerServiceSchema, type DockerServices } from '../docker/index.ts'
import { DomainError } from '../lib/index.ts'
import type { ExternalServices } from '../services/index.ts'
import { refuseIfDependents } from './dependents.ts'
import { defineRoute, hasBody, type RouteSpec } from './define-route.ts'
import { existingService, managerOf, NameParams, NOT_FOUND, TAG, UNAVAILABLE } from './docker-service-access.ts'
import { CleanupReportSchema, CreatedDockerServiceSchema, DockerServiceListSchema } from './docker-service-views.ts'
import { dockerServiceLogRoutes, type DockerServiceLogRoutesDeps } from './docker-service-logs.ts'
import { serviceOwnPortRoutes, servicePortRoutes } from './docker-service-ports.ts'
import {
  createServiceProxy,
  proxyHostnameFor,
  proxySettingsOf,
  refuseTakenHostname,
  removeProxies,
  ServiceProxyQueryEntries,
  ServiceProxySchema,
  type ServiceProxyDeps,
} from './docker-service-proxy.ts'
import { ApiError } from './errors.ts'
import { optionalQueryFlag, queryFlag } from './query-flag.ts'
import { unifiedServiceRoutes } from './services-unified.ts'

export interface DockerServiceRoutesDeps extends ServiceProxyDeps, DockerServiceLogRoutesDeps {
  /** What points at the service: proxies whose target is service://<name>, routes whose target is the service. */
  readonly dependentsOfService: (name: string) => Promise<{ proxies: string[]; routes: string[] }>
  /** For /services/unified. */
  readonly externalServices: ExternalServices
}

/**
 * Every /services route of Docker services, in the order they must be mounted: Hono tries routes in
 * the order they were added, so each fixed path comes before /services/{name}, which would match it.
 * The server mounts these after /services/external for the same reason. `docker` is null when
 * DOCKER_SERVICES=false: those routes answer 503.
 */
export function dockerServiceRoutes(docker: DockerServices | null, deps: DockerServiceRoutesDeps): RouteSpec[] {
  return [
    ...unifiedServiceRoutes(docker, deps.externalServices),
    ...servicePortRoutes(docker),
    ...collectionRoutes(docker, deps),
    ...dockerServiceLogRoutes(docker, deps),
    ...serviceOwnPortRoutes(docker),
    ...nameRoutes(docker, deps),
  ]
}

// POST /services takes the service's own fields plus the proxy to create with it; the model's checks
// (exactly one of image and dockerfile, …) run on the whole body, so there is one rule for each.
const [createFields, ...createChecks] = CreateDockerServiceSchema.pipe
const CreateBodyObject = v.strictObject(
  {
    ...createFields.entries,
    /** Publish the service on a hostname in the same call (also `?auto_proxy=true`). */
    auto_proxy: v.optional(v.boolean('expected true or false')),
    /** The proxy's settings (hostname, enable_https, auth…); given, it implies auto_proxy. */
    proxy: v.optional(ServiceProxySchema),
  },
  'unknown field',
)
// The checks read only the service's fields, which this body has too.
const CreateBodySchema = v.pipe(CreateBodyObject, ...(createChecks as unknown as [v.GenericPipeAction<v.InferOutput<typeof CreateBodyObject>>]))

const CreateQuerySchema = v.object({ auto_proxy: optionalQueryFlag(), ...ServiceProxyQueryEntries })
const ListQuerySchema = v.object({ owned_only: queryFlag(false) })
const DeleteQuerySchema = v.object({ force: queryFlag(false), delete_proxy: queryFlag(false) })
const ProxyQuerySchema = v.object(ServiceProxyQueryEntries)

const LIFECYCLE = {
  start: 'Start a stopped (or failed) service',
  stop: 'Stop a service; its proxies answer 502 until it is started again',
  restart: 'Restart a service (its container keeps its settings; a new address is followed by its proxies)',
} as const

const actorOf = (c: Context) => c.get('principal').username as string

function collectionRoutes(docker: DockerServices | null, deps: DockerServiceRoutesDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/services',
      scope: 'admin',
      tag: TAG,
      summary:
        'Create a Docker service: build or find its image, claim its host ports, create and start its container. With auto_proxy (or a proxy object) it is also published: a proxy <name>.<BASE_DOMAIN> (or proxy.hostname) with target service://<name>, created in the same call; if either fails, neither is left behind',
      body: CreateBodySchema,
      query: CreateQuerySchema,
      responses: {
        201: { description: 'the service, its proxy (null without auto_proxy) and warnings', schema: CreatedDockerServiceSchema },
        400: { description: 'a field is invalid or refused (privileged, host network, devices, a bind mount outside SERVICE_BIND_ROOT…), named' },
        409: { description: 'the name is taken (by a Docker or an external service), the hostname has a proxy, or a host port is held' },
        503: UNAVAILABLE,
      },
      async handler(c, { body, query }) {
        const manager = managerOf(docker)
        const { auto_proxy: bodyAutoProxy, proxy: bodyProxy, ...spec } = body
        // Proxy settings given (the body's proxy, the query's hostname or enable_https) ask for the proxy too.
        const proxyField = bodyProxy !== undefined ? 'field proxy' : query.hostname !== undefined ? 'query parameter hostname' : query.enable_https !== undefined ? 'query parameter enable_https' : null
        const autoProxy = bodyAutoProxy ?? query.auto_proxy ?? proxyField !== null
        if (!autoProxy && proxyField) throw new ApiError(400, 'invalid_request', `${proxyField}: only with auto_proxy (leave auto_proxy out, or set it to true)`)
        const settings = autoProxy ? proxySettingsOf(bodyProxy, query) : null
        const hostname = settings ? proxyHostnameFor(spec.service_name, settings, deps.baseDomain, 'proxy.hostname') : null
        if (hostname) await refuseTakenHostname(deps.targets, hostname)

        const service = await manager.create(spec, actorOf(c))
        const warnings = service.status === 'failed' ? [`the container exited at once (exit code ${service.exit_code ?? 'unknown'}): see GET /services/${service.service_name}/logs`] : []
        let proxy = null
        if (settings && hostname) {
          try {
            const created = await createServiceProxy(deps, service.service_name, hostname, settings, actorOf(c))
            proxy = created.proxy
            warnings.push(...created.warnings)
          } catch (error) {
            // Rolled back: a service asked for behind a hostname is not left running without it.
            await manager.remove(service.service_name).catch((cleanupError: unknown) =>
              deps.logger.error('auto_proxy rollback: removing the service failed', { service: service.service_name, error: String(cleanupError) }),
            )
            throw error
          }
        }
        c.header('Location', `/services/${service.service_name}`)
        return c.json({ service, proxy, warnings }, 201)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/services',
      scope: 'user',
      tag: TAG,
      summary:
        'List Docker services: ours (services), and the engine\'s other containers (foreign: listed read-only, never touched) unless owned_only=true',
      query: ListQuerySchema,
      responses: { 200: { description: 'our services, the engine\'s other containers, and warnings', schema: DockerServiceListSchema }, 503: UNAVAILABLE },
      async handler(c, { query }) {
        const manager = managerOf(docker)
        const services = await manager.list()
        const warnings: string[] = []
        let foreign: unknown[] = []
        if (!query.owned_only) {
          // The stored services are worth listing while the engine is down; its own containers are not known then.
          foreign = await manager.foreign().catch((error: unknown) => {
            if (!(error instanceof DomainError && error.kind === 'unavailable')) throw error
            warnings.push(`foreign containers are not listed: ${error.message}`)
            return []
          })
        }
        return c.json({ services, foreign, total: services.length, warnings })
      },
    }),
    defineRoute({
      method: 'post',
      path: '/services/cleanup',
      scope: 'admin',
      tag: TAG,
      summary:
        'Clean up: remove our containers that have no stored service, free port claims no service holds, and report stored services whose container is gone (kept as missing: nothing is recreated silently)',
      responses: { 200: { description: 'what was removed, freed and found missing', schema: CleanupReportSchema }, 503: UNAVAILABLE },
      handler: async (c) => c.json(await managerOf(docker).cleanup()),
    }),
  ]
}

/** The /services/{name} routes; mounted after every fixed path under /services. */
function nameRoutes(docker: DockerServices | null, deps: DockerServiceRoutesDeps): RouteSpec[] {
  const lifecycle = (Object.keys(LIFECYCLE) as (keyof typeof LIFECYCLE)[]).map((action) =>
    defineRoute({
      method: 'post',
      path: `/services/:name/${action}`,
      scope: 'admin',
      tag: TAG,
      summary: LIFECYCLE[action],
      params: NameParams,
      responses: { 200: { description: 'the service, with its new status', schema: DockerServiceSchema }, 404: NOT_FOUND, 503: UNAVAILABLE },
      async handler(c, { params }) {
        const manager = managerOf(docker)
        await existingService(manager, params.name)
        return c.json(await manager[action](params.name))
      },
    }),
  )
  return [
    defineRoute({
      method: 'get',
      path: '/services/:name',
      scope: 'user',
      tag: TAG,
      summary: 'Read one Docker service: its settings, allocated ports, status (failed with exit_code, missing when deleted behind our back) and health',
      params: NameParams,
      responses: { 200: { description: 'the service', schema: DockerServiceSchema }, 404: NOT_FOUND, 503: UNAVAILABLE },
      handler: async (c, { params }) => c.json(await existingService(managerOf(docker), params.name)),
    }),
    defineRoute({
      method: 'put',
      path: '/services/:name',
      scope: 'admin',
      tag: TAG,
      summary:
        'Replace a Docker service\'s settings (the full desired settings, as for create without service_name): the container is recreated with them; named volumes, and host ports that did not change, are kept',
      params: NameParams,
      body: UpdateDockerServiceSchema,
      responses: { 200: { description: 'the updated service', schema: DockerServiceSchema }, 400: { description: 'a field is invalid or refused, named' }, 404: NOT_FOUND, 409: { description: 'a host port is held' }, 503: UNAVAILABLE },
      async handler(c, { params, body }) {
        const manager = managerOf(docker)
        await existingService(manager, params.name)
        return c.json(await manager.update(params.name, body))
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/services/:name',
      scope: 'admin',
      tag: TAG,
      summary:
        'Delete a Docker service: its container is removed and its host ports freed (named volumes are kept). delete_proxy=true also deletes the proxies whose target is the service. Refused (409, naming them) while proxies or routes point at it, unless force=true: those are kept and answer 502 until they are changed',
      params: NameParams,
      query: DeleteQuerySchema,
      responses: { 204: { description: 'deleted' }, 404: NOT_FOUND, 409: { description: 'proxies or routes point at the service (and force is not true)' }, 503: UNAVAILABLE },
      async handler(c, { params, query }) {
        const manager = managerOf(docker)
        await existingService(manager, params.name)
        const dependents = await deps.dependentsOfService(params.name)
        const proxiesToDelete = query.delete_proxy ? dependents.proxies : []
        if (!query.force) refuseIfDependents(`service ${params.name}`, { proxies: query.delete_proxy ? [] : dependents.proxies, routes: dependents.routes })
        await manager.remove(params.name)
        // After the service: a removal that fails leaves its proxies in place, not a service without them.
        await removeProxies(deps.targets, proxiesToDelete)
        return c.body(null, 204)
      },
    }),
    ...lifecycle,
    defineRoute({
      method: 'get',
      path: '/services/:name/stats',
      scope: 'user',
      tag: TAG,
      summary: 'One sample of the container\'s resource use: CPU %, memory (usage, limit, %), network and block I/O bytes, processes',
      params: NameParams,
      responses: { 200: { description: '{service_name, cpu_percent, memory_usage, memory_limit, memory_percent, network_rx_bytes, network_tx_bytes, block_read_bytes, block_write_bytes, pids}' }, 404: NOT_FOUND, 409: { description: 'the service is not running' }, 503: UNAVAILABLE },
      async handler(c, { params }) {
        const manager = managerOf(docker)
        await existingService(manager, params.name)
        return c.json({ service_name: params.name, ...(await manager.stats(params.name)) })
      },
    }),
    defineRoute({
      method: 'post',
      path: '/services/:name/proxy',
      scope: 'admin',
      tag: TAG,
      summary:
        'Put an existing service behind a hostname: a proxy <name>.<BASE_DOMAIN> (or the hostname given) with target service://<name>. The body takes a new proxy\'s settings (auth included); without a body, ?hostname= and ?enable_https= as in the original',
      params: NameParams,
      query: ProxyQuerySchema,
      body: ServiceProxySchema,
      isBodyOptional: true,
      responses: { 201: { description: '{proxy, warnings[]}' }, 404: NOT_FOUND, 409: { description: 'the hostname already has a proxy' }, 503: UNAVAILABLE },
      async handler(c, { params, query, body }) {
        await existingService(managerOf(docker), params.name)
        const settings = proxySettingsOf(hasBody(c) ? body : undefined, query)
        const hostname = proxyHostnameFor(params.name, settings, deps.baseDomain, 'hostname')
        const created = await createServiceProxy(deps, params.name, hostname, settings, actorOf(c))
        c.header('Location', `/proxy/targets/${hostname}`)
        return c.json(created, 201)
      },
    }),
  ]
}
