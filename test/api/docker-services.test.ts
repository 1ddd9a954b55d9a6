/**
 * /services (Docker services) on a real server with a real dockerd: every endpoint refuses a missing
 * token (401) and, for writes, a user token (403); bad bodies are 400 naming the field (the refusals
 * too: privileged, host network, devices, a bind mount outside SERVICE_BIND_ROOT), unknown names 404,
 * conflicts 409; the fixed paths under /services are never shadowed by /services/{name} (the
 * original's bug); /openapi.json documents every path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { tokenWith } from '../support/configured-edge.ts'
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, HTTPD_COMMAND, HTTPD_PORT, removeTestContainers, requireDocker, TEST_LABELS } from '../support/docker.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

const FILE_LABEL = 'ohp-test.file=docker-services-api'
const LABELS = { ...TEST_LABELS, 'ohp-test.file': 'docker-services-api' }
const BASE_DOMAIN = 'svc-api.test'

let edge: TestEdge
let userToken: string

/** httpd itself: the service's init (PID 1, init: true by default) passes it SIGTERM, so a stop takes no 10 s. */
const COMMAND = HTTPD_COMMAND

/** A small httpd service; `extra` replaces fields. */
const spec = (name: string, extra: Record<string, unknown> = {}) => ({
  service_name: name,
  image: BUSYBOX_IMAGE,
  command: COMMAND,
  internal_port: HTTPD_PORT,
  memory_limit: '32m',
  labels: LABELS,
  ...extra,
})

const call = (method: string, path: string, options: { body?: unknown; token?: string | null } = {}) => {
  const token = options.token === undefined ? edge.adminToken : options.token
  return fetch(`${edge.server.apiUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
}
const errorOf = async (response: Response) => (await response.json()) as { error: string; error_description: string }
const containersOf = async (name: string) => (await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${name}`)).split('\n').filter(Boolean)

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  edge = await startTestEdge({ BASE_DOMAIN })
  userToken = await tokenWith(edge, ['user'])
  const created = await call('POST', '/services', { body: spec('api-web') })
  if (created.status !== 201) throw new Error(`creating api-web failed: ${created.status} ${await created.text()}`)
}, 120_000)

afterAll(async () => {
  for (const name of ['api-web', 'api-dup', 'api-taken', 'api-proxied']) await call('DELETE', `/services/${name}?force=true&delete_proxy=true`).catch(() => {})
  await edge?.stop()
  await removeTestContainers(FILE_LABEL)
}, 60_000)

/** Every endpoint, with a body its validation accepts: [method, path, scope, body]. */
const ENDPOINTS: [string, string, 'user' | 'admin', unknown?][] = [
  ['POST', '/services', 'admin', spec('api-never')],
  ['GET', '/services', 'user'],
  ['POST', '/services/cleanup', 'admin'],
  ['GET', '/services/unified', 'user'],
  ['GET', '/services/ports', 'user'],
  ['GET', '/services/ports/available', 'user'],
  ['POST', '/services/ports/check', 'user', { port: 20_000 }],
  ['GET', '/services/api-web', 'user'],
  ['PUT', '/services/api-web', 'admin', { image: BUSYBOX_IMAGE }],
  ['DELETE', '/services/api-web', 'admin'],
  ['POST', '/services/api-web/start', 'admin'],
  ['POST', '/services/api-web/stop', 'admin'],
  ['POST', '/services/api-web/restart', 'admin'],
  ['GET', '/services/api-web/logs', 'user'],
  ['GET', '/services/api-web/stats', 'user'],
  ['POST', '/services/api-web/proxy', 'admin', {}],
  ['GET', '/services/api-web/ports', 'user'],
  ['POST', '/services/api-web/ports', 'admin', { name: 'extra', container_port: 9000 }],
  ['PUT', '/services/api-web/ports/http', 'admin', { container_port: 8080 }],
  ['DELETE', '/services/api-web/ports/http', 'admin'],
]

describe('authentication and scope', () => {
  test('no token → 401 on every endpoint; a user token → 403 on every write, and is let through on every read', async () => {
    for (const [method, path, scope, body] of ENDPOINTS) {
      const anonymous = await call(method, path, { body, token: null })
      expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 })
      const asUser = await call(method, path, { body, token: userToken })
      if (scope === 'admin') {
        expect({ method, path, status: asUser.status }).toEqual({ method, path, status: 403 })
        expect((await errorOf(asUser)).error).toBe('insufficient_scope')
      } else {
        expect({ method, path, status: asUser.status }).toEqual({ method, path, status: 200 })
      }
    }
    // Nothing the refused calls asked for happened.
    expect(await containersOf('api-never')).toEqual([])
    expect(((await (await call('GET', '/services/api-web')).json()) as { status: string }).status).toBe('running')
  }, 60_000)
})

