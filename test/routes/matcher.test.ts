/** @module The compiled route table: the order routes are tried in, what each kind of pattern matches, scope and route modes, and agreement with a brute-force reference on 10,000 random routes. */
import { describe, expect, test } from 'bun:test'
import { RE2JS } from 're2js'
import { compileRouteTable, type RouteMatch } from '../../src/routes/matcher.ts'
import type { ProxyRouteSettings, Route } from '../../src/routes/model.ts'
import { routeWith } from '../fixtures/route.ts'

const route = routeWith

function proxy(fields: Partial<ProxyRouteSettings> = {}): ProxyRouteSettings {
  return { proxy_hostname: 'app.test', route_mode: 'all', enabled_routes: [], disabled_routes: [], ...fields }
}

/** The id of the route that takes the request, or null. */
function winner(routes: Route[], path: string, method = 'GET', settings = proxy()): string | null {
  return compileRouteTable(routes).match(settings, method, path)?.route.route_id ?? null
}

describe('the order routes are tried in', () => {
  test('higher priority wins over creation order', () => {
    const routes = [route({ route_id: 'old-low', path_pattern: '/api', priority: 10 }), route({ route_id: 'new-high', path_pattern: '/api', priority: 90 })]
    expect(winner(routes, '/api/x')).toBe('new-high')
  })

  test('higher priority wins over a longer, more specific prefix (priority, not specificity, decides)', () => {
    const routes = [route({ route_id: 'specific', path_pattern: '/api/v1/users', priority: 10 }), route({ route_id: 'broad', path_pattern: '/', priority: 20 })]
    expect(winner(routes, '/api/v1/users')).toBe('broad')
  })

  test('equal priorities: the lower sequence (created first) wins, whatever the input order', () => {
    const first = route({ route_id: 'zz', path_pattern: '/a', sequence: 5 })
    const second = route({ route_id: 'aa', path_pattern: '/a', sequence: 6 })
    expect(winner([second, first], '/a')).toBe('zz')
    expect(winner([first, second], '/a')).toBe('zz')
  })

  test('equal priority and sequence: the lower route_id wins, so every node agrees', () => {
    const routes = [route({ route_id: 'b', path_pattern: '/a', sequence: 7 }), route({ route_id: 'a', path_pattern: '/a', sequence: 7 })]
    expect(winner(routes, '/a')).toBe('a')
    expect(winner(routes.reverse(), '/a')).toBe('a')
  })

  test('regex and prefix routes share one order', () => {
    const routes = [route({ route_id: 'prefix', path_pattern: '/api', priority: 10 }), route({ route_id: 'regex', path_pattern: '.*', is_regex: true, priority: 11 })]
    expect(winner(routes, '/api/x')).toBe('regex')
  })
})

describe('prefix patterns match whole path segments', () => {
  const routes = [route({ route_id: 'api', path_pattern: '/api' })]

  test('"/api" matches "/api", "/api/" and "/api/v1"', () => {
    for (const path of ['/api', '/api/', '/api/v1']) expect(winner(routes, path)).toBe('api')
  })

  test('"/api" does not match "/apix", "/ap" or "/x/api"', () => {
    for (const path of ['/apix', '/ap', '/x/api']) expect(winner(routes, path)).toBeNull()
  })

  test('"/api/" (trailing slash) matches "/api/" and "/api/x" but not "/api"', () => {
    const slashed = [route({ route_id: 'slashed', path_pattern: '/api/' })]
    expect(winner(slashed, '/api/')).toBe('slashed')
    expect(winner(slashed, '/api/x')).toBe('slashed')
    expect(winner(slashed, '/api')).toBeNull()
    expect(winner(slashed, '/apix/')).toBeNull()
  })

  test('"/" matches every path', () => {
    const catchAll = [route({ route_id: 'all', path_pattern: '/' })]
    for (const path of ['/', '/x', '/a/b/c', '//']) expect(winner(catchAll, path)).toBe('all')
  })

  test('a shorter prefix still matches when a longer one fails its boundary', () => {
    const nested = [route({ route_id: 'long', path_pattern: '/api/v1', priority: 90 }), route({ route_id: 'short', path_pattern: '/api', priority: 10 })]
    expect(winner(nested, '/api/v1x')).toBe('short')
    expect(winner(nested, '/api/v1/x')).toBe('long')
  })
})

