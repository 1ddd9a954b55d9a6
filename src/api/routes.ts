/** @module /routes: create, read, update and delete routes (admin writes, user reads). */
import * as v from 'valibot'
import { CreateRouteSchema, ListRoutesQuerySchema, RouteIdSchema, RouteSchema, UpdateRouteSchema, type RouteStore } from '../routes/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

const TAG = 'routes'

function routeIdOf(param: string | undefined): string {
  const result = v.safeParse(RouteIdSchema, param ?? '')
  if (!result.success) throw new ApiError(400, 'invalid_request', `route_id: ${result.issues[0].message}`)
  return result.output
}

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
      responses: { 200: { description: 'the route', schema: RouteSchema }, 404: { description: 'no such route' } },
      async handler(c) {
        const routeId = routeIdOf(c.req.param('route_id'))
        const route = await routes.get(routeId)
        if (!route) throw new ApiError(404, 'not_found', `no route ${routeId}`)
        return c.json(route)
      },
    }),
    defineRoute({
      method: 'put',
      path: '/routes/:route_id',
      scope: 'admin',
      tag: TAG,
      summary: 'Change a route: every field given is applied, the others are kept',
      body: UpdateRouteSchema,
      responses: {
        200: { description: 'the updated route', schema: RouteSchema },
        404: { description: 'no such route' },
        409: { description: 'the change would duplicate another route' },
      },
      handler: async (c, { body }) => c.json(await routes.update(routeIdOf(c.req.param('route_id')), body)),
    }),
    defineRoute({
      method: 'delete',
      path: '/routes/:route_id',
      scope: 'admin',
      tag: TAG,
      summary: 'Delete a route',
      responses: { 204: { description: 'deleted' }, 404: { description: 'no such route' } },
      async handler(c) {
        await routes.remove(routeIdOf(c.req.param('route_id')))
        return c.body(null, 204)
      },
    }),
  ]
}
