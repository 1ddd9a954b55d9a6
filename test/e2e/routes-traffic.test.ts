/**
 * README "Routes", through the whole server over sockets: routes created and changed through the API
 * decide where the public listener sends each request. Every route points at one path-echo backend under a
 * path of its own (`/<tag>`), so the backend's answer names the route that took the request and shows the
 * path it forwarded; a request no route takes lands under its proxy's own tag.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import type { Route } from '../../src/routes/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { httpsGet, openRaw, parseResponses, tcpExchange, viaHttp } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge
let backend: ReturnType<typeof startPathEchoBackend>
/** Routes made by the running test; afterEach deletes them, so every test starts with none. */
const made: string[] = []

/** Answers with the request target it received (path and query), nothing else. */
function startPathEchoBackend() {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const url = new URL(request.url)
      return new Response(`${url.pathname}${url.search}`)
    },
  })
}

const PROXIES = { 'app.test': 'app', 'other.test': 'other', 'modes.test': 'modes', 'order.test': 'order', 'evil.test': 'evil' }

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startPathEchoBackend()
  for (const [hostname, tag] of Object.entries(PROXIES)) await edge.createProxy(hostname, `http://127.0.0.1:${backend.port}/${tag}`)
})
afterEach(async () => {
  for (const id of made.splice(0)) await edge.api('DELETE', `/routes/${id}`)
})
afterAll(async () => {
  backend.stop(true)
  await edge.stop()
})

/** A route's target: the echo backend under `/<tag>`. */
const to = (tag: string) => ({ target_type: 'url', target_value: `http://127.0.0.1:${backend.port}/${tag}` })

async function createRoute(fields: Record<string, unknown>): Promise<Route> {
  const response = await edge.api('POST', '/routes', fields)
  if (response.status !== 201) throw new Error(`POST /routes ${JSON.stringify(fields)}: ${response.status} ${await response.text()}`)
  const route = (await response.json()) as Route
  made.push(route.route_id)
  return route
}

async function updateRoute(id: string, changes: Record<string, unknown>): Promise<void> {
  const response = await edge.api('PUT', `/routes/${id}`, changes)
  if (response.status !== 200) throw new Error(`PUT /routes/${id}: ${response.status} ${await response.text()}`)
}

/** The request target the backend received for one request to the public HTTP listener. */
async function forwarded(host: string, path: string, method = 'GET'): Promise<string> {
  const response = await viaHttp(edge, host, path, { method })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`${method} ${host}${path}: ${response.status} ${text}`)
  return text
}