describe('regex patterns are anchored at the start of the path only', () => {
  const routes = [route({ route_id: 'version', path_pattern: '/v[0-9]+', is_regex: true })]

  test('"/v[0-9]+" matches "/v12/x" (not anchored at the end) but not "/x/v12"', () => {
    expect(winner(routes, '/v12/x')).toBe('version')
    expect(winner(routes, '/v12')).toBe('version')
    expect(winner(routes, '/x/v12')).toBeNull()
    expect(winner(routes, '/v')).toBeNull()
  })

  test('every alternative of a top-level "|" is anchored', () => {
    const alternatives = [route({ route_id: 'alt', path_pattern: '/a|/b', is_regex: true })]
    expect(winner(alternatives, '/b/x')).toBe('alt')
    expect(winner(alternatives, '/x/b')).toBeNull()
  })

  test('a regex with "$" must match up to the end', () => {
    const exact = [route({ route_id: 'exact', path_pattern: '/users/[0-9]+$', is_regex: true })]
    expect(winner(exact, '/users/42')).toBe('exact')
    expect(winner(exact, '/users/42/x')).toBeNull()
  })
})

describe('matchedLength: what strip_prefix removes', () => {
  function matchOf(pattern: string, isRegex: boolean, path: string): RouteMatch | null {
    return compileRouteTable([route({ route_id: 'r', path_pattern: pattern, is_regex: isRegex })]).match(proxy(), 'GET', path)
  }

  test('a prefix: its length, so "/api" on "/api/x" leaves "/x" and on "/api" leaves ""', () => {
    expect(matchOf('/api', false, '/api/x')?.matchedLength).toBe(4)
    expect(matchOf('/api', false, '/api')?.matchedLength).toBe(4)
  })

  test('a prefix with a trailing "/": its length without it, so "/api/" on "/api/x" leaves "/x"', () => {
    expect(matchOf('/api/', false, '/api/x')?.matchedLength).toBe(4)
  })

  test('the prefix "/": 0, the path stays whole', () => {
    expect(matchOf('/', false, '/a/b')?.matchedLength).toBe(0)
  })

  test('a regex: the length of its match at the start of the path', () => {
    expect(matchOf('/v[0-9]+', true, '/v123/items')?.matchedLength).toBe(5)
    expect(matchOf('/(a|ab)(c|bcd)', true, '/abcd/x')?.matchedLength).toBe(5)
    expect(matchOf('.*', true, '/a/b')?.matchedLength).toBe(4)
  })
})

describe('methods', () => {
  const routes = [route({ route_id: 'writes', path_pattern: '/api', methods: ['POST', 'PUT'] }), route({ route_id: 'gets', path_pattern: '/api', methods: ['GET'], priority: 1 })]

  test('a route with methods only takes those methods', () => {
    expect(winner(routes, '/api', 'POST')).toBe('writes')
    expect(winner(routes, '/api', 'GET')).toBe('gets')
    expect(winner(routes, '/api', 'DELETE')).toBeNull()
  })

  test('HEAD is not implied by GET, and names are case-sensitive', () => {
    expect(winner(routes, '/api', 'HEAD')).toBeNull()
    expect(winner(routes, '/api', 'get')).toBeNull()
  })

  test('methods null takes any method', () => {
    expect(winner([route({ route_id: 'any', path_pattern: '/api' })], '/api', 'PATCH')).toBe('any')
  })
})

describe('scope', () => {
  const routes = [
    route({ route_id: 'scoped', path_pattern: '/api', scope: 'proxy', proxy_hostnames: ['app.test', 'other.test'], priority: 90 }),
    route({ route_id: 'global', path_pattern: '/api', priority: 10 }),
  ]

  test('a proxy-scoped route applies to the proxies it names', () => {
    expect(winner(routes, '/api', 'GET', proxy({ proxy_hostname: 'app.test' }))).toBe('scoped')
    expect(winner(routes, '/api', 'GET', proxy({ proxy_hostname: 'other.test' }))).toBe('scoped')
  })

  test('a proxy-scoped route never matches another host; a global one matches every host', () => {
    expect(winner(routes, '/api', 'GET', proxy({ proxy_hostname: 'third.test' }))).toBe('global')
    expect(winner(routes.slice(0, 1), '/api', 'GET', proxy({ proxy_hostname: 'third.test' }))).toBeNull()
  })

  test('a proxy-scoped route with no hostnames applies to none', () => {
    expect(winner([route({ route_id: 'orphan', path_pattern: '/', scope: 'proxy' })], '/x')).toBeNull()
  })
})