describe('fixed paths are not shadowed by /services/{name}', () => {
  test('external, ports, ports/available, unified and cleanup answer as themselves; those words are refused as names', async () => {
    await call('POST', '/services/external', { body: { service_name: 'api-ext', target_url: 'http://127.0.0.1:1' } })
    const external = await call('GET', '/services/external')
    expect(external.status).toBe(200)
    expect(((await external.json()) as { service_name: string }[]).map((service) => service.service_name)).toContain('api-ext')
    const ports = await call('GET', '/services/ports')
    expect(ports.status).toBe(200)
    const held = (await ports.json()) as { service_name: string; port_name: string; port: number }[]
    expect(held.find((port) => port.service_name === 'api-web')).toMatchObject({ port_name: 'http' })
    const available = await call('GET', '/services/ports/available?limit=3')
    expect(available.status).toBe(200)
    const free = (await available.json()) as number[]
    expect(free).toHaveLength(3)
    for (const port of free) expect(held.map((item) => item.port)).not.toContain(port)
    const unified = await call('GET', '/services/unified')
    expect(unified.status).toBe(200)
    expect(await unified.json()).toMatchObject({ by_type: { docker: expect.any(Number), external: expect.any(Number) } })
    // Cleanup touches only this deployment's containers (its store's), never another server's on the same engine.
    const cleanup = await call('POST', '/services/cleanup')
    expect(cleanup.status).toBe(200)
    expect(await cleanup.json()).toMatchObject({ containers_removed: [], services_missing: [], ports_released: [] })
    expect(((await (await call('GET', '/services/api-web')).json()) as { status: string }).status).toBe('running')
    for (const word of ['external', 'ports', 'unified', 'cleanup', 'proxy']) {
      const response = await call('POST', '/services', { body: spec(word) })
      expect(response.status).toBe(400)
      expect((await errorOf(response)).error_description).toStartWith('field service_name: is reserved')
    }
    await call('DELETE', '/services/external/api-ext')
  }, 30_000)

  test('/openapi.json documents every /services path and method', async () => {
    const document = (await (await fetch(`${edge.server.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    for (const [method, path] of ENDPOINTS) {
      const documented = path.replace('/api-web', '/{name}').replace('/ports/http', '/ports/{port_name}')
      expect({ path: documented, method, present: document.paths[documented]?.[method.toLowerCase()] !== undefined }).toEqual({ path: documented, method, present: true })
    }
  })

  test('/openapi.json describes what GET /services/{name} and GET /services answer: each field returned is documented, each required one returned', async () => {
    interface JsonSchema {
      properties?: Record<string, JsonSchema & { enum?: unknown[] }>
      required?: string[]
      items?: JsonSchema
    }
    const document = (await (await fetch(`${edge.server.apiUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> }>> }
    const schemaOf = (path: string, method: string) => document.paths[path]![method]!.responses['200']!.content!['application/json']!.schema
    const expectDescribed = (value: Record<string, unknown>, schema: JsonSchema) => {
      expect(Object.keys(value).filter((key) => !(key in schema.properties!))).toEqual([])
      expect(schema.required!.filter((key) => !(key in value))).toEqual([])
    }
    const service = (await (await call('GET', '/services/api-web')).json()) as Record<string, unknown>
    const one = schemaOf('/services/{name}', 'get')
    expectDescribed(service, one)
    expect(one.properties!.status!.enum).toContain(service.status)
    const list = (await (await call('GET', '/services')).json()) as { services: Record<string, unknown>[] }
    const listed = schemaOf('/services', 'get')
    expectDescribed(list, listed)
    expectDescribed(list.services.find((item) => item.service_name === 'api-web')!, listed.properties!.services!.items!)
  })
})

describe('bad input → 400 naming the field, and nothing is created', () => {
  test('POST /services', async () => {
    const cases: [unknown, string][] = [
      [{ image: BUSYBOX_IMAGE }, 'field service_name: is required'],
      [spec('Bad'), 'field service_name:'],
      [spec('api-bad', { dockerfile: 'FROM scratch' }), 'field image: give exactly one of image and dockerfile'],
      [spec('api-bad', { privileged: true }), 'field privileged: privileged containers are refused'],
      [spec('api-bad', { network_mode: 'host' }), 'field network_mode: only "bridge" or "none": the host network is refused'],
      [spec('api-bad', { devices: ['/dev/sda:/dev/sda'] }), 'field devices: device mappings are refused'],
      [spec('api-bad', { volumes: [{ source: '/etc', target: '/host-etc' }] }), 'field volumes'],
      [spec('api-bad', { capabilities: ['SYS_ADMIN'] }), 'field capabilities'],
      [spec('api-bad', { restart_policy: 'sometimes' }), 'field restart_policy:'],
      [spec('api-bad', { labels: { 'io.oauth-https-proxy.managed': 'false' } }), 'field labels:'],
      [spec('api-bad', { internal_port: undefined, port_configs: [{ name: 'http', container_port: 8080, bind_address: 'everywhere' }] }), 'field port_configs[0].bind_address:'],
      [spec('api-bad', { surprise: 1 }), 'field surprise: unknown field'],
      [spec('api-bad', { auto_proxy: true, proxy: { hostname: 'not a host' } }), 'field proxy.hostname:'],
      [spec('api-bad', { auto_proxy: true, proxy: { target_url: 'http://x.test' } }), 'field proxy.target_url: unknown field'],
      [spec('api-bad', { auto_proxy: false, proxy: { hostname: 'x.test' } }), 'field proxy: only with auto_proxy'],
      [spec('api_bad', { auto_proxy: true }), 'field proxy.hostname: is required: api_bad.svc-api.test is not a valid host name'],
    ]
    for (const [body, prefix] of cases) {
      const response = await call('POST', '/services', { body })
      expect({ body, status: response.status }).toEqual({ body, status: 400 })
      expect((await errorOf(response)).error_description).toStartWith(prefix)
    }
    const query = await call('POST', '/services?auto_proxy=maybe', { body: spec('api-bad') })
    expect(query.status).toBe(400)
    expect((await errorOf(query)).error_description).toStartWith('query parameter auto_proxy:')
    const hostnameAlone = await call('POST', '/services?auto_proxy=false&hostname=api-bad.test', { body: spec('api-bad') })
    expect(hostnameAlone.status).toBe(400)
    expect((await errorOf(hostnameAlone)).error_description).toStartWith('query parameter hostname: only with auto_proxy')
    const both = await call('POST', '/services?hostname=api-bad.test', { body: spec('api-bad', { proxy: { hostname: 'other.test' } }) })
    expect(both.status).toBe(400)
    expect((await errorOf(both)).error_description).toStartWith('query parameter hostname: give the proxy settings in the body or as query parameters, not both')
    expect(await containersOf('api-bad')).toEqual([])
    expect((await call('GET', '/services/api-bad')).status).toBe(404)
  }, 30_000)

  test('PUT, ports, logs and a bad name in the path', async () => {
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/services/api-web', { image: BUSYBOX_IMAGE, privileged: true }, 'field privileged:'],
      ['PUT', '/services/api-web', { image: BUSYBOX_IMAGE, service_name: 'renamed' }, 'field service_name: unknown field'],
      ['POST', '/services/api-web/ports', { name: 'Bad', container_port: 80 }, 'field name:'],
      ['POST', '/services/api-web/ports', { name: 'x', container_port: 70_000 }, 'field container_port:'],
      ['PUT', '/services/api-web/ports/http', { container_port: 80, name: 'other' }, 'field name: unknown field'],
      ['POST', '/services/ports/check', { port: 'twenty' }, 'field port:'],
      ['GET', '/services/api-web/logs?tail=-1', undefined, 'query parameter tail:'],
      ['GET', '/services/api-web/logs?since=yesterday', undefined, 'query parameter since:'],
      ['GET', '/services/api-web/logs?lines=10', undefined, 'query parameter lines: unknown query parameter'],
      ['GET', '/services/ports/available?limit=0', undefined, 'query parameter limit:'],
      ['GET', '/services/unified?service_type=internal', undefined, 'query parameter service_type:'],
      ['GET', '/services/Bad', undefined, 'path parameter name:'],
      ['DELETE', '/services/api-web?delete_proxy=yes', undefined, 'query parameter delete_proxy:'],
    ]
    for (const [method, path, body, prefix] of cases) {
      const response = await call(method, path, { body })
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 400 })
      expect((await errorOf(response)).error_description).toStartWith(prefix)
    }
  })
})

