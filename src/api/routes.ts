/** @module /routes: create, read, update and delete routes (admin writes, user reads). */
import * as v from 'valibot'
import { CreateRouteSchema, ListRoutesQuerySchema, RouteError, RouteIdSchema, RouteSchema, UpdateRouteSchema, type RouteStore } from '../routes/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

const TAG = 'routes'

/** Route ids are validated before the store is asked: 400 `path parameter route_id: …`. */
const RouteIdParams = v.object({ route_id: RouteIdSchema })

export function routeRoutes(routes: RouteStore): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/routes',
      scope: 'admin',
      tag: TAG,
      summary: 'Create a route: requests whose path matches go to another backend',
      body: CreateRouteSchema,
      responses: {
        201: { description: 'created', schema: RouteSchema },
        409: { description: 'a route with the same path_pattern, is_regex, priority, scope and proxy_hostnames exists' },
      },
      async handler(c, { body }) {
        const created = await routes.create(body, c.get('principal').username)
        c.header('Location', `/routes/${created.route_id}`)
        return c.json(created, 201)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/routes',
      scope: 'user',
      tag: TAG,
      summary: 'List routes (disabled ones too) in matching order: priority descending, then creation order',
      query: ListRoutesQuerySchema,
      responses: { 200: { description: 'the routes', schema: v.array(RouteSchema) } },
      async handler(c, { query }) {
        const all = await routes.list()
        return c.json(query.enabled === undefined ? all : all.filter((route) => route.enabled === query.enabled))
      },
    }),
    defineRoute({
      method: 'get',
      path: '/routes/:route_id',
      scope: 'user',
      tag: TAG,
      summary: 'Read one route',
      params: RouteIdParams,
      responses: { 200: { description: 'the route', schema: RouteSchema }, 404: { description: 'no such route' } },
      async handler(c, { params }) {
        const route = await routes.get(params.route_id)
        if (!route) throw new RouteError('not_found', `no route ${params.route_id}`)
        return c.json(route)
      },
    }),
    defineRoute({
      method: 'put',
      path: '/routes/:route_id',
      scope: 'admin',
      tag: TAG,
      summary: 'Change a route: every field given is applied, the others are kept',
      params: RouteIdParams,
      body: UpdateRouteSchema,
      responses: {
        200: { description: 'the updated route', schema: RouteSchema },
        404: { description: 'no such route' },
        409: { description: 'the change would duplicate another route' },
      },
      handler: async (c, { params, body }) => c.json(await routes.update(params.route_id, body)),
    }),
    defineRoute({
      method: 'delete',
      path: '/routes/:route_id',
      scope: 'admin',
      tag: TAG,
      summary: 'Delete a route',
      params: RouteIdParams,
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such route' } },
      async handler(c, { params }) {
        await routes.remove(params.route_id)
        return c.body(null, 204)
      },
    }),
  ]
}
