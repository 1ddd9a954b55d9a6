/**
 * Forged identity never reaches a backend (original-behaviour §12.1: the original forwarded a client's
 * X-Auth-User/X-Auth-Scopes, which gave anyone admin on the API; Caddy GHSA-7r4p-vjf4-gxv4, oauth2-proxy
 * #624). A client sends every identity field we or common servers read — in odd case and with "_" for
 * "-", which WSGI and PHP fold into the same variable — on every path: authenticated (ours replace
 * them), anonymous on a passthrough proxy, an excluded path, answers the backend never sees, a proxy
 * with auth off, the hand-over server, a WebSocket upgrade, TLS, and a chunked body's trailers. The
 * client's Authorization (RS-08) and the edge's own session cookies are credentials for the edge, not
 * for the backend.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openClient, readReplies, startRawBackend, type RawBackend, type RawReply, type RawRequest } from '../fixtures/raw-backends.ts'
import { edgeTokens, type TokenMinter } from '../support/auth-tokens.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'

/** What a client forges: the names as it spells them. */
const FORGED: readonly (readonly [string, string])[] = [
  ['X-Auth-User', 'mallory'],
  ['x_auth_user', 'mallory'],
  ['X-AUTH-SCOPES', 'admin'],
  ['X-Auth-User-Id', 'forged-666'],
  ['X-Auth-Email', 'mallory@evil.example'],
  ['X-Auth-Client-Id', 'forged-client'],
  ['Remote-User', 'mallory'],
  ['Remote_User', 'mallory'],
  ['X-Forwarded-User', 'mallory'],
  ['X-Forwarded-Email', 'mallory@evil.example'],
  ['X-Auth-Request-User', 'mallory'],
]
const FORGED_LINES = FORGED.map(([name, value]) => `${name}: ${value}\r\n`).join('')
/** Every name a backend might read as identity, compared lower-case with "_" as "-". */
const IDENTITY_NAMES = new Set(FORGED.map(([name]) => fold(name)))
const FORGED_VALUES = ['mallory', 'forged-666', 'forged-client']

const OURS_FOR = (scopes: string) => [
  ['x-auth-user', 'alice'],
  ['x-auth-user-id', 'local:alice'],
  ['x-auth-email', 'alice@example.com'],
  ['x-auth-scopes', scopes],
  ['x-auth-client-id', 'auth-e2e'],
]

function fold(name: string): string {
  return name.trim().toLowerCase().replaceAll('_', '-')
}

/** The identity fields a backend received, folded and sorted: what it would read as "who is this". */
function identityAt(fields: readonly (readonly [string, string])[]): string[][] {
  return fields
    .filter(([name]) => IDENTITY_NAMES.has(fold(name)) || fold(name).startsWith('x-auth-') || fold(name).startsWith('remote-'))
    .map(([name, value]) => [fold(name), value])
    .sort((a, b) => a[0]!.localeCompare(b[0]!))
}
const sorted = (fields: string[][]) => [...fields].sort((a, b) => a[0]!.localeCompare(b[0]!))

let edge: TestEdge
let tokens: TokenMinter
let backend: RawBackend
let wsBackend: ReturnType<typeof Bun.serve>
/** The upgrade requests the WebSocket backend accepted, headers as its runtime gives them. */
const upgrades: [string, string][][] = []

const APP = 'app.test'
const PASS = 'pass.test'
const OFF = 'off.test'
const KEEP = 'keep.test'
const WS = 'ws.test'

const originOf = (scheme: Scheme, host: string) => `${scheme}://${host}`
const tokenLine = async (scheme: Scheme, host: string, scopes: ('admin' | 'user' | 'mcp')[] = ['user']) => `Authorization: Bearer ${await tokens.valid(originOf(scheme, host), { scopes })}\r\n`

async function ok(response: Promise<Response>, status = 200): Promise<void> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
}

beforeAll(async () => {
  edge = await startTestEdge()
  tokens = edgeTokens(edge)
  backend = startRawBackend({ answer: () => 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok' })
  wsBackend = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request, server) {
      upgrades.push([...request.headers])
      return server.upgrade(request, { data: undefined }) ? undefined : new Response('websocket only', { status: 426 })
    },
    websocket: { message: (ws, message) => void ws.send(message) },
  })
  for (const host of [APP, PASS, OFF, KEEP]) await edge.createProxy(host, backend.url)
  await edge.createProxy(WS, `http://127.0.0.1:${wsBackend.port}`)
  await ok(edge.api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true, auth_excluded_paths: ['/public'] }))
  await ok(edge.api('PUT', `/proxy/targets/${PASS}/auth`, { auth_enabled: true, auth_mode: 'passthrough' }))
  await ok(edge.api('PUT', `/proxy/targets/${KEEP}/auth`, { auth_enabled: true, auth_pass_authorization: true }))
  await ok(edge.api('PUT', `/proxy/targets/${WS}/auth`, { auth_enabled: true }))
  await edge.server.edge.reconcile()
})
afterAll(async () => {
  await edge.stop()
  backend.stop()
  wsBackend.stop(true)
})

