/**
 * @module The routes and external services the decision reads, held in memory and kept current by
 * route_changed / service_changed events and the periodic reconcile. The compiled route table is
 * rebuilt on the first request after a change (a burst of changes costs one rebuild), so no request
 * reads the store and no table outlives a change.
 */
import { compileRouteTable, type Route, type RouteTable } from '../routes/index.ts'

export interface RouteSource {
  list(): Promise<readonly Route[]>
  get(routeId: string): Promise<Route | null>
}

export interface ExternalService {
  readonly service_name: string
  readonly target_url: string
}

export interface ServiceSource {
  list(): Promise<readonly ExternalService[]>
  get(name: string): Promise<ExternalService | null>
}

export interface RoutingState {
  routes(): RouteTable
  serviceUrl(name: string): string | undefined
  /** Re-reads one route (gone: removed). */
  refreshRoute(routeId: string): Promise<void>
  refreshService(name: string): Promise<void>
  /** Re-reads everything (start-up, and the periodic repair of missed events). */
  reload(): Promise<void>
}

export function createRoutingState(routeSource: RouteSource, serviceSource: ServiceSource): RoutingState {
  const routes = new Map<string, Route>()
  const services = new Map<string, string>()
  let table: RouteTable = compileRouteTable([])
  let isStale = false

  return {
    routes() {
      if (isStale) {
        isStale = false
        table = compileRouteTable([...routes.values()], table)
      }
      return table
    },
    serviceUrl: (name) => services.get(name),
    async refreshRoute(routeId) {
      const route = await routeSource.get(routeId)
      if (route) routes.set(routeId, route)
      else routes.delete(routeId)
      isStale = true
    },
    async refreshService(name) {
      const service = await serviceSource.get(name)
      if (service) services.set(name, service.target_url)
      else services.delete(name)
    },
    async reload() {
      const [allRoutes, allServices] = await Promise.all([routeSource.list(), serviceSource.list()])
      // Unchanged documents keep the table: the reconcile runs every 30 s and must not force a rebuild.
      const isSame = allRoutes.length === routes.size && allRoutes.every((route) => sameRoute(routes.get(route.route_id), route))
      if (!isSame) {
        routes.clear()
        for (const route of allRoutes) routes.set(route.route_id, route)
        isStale = true
      }
      services.clear()
      for (const service of allServices) services.set(service.service_name, service.target_url)
    },
  }
}

function sameRoute(a: Route | undefined, b: Route): boolean {
  return a !== undefined && a.updated_at === b.updated_at && JSON.stringify(a) === JSON.stringify(b)
}
