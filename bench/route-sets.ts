/**
 * @module The route tables the throughput bench measures (10,000 mixed routes; 100 regexes with no
 * literal start) and their creation through `POST /routes`, several requests in flight. The request
 * paths are chosen so that no route matches them, except the one prefix route that sends
 * ROUTED_PATH to the backend under VIA_ROUTE_PREFIX, where the backend can count it.
 */
import type { Api } from './our-server.ts'
import { mapConcurrently } from './net.ts'

/** The POST body of one route (src/routes/schemas.ts CreateRouteSchema). */
export interface RouteBody {
  readonly path_pattern: string
  readonly is_regex: boolean
  readonly methods: string[] | null
  readonly priority: number
  readonly target_type: 'url'
  readonly target_value: string
  readonly strip_prefix: boolean
  readonly scope: 'global' | 'proxy'
  readonly proxy_hostnames: string[]
}

export const MIXED_ROUTE_COUNT = 10_000
export const LITERAL_LESS_COUNT = 100
/** Proxies, other than the benchmarked one, that routes are scoped to (they need not exist). */
const OTHER_HOSTNAME_COUNT = 50
const CREATE_CONCURRENCY = 16
/** Where the routes that must never match would send a request: nothing listens on port 9 (discard). */
const NOWHERE = 'http://127.0.0.1:9/'

/**
 * Goes down the trie to `/svc1234/v`, where the global regex `/svc1234/v[0-9]+/items` is filed (its
 * literal start) and is tried and fails; no route matches, so the proxy's own backend answers.
 */
export const UNROUTED_PATH = '/svc1234/v2/orders/17'
/** The one prefix route that matches a benchmarked path: it strips itself and forwards to the backend under VIA_ROUTE_PREFIX. */
export const ROUTED_PREFIX = '/routed'
export const ROUTED_PATH = `${ROUTED_PREFIX}/items/17`
export const VIA_ROUTE_PREFIX = '/via-route'

/**
 * 9,999 routes in groups of four per service (`/svcNNNN`, 2,500 services): two prefixes and two regexes
 * that begin with the service's literal path; a third global, a third scoped to the benchmarked proxy
 * (every other one of those also to one of 50 other proxies), a third to one of the 50 others; mixed
 * methods and priorities. The 10,000th is the prefix route ROUTED_PREFIX to `${backendUrl}${VIA_ROUTE_PREFIX}`.
 */
export function mixedRoutes(benchHostname: string, backendUrl: string): RouteBody[] {
  const other = (i: number) => `app-${i % OTHER_HOSTNAME_COUNT}.bench.test`
  const routes = Array.from({ length: MIXED_ROUTE_COUNT - 1 }, (_, i): RouteBody => {
    const service = `/svc${String(Math.floor(i / 4)).padStart(4, '0')}`
    const [pattern, isRegex] = (
      [
        [`${service}/static/`, false],
        [`${service}/api/`, false],
        [`${service}/v[0-9]+/items`, true],
        [`${service}/items/[0-9]+$`, true],
      ] as const
    )[i % 4]!
    const hostnames = [[], i % 2 === 0 ? [benchHostname] : [benchHostname, other(i)], [other(i)]][i % 3]!
    return {
      path_pattern: pattern,
      is_regex: isRegex,
      methods: i % 5 === 0 ? ['GET', 'POST'] : null,
      priority: (i * 7) % 1_000,
      target_type: 'url',
      target_value: NOWHERE,
      strip_prefix: i % 2 === 0,
      scope: hostnames.length === 0 ? 'global' : 'proxy',
      proxy_hostnames: hostnames,
    }
  })
  const routed: RouteBody = {
    path_pattern: ROUTED_PREFIX,
    is_regex: false,
    methods: null,
    priority: 50,
    target_type: 'url',
    target_value: `${backendUrl}${VIA_ROUTE_PREFIX}`,
    strip_prefix: true,
    scope: 'proxy',
    proxy_hostnames: [benchHostname],
  }
  // Halfway, so it is neither the first nor the last one created.
  routes.splice(routes.length >> 1, 0, routed)
  return routes
}

/** Regexes whose first character is a wildcard, group or class: every request path is tried against them. */
export function literalLessRoutes(): RouteBody[] {
  const shapes = [
    (i: number) => `.*/x${i}[0-9]+$`,
    (i: number) => `(foo${i}|bar${i})/.*`,
    (i: number) => `[a-z/]+/legacy${i}/`,
    (i: number) => `(?i).*\\.php${i}$`,
  ]
  return Array.from({ length: LITERAL_LESS_COUNT }, (_, i) => ({
    path_pattern: shapes[i % shapes.length]!(i),
    is_regex: true,
    methods: null,
    priority: i % 10,
    target_type: 'url',
    target_value: NOWHERE,
    strip_prefix: false,
    scope: 'global',
    proxy_hostnames: [],
  }))
}

/** POSTs every route, CREATE_CONCURRENCY in flight; throws on the first refusal. Resolves with the wall time taken. */
export async function createRoutes(api: Api, routes: readonly RouteBody[]): Promise<{ seconds: number; concurrency: number }> {
  const startMs = performance.now()
  await mapConcurrently(routes, CREATE_CONCURRENCY, async (route) => {
    const response = await api.request('POST', '/routes', route)
    if (response.status !== 201) throw new Error(`POST /routes ${route.path_pattern}: ${response.status} ${await response.text()}`)
    await response.body?.cancel()
  })
  return { seconds: (performance.now() - startMs) / 1000, concurrency: CREATE_CONCURRENCY }
}