describe('unknown → 404', () => {
  test('every /services/{name} endpoint, and an unknown port of a service', async () => {
    for (const [method, path, , body] of ENDPOINTS.filter(([, path]) => path.includes('api-web'))) {
      const response = await call(method, path.replace('api-web', 'api-nobody'), { body })
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 })
      expect((await errorOf(response)).error_description).toMatch(/no Docker service named api-nobody/)
    }
    for (const method of ['PUT', 'DELETE']) {
      const response = await call(method, '/services/api-web/ports/nope', { body: method === 'PUT' ? { container_port: 80 } : undefined })
      expect(response.status).toBe(404)
      expect((await errorOf(response)).error_description).toBe('service api-web has no port named nope')
    }
  })
})

describe('conflicts → 409', () => {
  test('a taken name (Docker or external), a taken hostname, a port name or host port held, a service proxies and routes point at', async () => {
    const dup = await call('POST', '/services', { body: spec('api-web') })
    expect(dup.status).toBe(409)
    await call('POST', '/services/external', { body: { service_name: 'api-taken', target_url: 'http://127.0.0.1:1' } })
    const external = await call('POST', '/services', { body: spec('api-taken') })
    expect(external.status).toBe(409)
    expect(await containersOf('api-taken')).toEqual([])
    await call('DELETE', '/services/external/api-taken')

    const webPort = ((await (await call('GET', '/services/api-web/ports')).json()) as { name: string; host_port: number }[])[0]!
    expect(webPort.name).toBe('http')
    const samePortName = await call('POST', '/services/api-web/ports', { body: { name: 'http', container_port: 9000 } })
    expect(samePortName.status).toBe(409)
    const heldHostPort = await call('POST', '/services', { body: spec('api-dup', { internal_port: undefined, port_configs: [{ name: 'http', container_port: 8080, host_port: webPort.host_port }] }) })
    expect(heldHostPort.status).toBe(409)
    expect(await containersOf('api-dup')).toEqual([])

    await edge.createProxy(`taken.${BASE_DOMAIN}`, 'http://127.0.0.1:1')
    const taken = await call('POST', '/services?auto_proxy=true', { body: spec('taken') })
    expect(taken.status).toBe(409)
    expect((await errorOf(taken)).error_description).toBe(`taken.${BASE_DOMAIN} already has a proxy`)
    expect(await containersOf('taken')).toEqual([])

    const proxied = await call('POST', '/services/api-web/proxy', { body: { hostname: 'api-web.other.test' } })
    expect(proxied.status).toBe(201)
    const route = (await (await call('POST', '/routes', { body: { path_pattern: '/api-web/', target_type: 'service', target_value: 'api-web' } })).json()) as { route_id: string }
    const refused = await call('DELETE', '/services/api-web')
    expect(refused.status).toBe(409)
    expect((await errorOf(refused)).error_description).toBe(`service api-web is used by proxies api-web.other.test and routes ${route.route_id}; change them first, or delete with ?force=true (they then answer 502 until changed)`)
    const stillRefused = await call('DELETE', '/services/api-web?delete_proxy=true')
    expect(stillRefused.status).toBe(409)
    expect((await errorOf(stillRefused)).error_description).toStartWith(`service api-web is used by routes ${route.route_id};`)
    expect((await call('GET', '/proxy/targets/api-web.other.test')).status).toBe(200)
    await call('DELETE', `/routes/${route.route_id}`)
    await call('DELETE', '/proxy/targets/api-web.other.test')
    expect((await call('GET', '/services/api-web')).status).toBe(200)
  }, 60_000)
})