type Path = 'relay' | 'hand-over'

/**
 * One request on a connection of its own: HTTP/1.1 with Connection: close on the relay; HTTP/1.0,
 * which the relay hands over, for the hand-over server. `lines` are the request's own fields.
 */
async function send(scheme: Scheme, host: string, path: Path, method: string, target: string, lines: string, body = ''): Promise<{ reply: RawReply; arrived: RawRequest | null }> {
  const before = backend.requests.length
  const client = await openClient(edge, scheme, host)
  try {
    const version = path === 'relay' ? '1.1' : '1.0'
    const length = body === '' && method !== 'POST' ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`
    client.write(`${method} ${target} HTTP/${version}\r\nHost: ${host}\r\n${lines}${length}Connection: close\r\n\r\n${body}`)
    await client.until((_, isClosed) => isClosed, 'the answer and the close')
    const [reply] = readReplies(client.received(), [method], true)
    const arrived = backend.requests.length > before ? backend.requests.at(-1)! : null
    expect(backend.requests.length - before).toBeLessThanOrEqual(1)
    return { reply: reply!, arrived }
  } finally {
    client.close()
  }
}

const SCHEMES: readonly Scheme[] = ['http', 'https']
const PATHS: readonly Path[] = ['relay', 'hand-over']

describe('forged identity headers never reach the backend as sent', () => {
  for (const scheme of SCHEMES) {
    for (const path of PATHS) {
      test(`${scheme}, ${path}: authenticated — ours replace every forged one (one value each, none of the client's)`, async () => {
        const { reply, arrived } = await send(scheme, APP, path, 'GET', '/x', `${FORGED_LINES}${await tokenLine(scheme, APP)}`)
        expect(reply.status).toBe(200)
        expect(identityAt(arrived!.fields)).toEqual(sorted(OURS_FOR('user')))
      })

      test(`${scheme}, ${path}: anonymous on a passthrough proxy — none at all`, async () => {
        const { reply, arrived } = await send(scheme, PASS, path, 'GET', '/x', FORGED_LINES)
        expect(reply.status).toBe(200)
        expect(identityAt(arrived!.fields)).toEqual([])
      })

      test(`${scheme}, ${path}: a passthrough proxy with a bad token — none at all`, async () => {
        const { reply, arrived } = await send(scheme, PASS, path, 'GET', '/x', `${FORGED_LINES}Authorization: Bearer abc.def.ghi\r\n`)
        expect(reply.status).toBe(200)
        expect(identityAt(arrived!.fields)).toEqual([])
        expect(arrived!.fields.some(([name]) => fold(name) === 'authorization')).toBe(false)
      })

      test(`${scheme}, ${path}: an excluded path — none at all, with or without a token`, async () => {
        for (const token of ['', await tokenLine(scheme, APP)]) {
          const { reply, arrived } = await send(scheme, APP, path, 'GET', '/public/page', `${FORGED_LINES}${token}`)
          expect(reply.status).toBe(200)
          expect(identityAt(arrived!.fields)).toEqual([])
        }
      })

      test(`${scheme}, ${path}: a proxy with auth off — none at all (original §12.1: Host: localhost with X-Auth-Scopes: admin)`, async () => {
        const { reply, arrived } = await send(scheme, OFF, path, 'GET', '/x', FORGED_LINES)
        expect(reply.status).toBe(200)
        expect(identityAt(arrived!.fields)).toEqual([])
      })

      test(`${scheme}, ${path}: refused requests (no token, bad token, insufficient scope, foreign Origin) never reach the backend`, async () => {
        const cases: [string, string, string, number][] = [
          ['no token', 'GET', FORGED_LINES, 401],
          ['a bad token', 'GET', `${FORGED_LINES}Authorization: Bearer abc.def.ghi\r\n`, 401],
          ['insufficient scope', 'POST', `${FORGED_LINES}${await tokenLine(scheme, APP)}`, 403],
          ['a foreign Origin', 'GET', `${FORGED_LINES}${await tokenLine(scheme, APP)}Origin: https://evil.example\r\n`, 403],
        ]
        for (const [what, method, lines, status] of cases) {
          const { reply, arrived } = await send(scheme, APP, path, method, '/x', lines)
          expect({ what, status: reply.status, reached: arrived !== null }).toEqual({ what, status, reached: false })
        }
      })

      test(`${scheme}, ${path}: RS-08 — the client's Authorization is not forwarded by default`, async () => {
        const { reply, arrived } = await send(scheme, APP, path, 'GET', '/x', await tokenLine(scheme, APP))
        expect(reply.status).toBe(200)
        expect(arrived!.fields.filter(([name]) => fold(name) === 'authorization')).toEqual([])
      })

      test(`${scheme}, ${path}: auth_pass_authorization true forwards the Authorization as sent, and still sets only our identity`, async () => {
        const line = await tokenLine(scheme, KEEP)
        const { reply, arrived } = await send(scheme, KEEP, path, 'GET', '/x', `${FORGED_LINES}${line}`)
        expect(reply.status).toBe(200)
        expect(arrived!.fields.filter(([name]) => fold(name) === 'authorization').map(([, value]) => value)).toEqual([line.slice('Authorization: '.length, -2)])
        expect(identityAt(arrived!.fields)).toEqual(sorted(OURS_FOR('user')))
      })

      test(`${scheme}, ${path}: the edge's own cookies are not forwarded by a proxy whose auth is off either (the names are reserved on every proxy; it may have had redirect mode on)`, async () => {
        const { reply, arrived } = await send(scheme, OFF, path, 'GET', '/x', 'Cookie: theme=dark; __Host-ohp-session=s3ss10n-s3cr3t; __Host-ohp-login=l0g1n-s3cr3t\r\n')
        expect(reply.status).toBe(200)
        expect(arrived!.fields.filter(([name]) => fold(name) === 'cookie').map(([, value]) => value).join('; ')).toBe('theme=dark')
      })

      test(`${scheme}, ${path}: the edge's own cookies (__Host-ohp-session, __Host-ohp-login) are not forwarded; the backend's own cookies are`, async () => {
        const cookie = 'Cookie: theme=dark; __Host-ohp-session=s3ss10n-s3cr3t; __Host-ohp-login=l0g1n-s3cr3t; lang=en\r\n'
        for (const [host, token] of [
          [APP, await tokenLine(scheme, APP)],
          [APP, ''],
          [PASS, ''],
        ] as const) {
          const target = host === APP && token === '' ? '/public/page' : '/x'
          const { reply, arrived } = await send(scheme, host, path, 'GET', target, `${cookie}${token}`)
          expect(reply.status).toBe(200)
          const cookies = arrived!.fields.filter(([name]) => fold(name) === 'cookie').map(([, value]) => value).join('; ')
          expect({ host, target, cookies }).toEqual({ host, target, cookies: 'theme=dark; lang=en' })
        }
      })
    }
  }

  test('RFC 9110 §6.5.1: identity fields in a chunked request\'s trailer section do not reach the backend (relay)', async () => {
    const before = backend.requests.length
    // A write needs admin (the scope rule).
    const token = await tokenLine('http', APP, ['admin'])
    const client = await openClient(edge, 'http', APP)
    try {
      client.write(`POST /upload HTTP/1.1\r\nHost: ${APP}\r\n${token}Transfer-Encoding: chunked\r\nTrailer: X-Auth-User, X-Auth-Scopes\r\nConnection: close\r\n\r\n4\r\nbody\r\n0\r\nX-Auth-User: mallory\r\nX-Auth-Scopes: admin\r\nx_auth_user: mallory\r\n\r\n`)
      await client.until((_, isClosed) => isClosed, 'the answer')
      expect(readReplies(client.received(), ['POST'], true)[0]!.status).toBe(200)
    } finally {
      client.close()
    }
    expect(backend.requests.length).toBe(before + 1)
    expect(Buffer.from(backend.requests.at(-1)!.body).toString()).toBe('body')
    // Every byte the backend ever received (it never saw a forged value on any test of this file).
    const bytes = backend.rawBytes()
    for (const value of FORGED_VALUES) expect(bytes).not.toContain(value)
    expect(bytes).toContain('4\r\nbody\r\n0\r\n\r\n')
  })
})

