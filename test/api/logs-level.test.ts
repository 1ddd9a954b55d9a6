/**
 * Log levels at run time: GET/PUT/POST /logs/level and DELETE /logs/level/{component}, admin only;
 * a change applies to the next line a component logs, without a restart, and is announced so every
 * node applies it. Checked on a whole server (its own components' loggers) and on the route alone.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { applyLogLevelChange, logLevelRoutes } from '../../src/api/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createLogLevels, systemClock, type LogLevel } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import { startServer, type RunningServer } from '../../src/server.ts'
import { bearer, createTestApi } from '../support/api.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'

describe('the route', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>
  let admin: string
  const levels = createLogLevels('info')
  const lines: { component?: string; level: string; msg: string }[] = []
  const root = createLogger(levels, (line) => void lines.push(JSON.parse(line)))
  const oauth = root.child('oauth')
  root.child('edge')
  // Another node: the same announcements reach its own table.
  const otherNode = createLogLevels('info')
  const bus = createMemoryBus(createLogger('silent'))
  bus.subscribe((event) => (event.type === 'log_level_changed' ? applyLogLevelChange(otherNode, event.component, event.level) : undefined))
  const announced: [string | null, LogLevel | null][] = []

  beforeAll(async () => {
    api = await createTestApi({
      extraRoutes: logLevelRoutes({
        levels,
        nodeId: 'node-a',
        announce: async (component, level) => {
          announced.push([component, level])
          await bus.publish({ type: 'log_level_changed', component, level })
        },
      }),
    })
    admin = await api.issue(['admin'])
  })
  afterAll(() => api.close())

  const send = (method: string, path: string, body?: unknown, token: string | null = admin) =>
    api.app.request(path, { method, headers: { ...(token === null ? {} : bearer(token)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })

  test('GET: the default and every component a logger was made for', async () => {
    const response = await send('GET', '/logs/level')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      node: 'node-a',
      default: 'info',
      components: [
        { name: 'edge', level: 'info', own: false },
        { name: 'oauth', level: 'info', own: false },
      ],
    })
  })

  test('PUT a component: its next lines obey, others do not move; announced to the other nodes; DELETE puts it back', async () => {
    oauth.debug('before')
    const put = await send('PUT', '/logs/level', { component: 'oauth', level: 'debug' })
    expect(put.status).toBe(200)
    expect(((await put.json()) as { components: unknown[] }).components).toContainEqual({ name: 'oauth', level: 'debug', own: true })
    oauth.debug('after')
    root.child('edge').debug('edge stays at info')
    expect(lines.filter((line) => line.level === 'debug').map((line) => [line.component, line.msg])).toEqual([['oauth', 'after']])
    expect(otherNode.levelOf('oauth')).toBe('debug')

    const deleted = await send('DELETE', '/logs/level/oauth')
    expect(deleted.status).toBe(200)
    expect(((await deleted.json()) as { components: unknown[] }).components).toContainEqual({ name: 'oauth', level: 'info', own: false })
    oauth.debug('gone again')
    expect(lines.some((line) => line.msg === 'gone again')).toBe(false)
    expect(otherNode.levelOf('oauth')).toBe('info')
  })

  test('PUT without a component changes the default, which every component without its own follows; POST does the same', async () => {
    expect((await send('PUT', '/logs/level', { component: 'edge', level: 'error' })).status).toBe(200)
    expect((await send('POST', '/logs/level', { level: 'warn' })).status).toBe(200)
    const table = (await (await send('GET', '/logs/level')).json()) as { default: string; components: { name: string; level: string; own: boolean }[] }
    expect(table.default).toBe('warn')
    expect(table.components).toEqual([
      { name: 'edge', level: 'error', own: true },
      { name: 'oauth', level: 'warn', own: false },
    ])
    root.info('root follows the default')
    expect(lines.some((line) => line.msg === 'root follows the default')).toBe(false)
    expect(otherNode.defaultLevel).toBe('warn')
    expect(announced).toContainEqual([null, 'warn'])
    await send('PUT', '/logs/level', { level: 'info' })
    await send('DELETE', '/logs/level/edge')
  })

  test('400 naming the field for a bad level or component; 404 for a component this node has no logger for', async () => {
    for (const [body, field] of [
      [{ level: 'verbose' }, 'field level'],
      [{}, 'field level'],
      [{ level: 'debug', component: 'Bad Name' }, 'field component'],
    ] as const) {
      const response = await send('PUT', '/logs/level', body)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error_description: string }).error_description).toStartWith(`${field}:`)
    }
    const unknown = await send('PUT', '/logs/level', { component: 'nope', level: 'debug' })
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error_description: string }).error_description).toContain('known: edge, oauth')
    expect((await send('DELETE', '/logs/level/nope')).status).toBe(404)
    expect((await send('DELETE', '/logs/level/BAD')).status).toBe(400)
  })

  test('RFC 6750 §3.1: 401 without a token, 403 without the admin scope', async () => {
    const user = await api.issue(['user'])
    for (const [method, path, body] of [
      ['GET', '/logs/level', undefined],
      ['PUT', '/logs/level', { level: 'debug' }],
      ['POST', '/logs/level', { level: 'debug' }],
      ['DELETE', '/logs/level/oauth', undefined],
    ] as const) {
      expect((await send(method, path, body, null)).status).toBe(401)
      expect((await send(method, path, body, user)).status).toBe(403)
    }
    expect(levels.defaultLevel).toBe('info')
  })
})

describe('a whole server', () => {
  let server: RunningServer
  let admin: string
  const lines: { component?: string; msg: string }[] = []

  beforeAll(async () => {
    const config = loadConfig({ DATA_DIR: ':memory:', API_PORT: '0', HTTP_PORT: '0', HTTPS_PORT: '0', LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'warn', ...isolatedPortRanges() })
    server = await startServer(config, { logger: createLogger(config.logLevel, (line) => void lines.push(JSON.parse(line))) })
    admin = await issueAccessToken(server.keyRing, systemClock, { issuer: config.publicUrl, audience: apiResource(config), subject: 'local:admin', username: 'admin', scopes: ['admin'], clientId: 'test', ttlSec: 600 })
  })
  afterAll(() => server.stop())

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  /** An info line of the authorization server: a client that does not exist tries the token endpoint. */
  async function failClientAuthentication() {
    const before = lines.length
    const response = await fetch(`${server.apiUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x&client_id=nobody' })
    expect(response.status).toBe(401)
    return lines.slice(before).filter((line) => line.msg === 'client authentication failed')
  }

  test("its modules log as components; raising one's level at run time shows its info lines, DELETE hides them again", async () => {
    const table = (await (await api('GET', '/logs/level')).json()) as { default: string; components: { name: string }[] }
    expect(table.default).toBe('warn')
    expect(table.components.map((component) => component.name)).toEqual(expect.arrayContaining(['api', 'auth', 'certs', 'edge', 'events', 'logs', 'oauth']))

    expect(await failClientAuthentication()).toEqual([])
    expect((await api('PUT', '/logs/level', { component: 'oauth', level: 'info' })).status).toBe(200)
    expect(await failClientAuthentication()).toEqual([expect.objectContaining({ component: 'oauth' })])
    expect((await api('DELETE', '/logs/level/oauth')).status).toBe(200)
    expect(await failClientAuthentication()).toEqual([])
  })
})