/** Like forwarded, over raw TCP: the request target goes on the wire exactly as given. */
async function rawForwarded(host: string, target: string): Promise<string> {
  const replies = parseResponses(await tcpExchange(edge.httpPort, [`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]))
  expect(replies.map((reply) => reply.status)).toEqual([200])
  return replies[0]!.text
}

/** Which route (by its target's tag), or which proxy's own backend, took the request. */
async function taker(host: string, path: string, method = 'GET'): Promise<string> {
  return (await forwarded(host, path, method)).split('/')[1]!
}

async function routeSettings(host: string, changes?: Record<string, unknown>) {
  const response = changes === undefined ? await edge.api('GET', `/proxy/targets/${host}/routes`) : await edge.api('PUT', `/proxy/targets/${host}/routes`, changes)
  expect(response.status).toBe(200)
  return (await response.json()) as { route_mode: string; enabled_routes: string[]; disabled_routes: string[]; applicable_routes: Route[] }
}

async function useRoute(host: string, id: string, verb: 'enable' | 'disable'): Promise<number> {
  const response = await edge.api('POST', `/proxy/targets/${host}/routes/${id}/${verb}`)
  await response.body?.cancel()
  return response.status
}

describe('the order routes are tried in', () => {
  test('priority decides, not how long or specific the prefix is', async () => {
    const low = await createRoute({ path_pattern: '/pr', priority: 10, ...to('low') })
    await createRoute({ path_pattern: '/pr/deep', priority: 60, ...to('high') })
    await createRoute({ path_pattern: '/pr/deep/er', priority: 30, ...to('mid') })
    expect(await taker('app.test', '/pr/deep/er/x')).toBe('high')
    expect(await taker('app.test', '/pr/deep')).toBe('high')
    expect(await taker('app.test', '/pr/x')).toBe('low')
    await updateRoute(low.route_id, { priority: 99 })
    expect(await taker('app.test', '/pr/deep/er/x')).toBe('low')
  })

  test('equal priority: the route created first wins, whether it is the shorter or the longer prefix, and whatever its id', async () => {
    await createRoute({ path_pattern: '/eq', ...to('eq-first') })
    await createRoute({ path_pattern: '/eq/x', ...to('eq-second') })
    expect(await taker('app.test', '/eq/x/y')).toBe('eq-first')

    // Here the id order ("fq-<hex>" < "fq-x-<hex>") and the length order both disagree with creation order.
    const longer = await createRoute({ path_pattern: '/fq/x', ...to('fq-first') })
    const shorter = await createRoute({ path_pattern: '/fq', ...to('fq-second') })
    expect(shorter.route_id < longer.route_id).toBe(true)
    expect(shorter.sequence).toBeGreaterThan(longer.sequence)
    expect(await taker('app.test', '/fq/x/y')).toBe('fq-first')
    expect(await taker('app.test', '/fq/z')).toBe('fq-second')
  })
})

describe('what a pattern matches', () => {
  test('a prefix matches on segment boundaries: /api takes /api and /api/x, never /apix; the query is not part of the path', async () => {
    await createRoute({ path_pattern: '/api', ...to('api') })
    for (const path of ['/api', '/api/', '/api/x', '/api/x/y', '/api?x=1', '/api/?next=/apix']) expect({ path, taker: await taker('app.test', path) }).toEqual({ path, taker: 'api' })
    for (const path of ['/apix', '/api-x', '/api.json', '/ap', '/x/api', '/apix?/api']) expect({ path, taker: await taker('app.test', path) }).toEqual({ path, taker: 'app' })
  })

  test('a prefix ending in "/" matches only below it: /lst/ takes /lst/ and /lst/x, not /lst', async () => {
    await createRoute({ path_pattern: '/lst/', ...to('lst') })
    expect(await taker('app.test', '/lst/')).toBe('lst')
    expect(await taker('app.test', '/lst/x')).toBe('lst')
    expect(await taker('app.test', '/lst')).toBe('app')
    expect(await taker('app.test', '/lstx/')).toBe('app')
  })

  test('a regex is anchored at the start of the path, not at its end', async () => {
    await createRoute({ path_pattern: '/re[0-9]+', is_regex: true, ...to('re') })
    // No literal start: filed where every path is tried, and still anchored.
    await createRoute({ path_pattern: '[/]rx[0-9]+', is_regex: true, ...to('rx') })
    for (const path of ['/re1', '/re12/x', '/re12abc', '/re7?q=/x/re1']) expect({ path, taker: await taker('app.test', path) }).toEqual({ path, taker: 're' })
    for (const path of ['/rx1', '/rx12/x']) expect({ path, taker: await taker('app.test', path) }).toEqual({ path, taker: 'rx' })
    for (const path of ['/x/re12', '/rex', '/re', '/x/rx12', '/a?/re1']) expect({ path, taker: await taker('app.test', path) }).toEqual({ path, taker: 'app' })
    // fetch would send "//re1" as "/re1"; on the wire the path starts with an empty segment, which the regex does not.
    expect(await rawForwarded('app.test', '//re1')).toBe('/app//re1')
  })

  test('methods: a route for POST and PUT (given in lower case) takes those methods only', async () => {
    await createRoute({ path_pattern: '/m', methods: ['post', 'PUT'], ...to('m') })
    expect(await taker('app.test', '/m', 'POST')).toBe('m')
    expect(await taker('app.test', '/m', 'PUT')).toBe('m')
    expect(await taker('app.test', '/m', 'GET')).toBe('app')
    expect(await taker('app.test', '/m', 'DELETE')).toBe('app')
  })

  test('scope proxy: the route applies to its listed hosts only; others fall through to a global route or their own backend', async () => {
    await createRoute({ path_pattern: '/sc', scope: 'proxy', proxy_hostnames: ['app.test'], priority: 60, ...to('scoped') })
    expect(await taker('app.test', '/sc/x')).toBe('scoped')
    expect(await taker('other.test', '/sc/x')).toBe('other')
    await createRoute({ path_pattern: '/sc', priority: 50, ...to('global') })
    expect(await taker('app.test', '/sc/x')).toBe('scoped')
    expect(await taker('other.test', '/sc/x')).toBe('global')
  })

  test('a disabled route (enabled: false) never matches, not even above a lower-priority route, and is not listed as applicable', async () => {
    const off = await createRoute({ path_pattern: '/off', priority: 90, enabled: false, ...to('off') })
    expect(await taker('app.test', '/off')).toBe('app')
    await createRoute({ path_pattern: '/off', priority: 10, ...to('below') })
    expect(await taker('app.test', '/off')).toBe('below')
    expect((await routeSettings('app.test')).applicable_routes.map((route) => route.route_id)).not.toContain(off.route_id)
    await updateRoute(off.route_id, { enabled: true })
    expect(await taker('app.test', '/off')).toBe('off')
    await updateRoute(off.route_id, { enabled: false })
    expect(await taker('app.test', '/off')).toBe('below')
  })
})

describe('route modes (PUT /proxy/targets/{h}/routes, POST …/routes/{id}/enable|disable)', () => {
  test('all, selective and none decide which routes a proxy tries; other proxies are unaffected', async () => {
    const first = await createRoute({ path_pattern: '/md', priority: 60, ...to('md1') })
    const second = await createRoute({ path_pattern: '/md', priority: 50, ...to('md2') })
    const ids = async () => (await routeSettings('modes.test')).applicable_routes.map((route) => route.route_id)

    // all (the default): every route but disabled_routes.
    expect(await taker('modes.test', '/md')).toBe('md1')
    expect(await useRoute('modes.test', first.route_id, 'disable')).toBe(200)
    expect(await taker('modes.test', '/md')).toBe('md2')
    expect(await useRoute('modes.test', second.route_id, 'disable')).toBe(200)
    expect(await taker('modes.test', '/md')).toBe('modes')
    expect(await ids()).not.toContain(first.route_id)
    expect(await taker('other.test', '/md')).toBe('md1')
    expect(await useRoute('modes.test', first.route_id, 'enable')).toBe(200)
    expect(await taker('modes.test', '/md')).toBe('md1')

    // selective: only enabled_routes.
    expect((await routeSettings('modes.test', { route_mode: 'selective', enabled_routes: [] })).route_mode).toBe('selective')
    expect(await taker('modes.test', '/md')).toBe('modes')
    expect(await useRoute('modes.test', second.route_id, 'enable')).toBe(200)
    expect(await taker('modes.test', '/md')).toBe('md2')
    expect(await ids()).toEqual([second.route_id])
    expect(await useRoute('modes.test', first.route_id, 'enable')).toBe(200)
    expect(await taker('modes.test', '/md')).toBe('md1')
    expect(await useRoute('modes.test', first.route_id, 'disable')).toBe(200)
    expect(await taker('modes.test', '/md')).toBe('md2')

    // none: no route at all, and there is nothing to switch.
    expect((await routeSettings('modes.test', { route_mode: 'none' })).applicable_routes).toEqual([])
    expect(await taker('modes.test', '/md')).toBe('modes')
    expect(await useRoute('modes.test', first.route_id, 'enable')).toBe(400)
    expect(await taker('modes.test', '/md')).toBe('modes')
    expect(await taker('other.test', '/md')).toBe('md1')

    await routeSettings('modes.test', { route_mode: 'all', disabled_routes: [] })
    expect(await taker('modes.test', '/md')).toBe('md1')
  })
})

describe('strip_prefix', () => {
  test('removes the matched start of the path and keeps the query; without it the path is forwarded whole', async () => {
    await createRoute({ path_pattern: '/sp', strip_prefix: true, ...to('S') })
    await createRoute({ path_pattern: '/st/', strip_prefix: true, ...to('T') })
    await createRoute({ path_pattern: '/rs[0-9]+', is_regex: true, strip_prefix: true, ...to('R') })
    await createRoute({ path_pattern: '/ns', ...to('N') })
    const cases: [string, string][] = [
      ['/sp/x/y', '/S/x/y'],
      ['/sp', '/S/'],
      ['/sp/', '/S/'],
      ['/sp/x?q=1&r=a%20b', '/S/x?q=1&r=a%20b'],
      ['/sp?q=1', '/S/?q=1'],
      ['/st/x', '/T/x'],
      ['/st/x?q=/st/', '/T/x?q=/st/'],
      ['/rs42/a', '/R/a'],
      ['/rs42/a?b=1', '/R/a?b=1'],
      ['/rs42?b=1', '/R/?b=1'],
      ['/ns/x/y', '/N/ns/x/y'],
      ['/ns/x?q=1', '/N/ns/x?q=1'],
      ['/ns?q=1', '/N/ns?q=1'],
    ]
    for (const [path, expected] of cases) expect({ path, forwarded: await forwarded('app.test', path) }).toEqual({ path, forwarded: expected })
  })
})

describe('every path into the edge decides the same', () => {
  test('HTTPS, and HTTP/1.0 (served by the hand-over server, not the relay), route and strip exactly as plain HTTP/1.1 does', async () => {
    await createRoute({ path_pattern: '/both', strip_prefix: true, ...to('B') })
    const expected = ['/B/x?q=1', '/app/neither?q=1']
    const targets = ['/both/x?q=1', '/neither?q=1']
    const viaPlain = await Promise.all(targets.map((target) => forwarded('app.test', target)))
    const viaTls = await Promise.all(targets.map(async (target) => (await httpsGet(edge.httpsPort, 'app.test', target)).reply.text))
    const viaHandover = await Promise.all(
      targets.map(async (target) => {
        const replies = parseResponses(await tcpExchange(edge.httpPort, [`GET ${target} HTTP/1.0\r\nHost: app.test\r\n\r\n`]))
        return replies.map((reply) => `${reply.status} ${reply.text}`).join()
      }),
    )
    expect({ viaPlain, viaTls, viaHandover }).toEqual({ viaPlain: expected, viaTls: expected, viaHandover: expected.map((path) => `200 ${path}`) })
  })
})

describe('changes apply to the very next request', () => {
  test('create, change target, path, strip_prefix, methods, delete: each is seen by the next request, with no wait', async () => {
    const route = await createRoute({ path_pattern: '/live', ...to('L1') })
    expect(await forwarded('app.test', '/live/x')).toBe('/L1/live/x')
    await updateRoute(route.route_id, to('L2'))
    expect(await forwarded('app.test', '/live/x')).toBe('/L2/live/x')
    await updateRoute(route.route_id, { path_pattern: '/live2' })
    expect(await forwarded('app.test', '/live/x')).toBe('/app/live/x')
    expect(await forwarded('app.test', '/live2/x')).toBe('/L2/live2/x')
    await updateRoute(route.route_id, { strip_prefix: true })
    expect(await forwarded('app.test', '/live2/x')).toBe('/L2/x')
    await updateRoute(route.route_id, { methods: ['POST'] })
    expect(await forwarded('app.test', '/live2/x')).toBe('/app/live2/x')
    expect(await forwarded('app.test', '/live2/x', 'POST')).toBe('/L2/x')
    const response = await edge.api('DELETE', `/routes/${route.route_id}`)
    expect(response.status).toBe(204)
    expect(await forwarded('app.test', '/live2/x', 'POST')).toBe('/app/live2/x')
  })
})

describe('route targets', () => {
  test('url, port, service and hostname targets each reach their backend', async () => {
    const service = await edge.api('POST', '/services/external', { service_name: 'billing', target_url: `http://127.0.0.1:${backend.port}/svc` })
    expect(service.status).toBe(201)
    await createRoute({ path_pattern: '/t-url', ...to('url') })
    await createRoute({ path_pattern: '/t-port', target_type: 'port', target_value: backend.port })
    await createRoute({ path_pattern: '/t-service', target_type: 'service', target_value: 'billing' })
    await createRoute({ path_pattern: '/t-hostname', target_type: 'hostname', target_value: 'other.test' })
    expect(await forwarded('app.test', '/t-url/x')).toBe('/url/t-url/x')
    expect(await forwarded('app.test', '/t-port/x')).toBe('/t-port/x')
    expect(await forwarded('app.test', '/t-service/x')).toBe('/svc/t-service/x')
    expect(await forwarded('app.test', '/t-hostname/x')).toBe('/other/t-hostname/x')
  })
})

