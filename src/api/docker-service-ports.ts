/**
 * @module The host ports of Docker services: every port held, free ones of SERVICE_PORTS, one port's
 * status, and a service's own ports (`service://<name>:<port name>` names one). Host ports are claimed
 * across every node, checked free on the host before use and released on delete; a change to a
 * service's ports recreates its container with them.
 */
import * as v from 'valibot'
import { PortConfigSchema, PortNameSchema, type AllocatedPort, type DockerService, type DockerServices } from '../docker/index.ts'
import { ServiceNameSchema } from '../lib/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { existingService, managerOf, NameParams, NOT_FOUND, TAG, UNAVAILABLE } from './docker-service-access.ts'
import { ApiError } from './errors.ts'
import { queryCount } from './query-flag.ts'

const PortParams = v.object({ name: ServiceNameSchema, port_name: PortNameSchema })
const PORT_NOT_FOUND = { description: 'no such service, or the service has no port by that name' }
const PORT_HELD = { description: 'the host port is held by another service or a proxy instance, or is in use on the host' }

const AvailableQuerySchema = v.strictObject({ limit: v.optional(queryCount(1, 1_000), '20') }, 'unknown query parameter')

const CheckBodySchema = v.strictObject(
  {
    port: v.pipe(v.number('expected a port number'), v.integer('expected an integer'), v.minValue(1, 'at least 1'), v.maxValue(65_535, 'at most 65535')),
    bind_address: v.optional(v.pipe(v.string('expected an IP address'), v.ip('expected an IP address')), '127.0.0.1'),
  },
  'unknown field',
)

/** PUT names the port in the path; the body is the rest of its settings. */
const PortChangeSchema = v.omit(PortConfigSchema, ['name'])

function portOf(service: DockerService, portName: string): AllocatedPort {
  const port = service.ports.find((item) => item.name === portName)
  if (!port) throw new ApiError(404, 'not_found', `service ${service.service_name} has no port named ${portName}`)
  return port
}

/** The fixed paths (/services/ports…): mounted before /services/{name}. */
export function servicePortRoutes(docker: DockerServices | null): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/services/ports',
      scope: 'user',
      tag: TAG,
      summary: 'Every host port held by a Docker service: [{port, service_name, port_name, bind_address, protocol}]',
      responses: { 200: { description: 'the ports, by number' }, 503: UNAVAILABLE },
      handler: async (c) => c.json(await managerOf(docker).hostPorts()),
    }),
    defineRoute({
      method: 'get',
      path: '/services/ports/available',
      scope: 'user',
      tag: TAG,
      summary: 'Free host ports of SERVICE_PORTS (the restricted ones left out), lowest first: what "auto" would pick from',
      query: AvailableQuerySchema,
      responses: { 200: { description: 'up to `limit` (default 20) port numbers' }, 503: UNAVAILABLE },
      handler: async (c, { query }) => c.json(await managerOf(docker).availablePorts(query.limit)),
    }),
    defineRoute({
      method: 'post',
      path: '/services/ports/check',
      scope: 'user',
      tag: TAG,
      summary: 'Whether a host port can be given to a service on bind_address (default 127.0.0.1): not restricted, held by no service or proxy instance, and free on the host',
      body: CheckBodySchema,
      responses: { 200: { description: '{port, bind_address, available, reason}' }, 503: UNAVAILABLE },
      handler: async (c, { body }) => c.json(await managerOf(docker).checkPort(body.port, body.bind_address)),
    }),
  ]
}

/** /services/{name}/ports… */
export function serviceOwnPortRoutes(docker: DockerServices | null): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/services/:name/ports',
      scope: 'user',
      tag: TAG,
      summary: 'A service\'s ports: [{name, container_port, host_port, auto, bind_address, protocol, description}]',
      params: NameParams,
      responses: { 200: { description: 'the ports' }, 404: NOT_FOUND, 503: UNAVAILABLE },
      handler: async (c, { params }) => c.json((await existingService(managerOf(docker), params.name)).ports),
    }),
    defineRoute({
      method: 'post',
      path: '/services/:name/ports',
      scope: 'admin',
      tag: TAG,
      summary: 'Publish one more port (host_port a number or "auto", bind_address default 127.0.0.1); the container is recreated with it',
      params: NameParams,
      body: PortConfigSchema,
      responses: { 201: { description: 'the port, with its host port' }, 404: NOT_FOUND, 409: { description: 'the service has a port by that name, or the host port is held' }, 503: UNAVAILABLE },
      async handler(c, { params, body }) {
        const manager = managerOf(docker)
        await existingService(manager, params.name)
        const service = await manager.addPort(params.name, body)
        c.header('Location', `/services/${params.name}/ports/${body.name}`)
        return c.json(portOf(service, body.name), 201)
      },
    }),
    defineRoute({
      method: 'put',
      path: '/services/:name/ports/:port_name',
      scope: 'admin',
      tag: TAG,
      summary: 'Change one port (every setting but its name, which the path gives); the container is recreated with it',
      params: PortParams,
      body: PortChangeSchema,
      responses: { 200: { description: 'the port' }, 404: PORT_NOT_FOUND, 409: PORT_HELD, 503: UNAVAILABLE },
      async handler(c, { params, body }) {
        const manager = managerOf(docker)
        portOf(await existingService(manager, params.name), params.port_name)
        const service = await manager.updatePort(params.name, params.port_name, { ...body, name: params.port_name })
        return c.json(portOf(service, params.port_name))
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/services/:name/ports/:port_name',
      scope: 'admin',
      tag: TAG,
      summary: 'Stop publishing one port and free its host port; the container is recreated without it (proxies naming it answer 502)',
      params: PortParams,
      responses: { 204: { description: 'removed' }, 404: PORT_NOT_FOUND, 503: UNAVAILABLE },
      async handler(c, { params }) {
        const manager = managerOf(docker)
        portOf(await existingService(manager, params.name), params.port_name)
        await manager.removePort(params.name, params.port_name)
        return c.body(null, 204)
      },
    }),
  ]
}
