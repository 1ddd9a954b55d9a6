/**
 * @module Micro-benchmark of the route matcher alone (not a test): ns per `match()` with no routes, with
 * 10,000 mixed routes, and with 100 regexes that have no literal start (tried on every path). The
 * throughput goals compare the proxy with and without routes; a request costs the proxy about 16 µs of
 * CPU (bench/README.md), so 10 % is ~1.6 µs and 20 % ~3.2 µs per request.
 *
 * Run: `bun bench/route-matcher.ts` (MATCHES=n changes the 1,000,000 calls per case).
 */
import { compileRouteTable, type RouteTable } from '../src/routes/matcher.ts'
import type { ProxyRouteSettings, Route } from '../src/routes/index.ts'

const MATCH_COUNT = Number(Bun.env.MATCHES ?? 1_000_000)
const HOSTNAME_COUNT = 50

function route(index: number, pattern: string, isRegex: boolean, hostnames: string[] | null): Route {
  return {
    route_id: `route-${index}`,
    path_pattern: pattern,
    is_regex: isRegex,
    methods: index % 5 === 0 ? ['GET', 'POST'] : null,
    priority: index % 7,
    target_type: 'url',
    target_value: 'http://127.0.0.1:9/',
    strip_prefix: index % 2 === 0,
    scope: hostnames === null ? 'global' : 'proxy',
    proxy_hostnames: hostnames ?? [],
    enabled: true,
    description: '',
    auth: null,
    created_by: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    sequence: index,
  }
}

/** Half prefixes, half regexes that begin with a literal path; a third global, the rest on one of 50 proxies. */
function mixedRoutes(count: number): Route[] {
  return Array.from({ length: count }, (_, i) => {
    const hostnames = i % 3 === 0 ? null : [`app-${i % HOSTNAME_COUNT}.test`]
    const service = `svc-${Math.floor(i / 4)}`
    switch (i % 4) {
      case 0:
        return route(i, `/${service}`, false, hostnames)
      case 1:
        return route(i, `/${service}/static/`, false, hostnames)
      case 2:
        return route(i, `/${service}/items/[0-9]+`, true, hostnames)
      default:
        return route(i, `/${service}/v[0-9]+/(users|orders)/`, true, hostnames)
    }
  })
}

/** Regexes whose first character is already a class, group or wildcard, so no path can skip them. */
function literalLessRegexes(count: number): Route[] {
  const shapes = [(i: number) => `.*\\.php${i}$`, (i: number) => `(?i)/ADMIN-${i}/`, (i: number) => `[a-z/]+/legacy${i}`, (i: number) => `(/api|/v${i})/old`]
  return Array.from({ length: count }, (_, i) => route(i, shapes[i % shapes.length]!(i), true, null))
}

/** Requests for the mixed table: hits on every kind of route, near misses, and paths no route knows. */
function requestPaths(): string[] {
  const paths: string[] = []
  for (let i = 0; i < 1_000; i++) {
    const service = `svc-${(i * 37) % 2_500}`
    paths.push(
      [`/${service}`, `/${service}/static/app.js`, `/${service}/items/${i}`, `/${service}/v2/users/${i}`, `/${service}x/items/1`, `/unknown/${i}/page`, '/', `/${service}/items/abc?`][i % 8]!,
    )
  }
  return paths
}

function measure(table: RouteTable, paths: readonly string[], proxies: readonly ProxyRouteSettings[]): { nsPerMatch: number; matchedShare: number } {
  let matched = 0
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      if (table.match(proxies[i % proxies.length]!, 'GET', paths[i % paths.length]!) !== null) matched += 1
    }
  }
  run(100_000) // warm-up: JIT and the regexes' lazily built DFAs
  matched = 0
  const startNs = Bun.nanoseconds()
  run(MATCH_COUNT)
  return { nsPerMatch: (Bun.nanoseconds() - startNs) / MATCH_COUNT, matchedShare: matched / MATCH_COUNT }
}

const proxies: ProxyRouteSettings[] = Array.from({ length: HOSTNAME_COUNT }, (_, i) => ({
  proxy_hostname: `app-${i}.test`,
  route_mode: 'all',
  enabled_routes: [],
  disabled_routes: [],
}))
const paths = requestPaths()

const cases: [name: string, routes: Route[]][] = [
  ['0 routes', []],
  ['10,000 mixed routes', mixedRoutes(10_000)],
  ['100 literal-less regexes', literalLessRegexes(100)],
]
console.log(`route matcher: ${MATCH_COUNT.toLocaleString('en')} match() calls per case, Bun ${Bun.version}`)
let baselineNs = 0
for (const [name, routes] of cases) {
  const compileStartMs = performance.now()
  const table = compileRouteTable(routes)
  const compileMs = performance.now() - compileStartMs
  const { nsPerMatch, matchedShare } = measure(table, paths, proxies)
  if (routes.length === 0) baselineNs = nsPerMatch
  const extra = routes.length === 0 ? '' : `, +${(nsPerMatch - baselineNs).toFixed(0)} ns over 0 routes`
  console.log(`${name.padEnd(26)} ${nsPerMatch.toFixed(0).padStart(6)} ns/match (${(matchedShare * 100).toFixed(0)} % matched${extra}; compiled in ${compileMs.toFixed(0)} ms)`)
}

const mixed = cases[1]![1]
const previous = compileRouteTable(mixed)
const rebuildStartMs = performance.now()
compileRouteTable([...mixed.slice(1), route(99_999, '/svc-new/items/[0-9]+', true, null)], previous)
console.log(`recompile of the 10,000 mixed routes after one change, reusing the previous table: ${(performance.now() - rebuildStartMs).toFixed(0)} ms`)