describe('changes on a keep-alive connection', () => {
  test('the next request on an open connection sees a route change and a route_mode change made between two requests', async () => {
    const connection = await openRaw(edge.httpPort)
    const ask = async (path: string) => {
      const before = parseResponses(connection.received()).length
      connection.write(`GET ${path} HTTP/1.1\r\nHost: app.test\r\n\r\n`)
      await waitFor(() => parseResponses(connection.received()).length > before, { timeoutMs: 5_000, intervalMs: 2, what: `the answer to ${path}` })
      const reply = parseResponses(connection.received())[before]!
      return `${reply.status} ${reply.text}`
    }
    try {
      expect(await ask('/ka/x')).toBe('200 /app/ka/x')
      const route = await createRoute({ path_pattern: '/ka', ...to('K1') })
      expect(await ask('/ka/x')).toBe('200 /K1/ka/x')
      await updateRoute(route.route_id, { ...to('K2'), strip_prefix: true })
      expect(await ask('/ka/x')).toBe('200 /K2/x')
      await routeSettings('app.test', { route_mode: 'none' })
      expect(await ask('/ka/x')).toBe('200 /app/ka/x')
      await routeSettings('app.test', { route_mode: 'all' })
      expect(await ask('/ka/x')).toBe('200 /K2/x')
      expect(connection.isClosed()).toBe(false)
    } finally {
      connection.close()
      await routeSettings('app.test', { route_mode: 'all' })
    }
  })
})