describe('route modes (original §5 step 3.3)', () => {
  const routes = [route({ route_id: 'first', path_pattern: '/', priority: 90 }), route({ route_id: 'second', path_pattern: '/', priority: 10 })]

  test('none: no route applies', () => {
    expect(winner(routes, '/x', 'GET', proxy({ route_mode: 'none', enabled_routes: ['first'] }))).toBeNull()
    expect(compileRouteTable(routes).applicable(proxy({ route_mode: 'none' }))).toEqual([])
  })

  test('selective: only the routes in enabled_routes', () => {
    expect(winner(routes, '/x', 'GET', proxy({ route_mode: 'selective', enabled_routes: ['second'] }))).toBe('second')
    expect(winner(routes, '/x', 'GET', proxy({ route_mode: 'selective', enabled_routes: [] }))).toBeNull()
  })

  test('all: every route except those in disabled_routes', () => {
    expect(winner(routes, '/x', 'GET', proxy({ route_mode: 'all', disabled_routes: ['first'] }))).toBe('second')
    expect(winner(routes, '/x', 'GET', proxy({ route_mode: 'all', disabled_routes: ['first', 'second'] }))).toBeNull()
  })

  test('long enabled and disabled lists give the same answers as short ones', () => {
    const filler = Array.from({ length: 20 }, (_, i) => `filler-${i}`)
    const settings = proxy({ route_mode: 'selective', enabled_routes: [...filler, 'second'] })
    expect(winner(routes, '/x', 'GET', settings)).toBe('second')
    expect(winner(routes, '/x', 'GET', proxy({ route_mode: 'all', disabled_routes: [...filler, 'first'] }))).toBe('second')
  })

  test('applicable lists the enabled routes for the proxy, in the order they are tried', () => {
    const table = compileRouteTable([
      ...routes,
      route({ route_id: 'off', path_pattern: '/', enabled: false, priority: 99 }),
      route({ route_id: 'elsewhere', path_pattern: '/', scope: 'proxy', proxy_hostnames: ['other.test'], priority: 99 }),
      route({ route_id: 'here', path_pattern: '/', scope: 'proxy', proxy_hostnames: ['app.test'], priority: 50 }),
    ])
    expect(table.applicable(proxy()).map((r) => r.route_id)).toEqual(['first', 'here', 'second'])
    expect(table.applicable(proxy({ route_mode: 'all', disabled_routes: ['here'] })).map((r) => r.route_id)).toEqual(['first', 'second'])
    expect(table.size).toBe(5)
  })
})

describe('routes that never match', () => {
  test('a disabled route never matches, and the next one takes the request', () => {
    const routes = [route({ route_id: 'off', path_pattern: '/api', enabled: false, priority: 90 }), route({ route_id: 'on', path_pattern: '/api' })]
    expect(winner(routes, '/api')).toBe('on')
    expect(winner(routes, '/api', 'GET', proxy({ route_mode: 'selective', enabled_routes: ['off'] }))).toBeNull()
  })

  test('a stored route with an unusable pattern never matches and does not stop the others', () => {
    const routes = [
      route({ route_id: 'bad-regex', path_pattern: '(', is_regex: true, priority: 90 }),
      route({ route_id: 'bad-prefix', path_pattern: 'api', priority: 80 }),
      route({ route_id: 'good', path_pattern: '/' }),
    ]
    expect(winner(routes, '/api')).toBe('good')
  })
})

describe('regexes run together as one RE2 set', () => {
  test('the best-ranked matching regex wins, with its own match length, as when tried one by one', () => {
    const routes = [
      ...Array.from({ length: 12 }, (_, i) => route({ route_id: `set-${i}`, path_pattern: `[a-z/]*${i % 4}+`, is_regex: true, priority: i })),
      route({ route_id: 'get-only', path_pattern: '.*', is_regex: true, priority: 99, methods: ['GET'] }),
    ]
    const table = compileRouteTable(routes)
    expect(table.match(proxy(), 'POST', '/x/33/y')).toEqual({ route: routes[11]!, matchedLength: 5 })
    expect(table.match(proxy(), 'POST', '/x/1')).toEqual({ route: routes[9]!, matchedLength: 4 })
    expect(table.match(proxy(), 'GET', '/x/1')?.route.route_id).toBe('get-only')
    expect(table.match(proxy({ route_mode: 'all', disabled_routes: ['set-9'] }), 'POST', '/x/1')?.route.route_id).toBe('set-5')
  })
})

