/**
 * @module The routes and services the decision reads, held in memory and kept current by route_changed /
 * service_changed events and the periodic reconcile. The compiled route table is rebuilt on the first
 * request after a change (a burst of changes costs one rebuild), so no request reads the store and no
 * table outlives a change. Docker services' URLs come from the Docker manager's own memory, which it
 * keeps current the same way.
 */
import { parseServiceRef, yieldToEventLoop } from '../lib/index.ts'
import { compileRouteTable, type Route, type RouteTable } from '../routes/index.ts'

/** Routes reload() compares between two turns of the event loop. */
const COMPARE_SLICE = 1_000

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

/** A Docker service's URL (its first published tcp port, or the port named), from memory; undefined when unknown. */
export type DockerServiceUrl = (name: string, portName?: string) => string | undefined

export interface RoutingState {
  routes(): RouteTable
  /** What `service://<ref>` reaches now: `name` (an external service, else a Docker service's first port) or `name:port` (a Docker service's port). */
  serviceUrl(ref: string): string | undefined
  /** Re-reads one route (gone: removed). */
  refreshRoute(routeId: string): Promise<void>
  refreshService(name: string): Promise<void>
  /** Re-reads everything (start-up, and the periodic repair of missed events). */
  reload(): Promise<void>
}

export function createRoutingState(routeSource: RouteSource, serviceSource: ServiceSource, dockerServiceUrl: DockerServiceUrl = () => undefined): RoutingState {
  const routes = new Map<string, Route>()
  const services = new Map<string, string>()
  let table: RouteTable = compileRouteTable([])
  let isStale = false
  /**
   * Counts refreshes. An event's refresh marks its key; a reload whose snapshot was read before that
   * mark keeps the refreshed value instead of its older snapshot (the reload and an event overlap).
   */
  let epoch = 0
  const refreshedAt = new Map<string, number>()
  const isNewerThan = (key: string, startEpoch: number) => (refreshedAt.get(key) ?? 0) > startEpoch

  return {
    routes() {
      if (isStale) {
        isStale = false
        table = compileRouteTable([...routes.values()], table)
      }
      return table
    },
    serviceUrl(ref) {
      const parsed = parseServiceRef(ref)
      if (parsed === null) return undefined
      // One namespace (store/service-names.ts): a name is external or Docker, never both.
      if (parsed.port === null) return services.get(parsed.name) ?? dockerServiceUrl(parsed.name)
      return dockerServiceUrl(parsed.name, parsed.port)
    },
    async refreshRoute(routeId) {
      refreshedAt.set(`route:${routeId}`, ++epoch)
      const route = await routeSource.get(routeId)
      if (route) routes.set(routeId, route)
      else routes.delete(routeId)
      isStale = true
    },
    async refreshService(name) {
      refreshedAt.set(`service:${name}`, ++epoch)
      const service = await serviceSource.get(name)
      if (service) services.set(name, service.target_url)
      else services.delete(name)
    },
    async reload() {
      const startEpoch = epoch
      const [allRoutes, allServices] = await Promise.all([routeSource.list(), serviceSource.list()])
      const snapshot = new Map(allRoutes.map((route) => [route.route_id, route]))
      let compared = 0
      for (const id of new Set([...routes.keys(), ...snapshot.keys()])) {
        // Comparing 10,000 routes takes tens of ms: requests get the thread in between (an event that
        // refreshes a route meanwhile is newer than the snapshot, and is kept).
        if (++compared % COMPARE_SLICE === 0) await yieldToEventLoop()
        if (isNewerThan(`route:${id}`, startEpoch)) continue
        const stored = snapshot.get(id)
        const held = routes.get(id)
        // Unchanged documents keep the table: the reconcile runs every 30 s and must not force a rebuild.
        if (stored && held && sameRoute(held, stored)) continue
        if (stored) routes.set(id, stored)
        else routes.delete(id)
        isStale = true
      }
      const storedServices = new Map(allServices.map((service) => [service.service_name, service.target_url]))
      for (const name of new Set([...services.keys(), ...storedServices.keys()])) {
        if (isNewerThan(`service:${name}`, startEpoch)) continue
        const url = storedServices.get(name)
        if (url === undefined) services.delete(name)
        else services.set(name, url)
      }
      for (const [key, at] of refreshedAt) if (at <= startEpoch) refreshedAt.delete(key)
    },
  }
}

function sameRoute(a: Route, b: Route): boolean {
  return a.updated_at === b.updated_at && JSON.stringify(a) === JSON.stringify(b)
}