describe('a catastrophic pattern cannot stall the data plane', () => {
  test('"(a+)+$" and "/(a+)+$" as routes: "/" + 50 "a"s + "!" misses both and is answered by the proxy target in well under a second', async () => {
    await createRoute({ path_pattern: '(a+)+$', is_regex: true, scope: 'proxy', proxy_hostnames: ['evil.test'], ...to('evil-bare') })
    // With the leading "/" the pattern reaches the a's: a backtracking engine would take ~2^50 steps here.
    await createRoute({ path_pattern: '/(a+)+$', is_regex: true, scope: 'proxy', proxy_hostnames: ['evil.test'], ...to('evil-slash') })
    // The route is live: a path it matches goes to it.
    expect(await taker('evil.test', '/aaaa')).toBe('evil-slash')
    const path = `/${'a'.repeat(50)}!`
    const started = performance.now()
    const response = await viaHttp(edge, 'evil.test', path)
    const body = await response.text()
    const elapsedMs = performance.now() - started
    expect(response.status).toBe(200)
    expect(body).toBe(`/evil${path}`)
    expect(elapsedMs).toBeLessThan(1_000)
  })
})

describe('GET /proxy/targets/{h}/routes', () => {
  test('applicable_routes lists the routes in the order they are tried, and the data plane tries them in exactly that order', async () => {
    // Every applicable route below matches the request (with its method); listed in creation order.
    const specs: { tag: string; fields: Record<string, unknown>; method?: string; isListed: boolean }[] = [
      { tag: 'o-prefix-50', fields: { path_pattern: '/ord' }, isListed: true },
      { tag: 'o-regex-50', fields: { path_pattern: '/or[d]', is_regex: true }, isListed: true },
      { tag: 'o-deep-70', fields: { path_pattern: '/ord/x', priority: 70 }, isListed: true },
      { tag: 'o-root-50', fields: { path_pattern: '/' }, isListed: true },
      { tag: 'o-any-10', fields: { path_pattern: '.*', is_regex: true, priority: 10 }, isListed: true },
      { tag: 'o-scoped-50', fields: { path_pattern: '/ord/x/', methods: ['GET', 'POST'], scope: 'proxy', proxy_hostnames: ['order.test'] }, isListed: true },
      { tag: 'o-post-95', fields: { path_pattern: '/ord', priority: 95, methods: ['POST'] }, method: 'POST', isListed: true },
      { tag: 'o-elsewhere-80', fields: { path_pattern: '/ord', priority: 80, scope: 'proxy', proxy_hostnames: ['other.test'] }, isListed: false },
      { tag: 'o-off-90', fields: { path_pattern: '/ord/x', priority: 90, enabled: false }, isListed: false },
      { tag: 'o-regex-70', fields: { path_pattern: '/ord/[x]/y', is_regex: true, priority: 70 }, isListed: true },
    ]
    const created = new Map<string, { route: Route; tag: string; method: string; order: number }>()
    for (const [order, spec] of specs.entries()) {
      const route = await createRoute({ ...spec.fields, ...to(spec.tag) })
      created.set(route.route_id, { route, tag: spec.tag, method: spec.method ?? 'GET', order })
    }
    // README: priority (higher first), then creation order.
    const expected = [...created.values()]
      .filter(({ tag }) => specs.find((spec) => spec.tag === tag)!.isListed)
      .sort((a, b) => b.route.priority - a.route.priority || a.order - b.order)
      .map(({ route }) => route.route_id)

    const listed = (await routeSettings('order.test')).applicable_routes.map((route) => route.route_id)
    expect(listed).toEqual(expected)

    // One request per listed route: the first route still on must take it; then it is switched off for this proxy.
    const takers: string[] = []
    for (const id of listed) {
      takers.push(await taker('order.test', '/ord/x/y', created.get(id)!.method))
      expect(await useRoute('order.test', id, 'disable')).toBe(200)
    }
    expect(takers).toEqual(listed.map((id) => created.get(id)!.tag))
    expect(await taker('order.test', '/ord/x/y')).toBe('order')
    expect((await routeSettings('order.test')).applicable_routes).toEqual([])
  })
})
