/**
 * A real Caddy (Debian's, installed by scripts/test-services.sh) with `forward_auth` to /verify, as
 * the README's "Forward auth" configuration has it: Caddy sends X-Forwarded-Method and -Uri itself and
 * gives any answer but a 2xx to the client as it is, so the challenge (RFC 6750 §3) and redirect mode's
 * sign-in redirect with its cookie need no translation; on a 2xx the backend gets our X-Auth-*.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOGIN_COOKIE } from '../../src/auth/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import { issueAccessToken, type Scope } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { freePort, waitFor } from '../support/ports.ts'

const CADDY = Bun.which('caddy') ?? '/usr/bin/caddy'
const APP = 'app.example.com'
const WEB = 'web.example.com'

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>
let seen: { path: string; method: string; headers: Record<string, string> }[] = []
let caddy: { readonly port: number; stop(): Promise<void> }

beforeAll(async () => {
  edge = await startTestEdge({ FORWARD_AUTH_TRUSTED: '127.0.0.1' })
  backend = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const url = new URL(request.url)
      seen.push({ path: `${url.pathname}${url.search}`, method: request.method, headers: Object.fromEntries(request.headers) })
      return new Response('from the backend')
    },
  })
  await edge.createProxy(APP, 'http://127.0.0.1:9')
  expect((await edge.api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true, auth_excluded_paths: ['/public'] })).status).toBe(200)
  await edge.createProxy(WEB, 'http://127.0.0.1:9')
  expect((await edge.api('PUT', `/proxy/targets/${WEB}/auth`, { auth_enabled: true, auth_mode: 'redirect' })).status).toBe(200)
  caddy = await startCaddy(new URL(edge.server.apiUrl).port, backend.port!)
})
afterAll(async () => {
  await caddy?.stop()
  backend?.stop(true)
  await edge?.stop()
})

/** Caddy serves plain HTTP here, so it says X-Forwarded-Proto http: the resource is http://<host>. */
function tokenFor(scopes: Scope[]): Promise<string> {
  return issueAccessToken(edge.server.keyRing, systemClock, {
    // With API_PORT=0 the issuer is PUBLIC_URL's default, http://127.0.0.1:0 (as test/support/edge.ts mints).
    issuer: 'http://127.0.0.1:0',
    audience: `http://${APP}`,
    subject: 'github:1001',
    username: 'alice',
    email: 'alice@example.com',
    scopes,
    clientId: 'caddy-test',
    ttlSec: 600,
  })
}

function viaCaddy(host: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  seen = []
  return fetch(`http://127.0.0.1:${caddy.port}${path}`, { method: init.method ?? 'GET', headers: { ...init.headers, host, connection: 'close' }, redirect: 'manual', keepalive: false })
}

describe('Caddy forward_auth → /verify', () => {
  test('no token: our 401 and its challenge reach the client as they are', async () => {
    const response = await viaCaddy(APP, '/reports')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="http://${APP}/.well-known/oauth-protected-resource", scope="user"`)
    expect(seen).toEqual([])
  })

  test('a good token: the backend sees our identity, not the token, not the client\'s own X-Auth-*', async () => {
    const response = await viaCaddy(APP, '/reports?year=2026', { headers: { authorization: `Bearer ${await tokenFor(['user'])}`, 'x-auth-user': 'root', 'x-auth-scopes': 'admin' } })
    expect(response.status).toBe(200)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.path).toBe('/reports?year=2026')
    expect(seen[0]!.headers['x-auth-user']).toBe('alice')
    expect(seen[0]!.headers['x-auth-email']).toBe('alice@example.com')
    expect(seen[0]!.headers['x-auth-scopes']).toBe('user')
    expect(seen[0]!.headers.authorization).toBeUndefined()
  })

  test('the method Caddy forwards decides the scope: a POST with a read token is 403 insufficient_scope', async () => {
    const response = await viaCaddy(APP, '/reports', { method: 'POST', headers: { authorization: `Bearer ${await tokenFor(['user'])}` } })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(seen).toEqual([])
  })

  test("a client's X-Forwarded-Uri is replaced by Caddy's: it cannot move the check to an excluded path", async () => {
    const response = await viaCaddy(APP, '/reports', { headers: { 'x-forwarded-uri': '/public/x', 'x-forwarded-method': 'GET' } })
    expect(response.status).toBe(401)
    expect(seen).toEqual([])
  })

  test('an excluded path passes without a token, and a forged identity is taken off', async () => {
    const response = await viaCaddy(APP, '/public/logo.png', { headers: { 'x-auth-user': 'root' } })
    expect(response.status).toBe(200)
    // Caddy before 2.10 writes the placeholder text of a header the answer lacks; either way, never the client's.
    expect(seen[0]!.headers['x-auth-user'] ?? '').not.toContain('root')
  })

  test('redirect mode: the sign-in redirect and its login cookie reach the browser unchanged', async () => {
    const response = await viaCaddy(WEB, '/dashboard', { headers: { accept: 'text/html' } })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get('location')!)
    expect(location.searchParams.get('client_id')).toBe(`proxy:${WEB}`)
    expect(location.searchParams.get('redirect_uri')).toBe(`http://${WEB}/_oauth/callback`)
    expect(response.headers.get('set-cookie')).toStartWith(`${LOGIN_COOKIE}=`)
    expect(seen).toEqual([])
  })
})

/** Caddy as the README configures it (over plain HTTP, no admin endpoint, no automatic HTTPS). */
async function startCaddy(apiPort: string, backendPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-caddy-'))
  const port = await freePort()
  writeFileSync(
    join(dir, 'Caddyfile'),
    `{
	admin off
	auto_https off
	# Only errors on stderr, which the test reads only if Caddy exits: the pipe never fills.
	log {
		level ERROR
	}
}
http://:${port} {
	route {
		request_header -X-Auth-*
		forward_auth 127.0.0.1:${apiPort} {
			uri /verify
			copy_headers X-Auth-User X-Auth-User-Id X-Auth-Email X-Auth-Scopes X-Auth-Client-Id
		}
		reverse_proxy 127.0.0.1:${backendPort} {
			header_up -Authorization
		}
	}
}
`,
  )
  // Caddy keeps its state under HOME and XDG_*: this run's own directory.
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }
  const proc = Bun.spawn([CADDY, 'run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { stdout: 'ignore', stderr: 'pipe', env })
  const stop = async () => {
    proc.kill('SIGKILL')
    await proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`caddy exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`)
      const probe = await fetch(`http://127.0.0.1:${port}/`, { headers: { host: 'nobody.example.com', connection: 'close' }, keepalive: false }).catch(() => null)
      return probe !== null
    }, { what: 'caddy' })
  } catch (error) {
    await stop()
    throw error
  }
  return { port, stop }
}