describe('ports and replacing the settings', () => {
  test('a port added, changed and removed (the container recreated each time); check says which host ports are free', async () => {
    const added = await call('POST', '/services/api-web/ports', { body: { name: 'admin', container_port: 9000, description: 'the admin page' } })
    expect(added.status).toBe(201)
    expect(added.headers.get('location')).toBe('/services/api-web/ports/admin')
    const port = (await added.json()) as { name: string; host_port: number; auto: boolean; bind_address: string }
    expect(port).toMatchObject({ name: 'admin', container_port: 9000, auto: true, bind_address: '127.0.0.1', protocol: 'tcp', description: 'the admin page' })
    const [container] = await containersOf('api-web')
    const bindings = JSON.parse(await docker('inspect', '--format', '{{json .HostConfig.PortBindings}}', container!)) as Record<string, { HostIp: string; HostPort: string }[]>
    expect(bindings['9000/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(port.host_port) }])

    const held = (await (await call('POST', '/services/ports/check', { body: { port: port.host_port } })).json()) as { available: boolean; reason: string | null }
    expect(held).toMatchObject({ port: port.host_port, bind_address: '127.0.0.1', available: false, reason: expect.any(String) })
    const free = ((await (await call('GET', '/services/ports/available?limit=1')).json()) as number[])[0]!
    expect(await (await call('POST', '/services/ports/check', { body: { port: free } })).json()).toMatchObject({ port: free, available: true, reason: null })

    const changed = await call('PUT', '/services/api-web/ports/admin', { body: { container_port: 9001, host_port: free } })
    expect(changed.status).toBe(200)
    expect(await changed.json()).toMatchObject({ name: 'admin', container_port: 9001, host_port: free, auto: false })
    expect(((await (await call('GET', '/services/api-web/ports')).json()) as { name: string }[]).map((item) => item.name)).toEqual(['http', 'admin'])

    expect((await call('DELETE', '/services/api-web/ports/admin')).status).toBe(204)
    expect(((await (await call('GET', '/services/api-web/ports')).json()) as { name: string }[]).map((item) => item.name)).toEqual(['http'])
    expect(((await (await call('GET', '/services/ports')).json()) as { port: number }[]).map((item) => item.port)).not.toContain(free)
  }, 60_000)

  test('PUT: the container is recreated with the new settings, on the host port given', async () => {
    const before = (await (await call('GET', '/services/api-web')).json()) as { ports: { host_port: number }[]; memory_limit: string }
    expect(before.memory_limit).toBe('32m')
    const replaced = await call('PUT', '/services/api-web', { body: { image: BUSYBOX_IMAGE, command: COMMAND, port_configs: [{ name: 'http', container_port: HTTPD_PORT, host_port: before.ports[0]!.host_port }], labels: LABELS, memory_limit: '40m' } })
    expect(replaced.status).toBe(200)
    const after = (await replaced.json()) as { container_id: string }
    expect(after).toMatchObject({ memory_limit: '40m', status: 'running', ports: [{ name: 'http', host_port: before.ports[0]!.host_port }] })
    expect(await docker('inspect', '--format', '{{.HostConfig.Memory}}', after.container_id)).toBe(String(40 * 1024 * 1024))
  }, 60_000)
})

describe('without an engine → 503, never 500', () => {
  test('DOCKER_SERVICES=false: every Docker endpoint answers 503 saying so; /services/unified still lists external services', async () => {
    const off = await startTestEdge({ DOCKER_SERVICES: 'false' })
    try {
      const get = await fetch(`${off.server.apiUrl}/services`, { headers: { authorization: `Bearer ${off.adminToken}` } })
      expect(get.status).toBe(503)
      expect((await errorOf(get)).error_description).toMatch(/DOCKER_SERVICES=false/)
      const create = await off.api('POST', '/services', spec('api-off'))
      expect(create.status).toBe(503)
      await off.api('POST', '/services/external', { service_name: 'still-here', target_url: 'http://127.0.0.1:1' })
      const unified = await off.api('GET', '/services/unified')
      expect(unified.status).toBe(200)
      expect(await unified.json()).toMatchObject({ total: 1, by_type: { docker: 0, external: 1 } })
    } finally {
      await off.stop()
    }
  })

  test('an engine that does not answer: 503 temporarily_unavailable with Retry-After', async () => {
    const gone = await startTestEdge({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' })
    try {
      const create = await gone.api('POST', '/services', spec('api-gone'))
      expect(create.status).toBe(503)
      expect(create.headers.get('retry-after')).not.toBeNull()
      expect(await errorOf(create)).toMatchObject({ error: 'temporarily_unavailable' })
      // The stored services are still listed; the engine's own containers cannot be.
      const list = await gone.api('GET', '/services')
      expect(list.status).toBe(200)
      expect(await list.json()).toMatchObject({ services: [], foreign: [], warnings: [expect.stringMatching(/^foreign containers are not listed: /)] })
    } finally {
      await gone.stop()
    }
  })
})
