/**
 * @module /proxy/targets/{hostname}/routes: which routes apply to one proxy (route_mode `all` minus
 * disabled_routes, `selective` enabled_routes only, or `none`), and turning single routes on or off
 * for it (admin writes, user reads). Every change is a proxy change, announced as proxy_updated.
 */
import * as v from 'valibot'
import { RouteSchema, type Route } from '../routes/index.ts'
import {
  RouteIdSchema,
  RouteSettingsSchema,
  TargetError,
  UpdateRouteSettingsSchema,
  type ProxyTarget,
  type ProxyTargets,
  type RouteUse,
} from '../targets/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'
import { HostnameParams } from './proxy-targets.ts'

export interface ProxyRoutesDeps {
  /** The routes that apply to this proxy now, in the order they are tried. */
  readonly applicableRoutes: (target: ProxyTarget) => Promise<Route[]>
  readonly routeExists: (routeId: string) => Promise<boolean>
}

const ProxyRoutesViewSchema = v.object({ ...RouteSettingsSchema.entries, applicable_routes: v.array(RouteSchema) })
const RouteParams = v.object({ ...HostnameParams.entries, route_id: RouteIdSchema })
const NOT_FOUND = { description: 'no such proxy' }

export function proxyRouteRoutes(targets: ProxyTargets, deps: ProxyRoutesDeps): RouteSpec[] {
  const view = async (target: ProxyTarget) => ({
    route_mode: target.route_mode,
    enabled_routes: target.enabled_routes,
    disabled_routes: target.disabled_routes,
    applicable_routes: await deps.applicableRoutes(target),
  })
  const existing = async (hostname: string) => {
    const target = await targets.get(hostname)
    if (!target) throw new TargetError('not_found', `no proxy for ${hostname}`)
    return target
  }
  const use = (verb: RouteUse, summary: string) =>
    defineRoute({
      method: 'post',
      path: `/proxy/targets/:hostname/routes/:route_id/${verb}`,
      scope: 'admin',
      tag: 'proxies',
      summary,
      params: RouteParams,
      responses: {
        200: { description: "the proxy's route settings now", schema: ProxyRoutesViewSchema },
        400: { description: 'route_mode is none' },
        404: { description: 'no such proxy or route' },
      },
      async handler(c, { params }) {
        await existing(params.hostname)
        if (!(await deps.routeExists(params.route_id))) throw new ApiError(404, 'not_found', `no route ${params.route_id}`)
        return c.json(await view(await targets.setRouteUse(params.hostname, params.route_id, verb)))
      },
    })

  return [
    defineRoute({
      method: 'get',
      path: '/proxy/targets/:hostname/routes',
      scope: 'user',
      tag: 'proxies',
      summary: "Read a proxy's route settings and the routes that apply to it, in the order they are tried",
      params: HostnameParams,
      responses: { 200: { description: "the proxy's route settings", schema: ProxyRoutesViewSchema }, 404: NOT_FOUND },
      handler: async (c, { params }) => c.json(await view(await existing(params.hostname))),
    }),
    defineRoute({
      method: 'put',
      path: '/proxy/targets/:hostname/routes',
      scope: 'admin',
      tag: 'proxies',
      summary: 'Change which routes apply to a proxy: route_mode all (every route but disabled_routes), selective (only enabled_routes) or none; fields not given keep their values',
      params: HostnameParams,
      body: UpdateRouteSettingsSchema,
      responses: { 200: { description: "the proxy's route settings now", schema: ProxyRoutesViewSchema }, 404: NOT_FOUND },
      handler: async (c, { params, body }) => c.json(await view(await targets.update(params.hostname, body))),
    }),
    use('enable', 'Make a route apply to this proxy: added to enabled_routes in selective mode, removed from disabled_routes in all mode; 400 in none mode'),
    use('disable', 'Stop a route applying to this proxy: removed from enabled_routes in selective mode, added to disabled_routes in all mode; 400 in none mode'),
  ]
}
