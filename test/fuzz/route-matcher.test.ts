/**
 * Fuzzing the route matcher (routes/matcher.ts) and its patterns (routes/pattern.ts): generated route
 * tables — prefix and RE2 patterns built from path pieces and regex syntax, valid or not, scoped,
 * prioritised, with methods — against generated and arbitrary paths. Properties: neither compiling nor
 * matching ever throws, whatever a stored pattern or a path holds; the compiled table answers exactly
 * what a plain sort-and-try-each reference answers (the trie and RE2 sets change speed, never
 * results); a match is never longer than the path; and literalPrefixOf is sound — every path a regex
 * matches starts with the literal the matcher files it under, or the route would be skipped.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { RE2JS } from 're2js'
import { compileRouteTable, type RouteMatch } from '../../src/routes/matcher.ts'
import type { ProxyRouteSettings, Route } from '../../src/routes/model.ts'
import { checkPattern, literalPrefixOf } from '../../src/routes/pattern.ts'
import { FUZZ_TEST_TIMEOUT_MS, fuzz } from './fuzz.ts'

const HOSTNAMES = ['a.test', 'b.test']
const METHODS = ['GET', 'POST', 'HEAD']
const SEGMENTS = ['api', 'ap', 'v1', 'v10', 'a', 'ab', 'b', '.well-known', '', '42', 'x.json', 'A', '%2F', 'é']

const PREFIX_PIECES = ['/', '/api', '/ap', '/v1', '/a', '/ab', '/b', '/.well-known', '/42', '/x.json', 'api', ' ', '?', '#', '\\', '/é']
const REGEX_PIECES = [
  '/', 'api', 'a', 'b', 'ab', 'v', '1', '.', '\\.', '\\/', '[0-9]', '[a-z]+', '[^/]*', '*', '+', '?', '{2}', '{1,3}', '(', ')', '|',
  '(a|ab)', '(?:x)', '(?i)', '(?-i)', '(?U)', '\\Q\\E', '\\E', '^', '$', '\\d+', '\\w', '\\', '[', ']', '\\Q.\\E', '.*', 'é', '\\x41', '\\p{L}', '(?P<n>a)', '\\1', '(?=a)',
]

const prefixPatternArb = fc.array(fc.constantFrom(...PREFIX_PIECES), { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join(''))
const regexPatternArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...REGEX_PIECES), { minLength: 1, maxLength: 7 }).map((pieces) => pieces.join('')) },
  fc.string({ maxLength: 12 }),
)

const routeArb = (index: number): fc.Arbitrary<Route> =>
  fc
    .record({
      isRegex: fc.boolean(),
      prefix: prefixPatternArb,
      regex: regexPatternArb,
      methods: fc.option(fc.subarray(METHODS, { minLength: 1 })),
      priority: fc.constantFrom(0, 10, 50, 50, 90),
      sequence: fc.integer({ min: 0, max: 20 }),
      hostnames: fc.option(fc.subarray(HOSTNAMES, { minLength: 1 })),
      enabled: fc.boolean(),
    })
    .map((r) => ({
      route_id: `r${index.toString().padStart(2, '0')}`,
      path_pattern: r.isRegex ? r.regex : r.prefix,
      is_regex: r.isRegex,
      methods: r.methods,
      priority: r.priority,
      target_type: 'url',
      target_value: 'http://127.0.0.1:9/',
      strip_prefix: false,
      scope: r.hostnames === null ? 'global' : 'proxy',
      proxy_hostnames: r.hostnames ?? [],
      enabled: r.enabled,
      description: '',
      auth: null,
      created_by: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      sequence: r.sequence,
    }))

/** Up to 14 routes; more than 4 regexes on one node run as one RE2 set, so both ways are exercised. */
const routesArb = fc.integer({ min: 0, max: 14 }).chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => routeArb(i))))

const settingsArb = (routes: readonly Route[]): fc.Arbitrary<ProxyRouteSettings> =>
  fc.record({
    proxy_hostname: fc.constantFrom(...HOSTNAMES, 'other.test'),
    route_mode: fc.constantFrom('all', 'all', 'selective', 'none'),
    enabled_routes: fc.subarray(routes.map((r) => r.route_id)),
    disabled_routes: fc.subarray(routes.map((r) => r.route_id)),
  })

const pathArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 4 }).map((segments) => `/${segments.join('/')}`) },
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
)