describe('linear-time regexes', () => {
  test('"(a+)+$" against "/" + 50 "a"s + "!" answers in under 10 ms', () => {
    const path = `/${'a'.repeat(50)}!`
    for (const count of [1, 20]) {
      // 1 route: tried alone; 20: run as one RE2 set.
      const routes = Array.from({ length: count }, (_, i) => route({ route_id: `evil-${i}`, path_pattern: '(a+)+$', is_regex: true }))
      const table = compileRouteTable(routes)
      // A first match on a harmless path, so the timing below is the input's, not the JIT's first call.
      table.match(proxy(), 'GET', '/')
      for (const candidate of [path, path.slice(1)]) {
        const startMs = performance.now()
        const match = table.match(proxy(), 'GET', candidate)
        expect(performance.now() - startMs).toBeLessThan(10)
        expect(match).toBeNull()
      }
    }
  })
})

/** mulberry32: a seeded generator, so a failure reproduces. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEGMENTS = ['api', 'ap', 'apix', 'v1', 'v2', 'v10', 'users', 'items', 'a', 'ab', 'abc', 'b', '.well-known', '', '42', '7']
const HOSTNAMES = ['a.test', 'b.test', 'c.test']
const METHODS = ['GET', 'POST', 'PUT', 'HEAD']
/** Regexes with no literal start (or only "/"): they are tried on every path. */
const LITERAL_LESS = ['.*\\.json$', '(?i)/API/', '/?[a-z]+/[0-9]+', '[^/]*/v[0-9]+', '/(a|ab)(c|bcd)', '(a+)+$', '/ab*c', '.*/items/.*', '/[.]well-known']

function randomRoutes(random: () => number, count: number): Route[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const randomPath = (depth: number) => Array.from({ length: depth }, () => `/${pick(SEGMENTS)}`).join('')
  return Array.from({ length: count }, (_, i) => {
    const kind = random()
    let pattern: string
    let isRegex = true
    if (kind < 0.45) {
      pattern = random() < 0.02 ? '/' : randomPath(1 + Math.floor(random() * 3)) + (random() < 0.2 ? '/' : '')
      isRegex = false
    } else if (kind < 0.9) {
      pattern = randomPath(1 + Math.floor(random() * 2)) + pick(['/[0-9]+', '[0-9]*', '/v[0-9]+$', '(/.*)?$', '/(users|items)', 'b*', '\\.?x?', ''])
    } else {
      pattern = pick(LITERAL_LESS)
    }
    const scoped = random() < 0.5
    return route({
      route_id: `r${i.toString().padStart(5, '0')}`,
      path_pattern: pattern,
      is_regex: isRegex,
      methods: random() < 0.7 ? null : [pick(METHODS), pick(METHODS)],
      priority: pick([0, 10, 50, 50, 50, 90]),
      sequence: Math.floor(random() * count),
      scope: scoped ? 'proxy' : 'global',
      proxy_hostnames: scoped ? [pick(HOSTNAMES), ...(random() < 0.3 ? [pick(HOSTNAMES)] : [])] : [],
      enabled: random() < 0.9,
    })
  })
}

function randomRequestPath(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const depth = Math.floor(random() * 5)
  return (depth === 0 ? '/' : Array.from({ length: depth }, () => `/${pick([...SEGMENTS, 'x.json', 'API', 'aaaa'])}`).join('')) + (random() < 0.1 ? '/' : '')
}