describe('WebSocket upgrades through a protected proxy (RFC 6455 §4.1)', () => {
  const upgradeRequest = (lines: string) =>
    `GET /socket HTTP/1.1\r\nHost: ${WS}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${lines}\r\n`

  async function upgrade(scheme: Scheme, lines: string): Promise<{ status: number; head: string }> {
    const client = await openClient(edge, scheme, WS)
    try {
      client.write(upgradeRequest(lines))
      const head = await client.until((bytes) => {
        const text = Buffer.from(bytes).toString('latin1')
        const end = text.indexOf('\r\n\r\n')
        return end !== -1 && text.slice(0, end)
      }, 'the upgrade answer')
      return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head }
    } finally {
      client.close()
    }
  }

  for (const scheme of SCHEMES) {
    test(`${scheme}: the upgrade itself needs a token — without one (or with a bad one) → 401 and the backend sees no upgrade`, async () => {
      const before = upgrades.length
      for (const lines of [FORGED_LINES, `${FORGED_LINES}Authorization: Bearer abc.def.ghi\r\n`]) {
        const { status, head } = await upgrade(scheme, lines)
        expect(status).toBe(401)
        expect(head.toLowerCase()).toContain('www-authenticate: bearer ')
      }
      expect(upgrades.length).toBe(before)
    })

    test(`${scheme}: with a token the upgrade succeeds; the backend's upgrade request carries our identity only, no Authorization`, async () => {
      const before = upgrades.length
      const { status } = await upgrade(scheme, `${FORGED_LINES}${await tokenLine(scheme, WS)}`)
      expect(status).toBe(101)
      expect(upgrades.length).toBe(before + 1)
      const fields = upgrades.at(-1)!
      expect(identityAt(fields)).toEqual(sorted(OURS_FOR('user')))
      expect(fields.filter(([name]) => name === 'authorization')).toEqual([])
    })
  }
})