/** The specification, plainly: sort, filter, try each route in turn; an unusable pattern never matches. */
function referenceMatch(routes: readonly Route[], settings: ProxyRouteSettings, method: string, path: string): RouteMatch | null {
  if (settings.route_mode === 'none') return null
  const ordered = [...routes].sort((a, b) => b.priority - a.priority || a.sequence - b.sequence || (a.route_id < b.route_id ? -1 : 1))
  for (const route of ordered) {
    if (!route.enabled || checkPattern(route.path_pattern, route.is_regex) !== null) continue
    if (route.scope === 'proxy' && !route.proxy_hostnames.includes(settings.proxy_hostname)) continue
    if (settings.route_mode === 'selective' && !settings.enabled_routes.includes(route.route_id)) continue
    if (settings.route_mode === 'all' && settings.disabled_routes.includes(route.route_id)) continue
    if (route.methods !== null && !route.methods.includes(method)) continue
    const pattern = route.path_pattern
    if (route.is_regex) {
      const matcher = RE2JS.compile(pattern).matcher(path)
      if (matcher.lookingAt()) return { route, matchedLength: matcher.end() }
    } else if (pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern || path.startsWith(`${pattern}/`)) {
      return { route, matchedLength: pattern.endsWith('/') ? pattern.length - 1 : pattern.length }
    }
  }
  return null
}

describe('route matcher (fuzzed)', () => {
  test('the compiled table answers what the reference answers, never throws, never matches past the path', () => {
    const caseArb = routesArb.chain((routes) => fc.tuple(fc.constant(routes), settingsArb(routes), fc.array(fc.tuple(fc.constantFrom(...METHODS), pathArb), { minLength: 1, maxLength: 8 })))
    fuzz('routes: matcher = reference', fc.property(caseArb, ([routes, settings, requests]) => {
      const table = compileRouteTable(routes)
      for (const [method, path] of requests) {
        const actual = table.match(settings, method, path)
        const expected = referenceMatch(routes, settings, method, path)
        expect(actual?.route.route_id ?? null).toBe(expected?.route.route_id ?? null)
        expect(actual?.matchedLength ?? null).toBe(expected?.matchedLength ?? null)
        if (actual) expect(actual.matchedLength).toBeLessThanOrEqual(path.length)
      }
      // Rebuilding from this table reuses its compiled regexes: the same answers.
      const rebuilt = compileRouteTable(routes, table)
      for (const [method, path] of requests) expect(rebuilt.match(settings, method, path)).toEqual(table.match(settings, method, path))
    }), { runs: 4_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('checkPattern never throws, whatever the text; an accepted prefix pattern starts with "/"', () => {
    fuzz('routes: checkPattern', fc.property(fc.oneof(regexPatternArb, prefixPatternArb, fc.string({ unit: 'binary', maxLength: 40 })), fc.boolean(), (pattern, isRegex) => {
      const problem = checkPattern(pattern, isRegex)
      expect(problem === null || typeof problem === 'string').toBe(true)
      if (problem === null && !isRegex) expect(pattern.startsWith('/')).toBe(true)
    }), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('literalPrefixOf is sound: every path a regex matches (at its start) begins with that literal', () => {
    fuzz('routes: literal prefix', fc.property(regexPatternArb, fc.array(pathArb, { minLength: 1, maxLength: 10 }), (pattern, paths) => {
      if (checkPattern(pattern, true) !== null) return
      const literal = literalPrefixOf(pattern)
      const regex = RE2JS.compile(pattern)
      for (const path of [...paths, literal, `${literal}x`, `${literal}/`]) {
        if (regex.matcher(path).lookingAt()) expect(path.startsWith(literal)).toBe(true)
      }
    }), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)
})

describe('regressions found by this suite', () => {
  // RE2 reads a quantifier after a flag group or an empty \Q\E as applying to the character before:
  // `/api(?i)?` matches `/ap`, `/+(?i)?` matches "". Filed under `/api` and `/`, they were never tried there.
  test.each([
    ['/api(?i)?', '/ap', '/ap'],
    ['/(?i)?', '', ''],
    ['/a(?i)(?s)*', '/b', '/'],
    ['/a\\Q\\E?', '/', '/'],
    ['/+(?i)?', '', ''],
  ])('%s matches %s, and is filed under %s', (pattern, path, literal) => {
    expect(literalPrefixOf(pattern)).toBe(literal)
    const routes = [{ route_id: 'r', path_pattern: pattern, is_regex: true, methods: null, priority: 50, target_type: 'url', target_value: 'http://127.0.0.1:9/', strip_prefix: false, scope: 'global', proxy_hostnames: [], enabled: true, description: '', auth: null, created_by: null, created_at: '', updated_at: '', sequence: 1 } satisfies Route]
    const settings: ProxyRouteSettings = { proxy_hostname: 'a.test', route_mode: 'all', enabled_routes: [], disabled_routes: [] }
    expect(compileRouteTable(routes).match(settings, 'GET', path)?.route.route_id).toBe('r')
    expect(referenceMatch(routes, settings, 'GET', path)?.route.route_id).toBe('r')
  })
})