/** The specification, written as plainly as possible: sort, filter, try each route in turn. */
function createReference(routes: readonly Route[]) {
  const ordered = [...routes].sort((a, b) => b.priority - a.priority || a.sequence - b.sequence || (a.route_id < b.route_id ? -1 : 1))
  const regexes = new Map(routes.filter((r) => r.is_regex).map((r) => [r.path_pattern, RE2JS.compile(r.path_pattern)]))
  return (settings: ProxyRouteSettings, method: string, path: string): RouteMatch | null => {
    if (settings.route_mode === 'none') return null
    for (const r of ordered) {
      if (!r.enabled) continue
      if (r.scope === 'proxy' && !r.proxy_hostnames.includes(settings.proxy_hostname)) continue
      if (settings.route_mode === 'selective' && !settings.enabled_routes.includes(r.route_id)) continue
      if (settings.route_mode === 'all' && settings.disabled_routes.includes(r.route_id)) continue
      if (r.methods !== null && !r.methods.includes(method)) continue
      const pattern = r.path_pattern
      if (r.is_regex) {
        const matcher = regexes.get(pattern)!.matcher(path)
        if (matcher.lookingAt()) return { route: r, matchedLength: matcher.end() }
      } else if (pattern === '/') {
        return { route: r, matchedLength: 0 }
      } else if (pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern || path.startsWith(`${pattern}/`)) {
        return { route: r, matchedLength: pattern.endsWith('/') ? pattern.length - 1 : pattern.length }
      }
    }
    return null
  }
}

function randomSettings(random: () => number, routes: readonly Route[]): ProxyRouteSettings {
  const ids = () => routes.filter(() => random() < 0.3).map((r) => r.route_id)
  const hostname = HOSTNAMES[Math.floor(random() * (HOSTNAMES.length + 1))] ?? 'unknown.test'
  const mode = random()
  if (mode < 0.6) return proxy({ proxy_hostname: hostname, route_mode: 'all', disabled_routes: random() < 0.5 ? [] : ids() })
  if (mode < 0.95) return proxy({ proxy_hostname: hostname, route_mode: 'selective', enabled_routes: ids() })
  return proxy({ proxy_hostname: hostname, route_mode: 'none' })
}

describe('agreement with a brute-force reference', () => {
  function expectAgreement(seed: number, routeCount: number, requestCount: number, minimumMatchedShare: number) {
    const random = seededRandom(seed)
    const routes = randomRoutes(random, routeCount)
    const table = compileRouteTable(routes)
    const reference = createReference(routes)
    const settingsPool = Array.from({ length: 8 }, () => randomSettings(random, routes))
    let matched = 0
    for (let i = 0; i < requestCount; i++) {
      const settings = settingsPool[i % settingsPool.length]!
      const method = METHODS[Math.floor(random() * METHODS.length)]!
      const path = randomRequestPath(random)
      const expected = reference(settings, method, path)
      const actual = table.match(settings, method, path)
      if (actual?.route.route_id !== expected?.route.route_id || actual?.matchedLength !== expected?.matchedLength) {
        throw new Error(`seed ${seed}: ${settings.proxy_hostname} ${settings.route_mode} ${method} ${path}: expected ${expected?.route.route_id}/${expected?.matchedLength}, got ${actual?.route.route_id}/${actual?.matchedLength}`)
      }
      if (expected !== null) matched += 1
    }
    // Guards against a vacuous pass: many requests should find a route.
    expect(matched / requestCount).toBeGreaterThan(minimumMatchedShare)
  }

  test('10,000 mixed routes (many regexes share a node and run as one RE2 set), 3,000 seeded random requests', () => {
    expectAgreement(20260101, 10_000, 3_000, 0.5)
  })

  test('5 × 60 mixed routes (few regexes per node, mostly tried one by one), 600 seeded random requests each', () => {
    for (const seed of [1, 2, 3, 4, 5]) expectAgreement(seed, 60, 600, 0.05)
  })

  test('reusing the previous table gives the same answers as compiling afresh', () => {
    const random = seededRandom(7)
    const before = randomRoutes(random, 2_000)
    const after = [
      ...before.slice(200).map((r, i) => (i % 10 === 0 ? { ...r, priority: 99 - r.priority, enabled: !r.enabled } : r)),
      ...randomRoutes(random, 300).map((r) => ({ ...r, route_id: `new-${r.route_id}` })),
    ]
    const reused = compileRouteTable(after, compileRouteTable(before))
    const fresh = compileRouteTable(after)
    const reference = createReference(after)
    for (let i = 0; i < 2_000; i++) {
      const settings = randomSettings(random, after)
      const method = METHODS[i % METHODS.length]!
      const path = randomRequestPath(random)
      const expected = reference(settings, method, path)
      expect(reused.match(settings, method, path)).toEqual(fresh.match(settings, method, path))
      expect(reused.match(settings, method, path)?.route.route_id).toBe(expected?.route.route_id)
    }
    expect(reused.applicable(proxy({ proxy_hostname: 'a.test' }))).toEqual(fresh.applicable(proxy({ proxy_hostname: 'a.test' })))
  })
})
