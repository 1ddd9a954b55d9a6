/**
 * A real nginx (Debian's, installed by scripts/test-services.sh) in front of a backend, asking /verify
 * with `auth_request` (original-behaviour §4.7) as the README's "Forward auth" configuration does: no
 * token → nginx answers 401 with our challenge (RFC 6750 §3), a good token → the backend sees
 * X-Auth-User, a missing scope → 403, and neither the token nor a client's own X-Auth-* reach the
 * backend. With redirect_status=401, redirects (sign in, HTTPS) come through nginx's error_page.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOGIN_COOKIE } from '../../src/auth/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import { issueAccessToken, type Scope } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { freePort, waitFor } from '../support/ports.ts'

const NGINX = Bun.which('nginx') ?? '/usr/sbin/nginx'
const APP = 'app.example.com'
const WEB = 'web.example.com'
const SECURE = 'secure.example.com'

interface Seen {
  readonly path: string
  readonly method: string
  readonly headers: Record<string, string>
}

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>
let seen: Seen[] = []
let nginx: { readonly httpsPort: number; readonly httpPort: number; stop(): Promise<void> }

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
  // /verify needs the proxies (and their auth settings); their target is nginx's business, not ours.
  await edge.createProxy(APP, 'http://127.0.0.1:9')
  expect((await edge.api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true, auth_excluded_paths: ['/public'] })).status).toBe(200)
  await edge.createProxy(WEB, 'http://127.0.0.1:9')
  expect((await edge.api('PUT', `/proxy/targets/${WEB}/auth`, { auth_enabled: true, auth_mode: 'redirect' })).status).toBe(200)
  await edge.createProxy(SECURE, 'http://127.0.0.1:9', { redirect_http_to_https: true })
  nginx = await startNginx(new URL(edge.server.apiUrl).port, backend.port!)
})
afterAll(async () => {
  await nginx?.stop()
  backend?.stop(true)
  await edge?.stop()
})

function tokenFor(audience: string, scopes: Scope[]): Promise<string> {
  return issueAccessToken(edge.server.keyRing, systemClock, {
    // With API_PORT=0 the issuer is PUBLIC_URL's default, http://127.0.0.1:0 (as test/support/edge.ts mints).
    issuer: 'http://127.0.0.1:0',
    audience,
    subject: 'github:1001',
    username: 'alice',
    scopes,
    clientId: 'nginx-test',
    ttlSec: 600,
  })
}

/** A request to nginx's TLS server for `host` (nginx then says X-Forwarded-Proto https, as in production). */
async function viaNginx(host: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  seen = []
  return fetch(`https://127.0.0.1:${nginx.httpsPort}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...init.headers, host, connection: 'close' },
    redirect: 'manual',
    keepalive: false,
    tls: { rejectUnauthorized: false, serverName: host },
  } as RequestInit)
}

describe('nginx auth_request → /verify', () => {
  test('no token: nginx answers 401 with our Bearer challenge, and the backend is never asked', async () => {
    const response = await viaNginx(APP, '/reports')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="https://${APP}/.well-known/oauth-protected-resource", scope="user"`)
    expect(seen).toEqual([])
  })

  test('a good token: the backend answers, and sees X-Auth-User, X-Auth-Scopes, not the token', async () => {
    const token = await tokenFor(`https://${APP}`, ['user'])
    const response = await viaNginx(APP, '/reports?year=2026', { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('from the backend')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.path).toBe('/reports?year=2026')
    expect(seen[0]!.headers['x-auth-user']).toBe('alice')
    expect(seen[0]!.headers['x-auth-scopes']).toBe('user')
    expect(seen[0]!.headers.authorization).toBeUndefined()
  })

  test('wrong scope: 403 (a token with mcp alone, for a read that needs user)', async () => {
    const response = await viaNginx(APP, '/reports', { headers: { authorization: `Bearer ${await tokenFor(`https://${APP}`, ['mcp'])}` } })
    expect(response.status).toBe(403)
    expect(seen).toEqual([])
  })

  test('the method nginx forwards decides the scope: a POST with a read token is 403, with admin it passes', async () => {
    const read = await viaNginx(APP, '/reports', { method: 'POST', headers: { authorization: `Bearer ${await tokenFor(`https://${APP}`, ['user'])}` } })
    expect(read.status).toBe(403)
    expect(seen).toEqual([])
    const write = await viaNginx(APP, '/reports', { method: 'POST', headers: { authorization: `Bearer ${await tokenFor(`https://${APP}`, ['admin'])}` } })
    expect(write.status).toBe(200)
    expect(seen[0]!.method).toBe('POST')
  })

  test('a token for another host is refused: 401 (RFC 8707, the audience is the origin nginx serves)', async () => {
    const response = await viaNginx(APP, '/reports', { headers: { authorization: `Bearer ${await tokenFor('https://other.example.com', ['admin'])}` } })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  test("a client's own X-Auth-User never reaches the backend: without a token 401, with one only ours", async () => {
    const forged = { 'x-auth-user': 'root', 'x-auth-scopes': 'admin' }
    expect((await viaNginx(APP, '/reports', { headers: forged })).status).toBe(401)
    expect(seen).toEqual([])
    const response = await viaNginx(APP, '/reports', { headers: { ...forged, authorization: `Bearer ${await tokenFor(`https://${APP}`, ['user'])}` } })
    expect(response.status).toBe(200)
    expect(seen[0]!.headers['x-auth-user']).toBe('alice')
    expect(seen[0]!.headers['x-auth-scopes']).toBe('user')
  })

  test('an excluded path passes without a token, and without identity (a forged one is removed)', async () => {
    const response = await viaNginx(APP, '/public/logo.png', { headers: { 'x-auth-user': 'root' } })
    expect(response.status).toBe(200)
    expect(seen[0]!.headers['x-auth-user']).toBeUndefined()
  })

  test("a client's X-Forwarded-Uri cannot move the check to an excluded path: /verify refuses the disagreement, nginx fails closed", async () => {
    const response = await viaNginx(APP, '/reports', { headers: { 'x-forwarded-uri': '/public/x' } })
    expect(response.status).toBe(500)
    expect(seen).toEqual([])
  })

  test('a host no proxy serves: /verify says 404, which nginx fails closed as 500', async () => {
    const response = await viaNginx('nobody.example.com', '/')
    expect(response.status).toBe(500)
    expect(seen).toEqual([])
  })

  test('redirect mode: a browser is sent to sign in (302 with the login cookie) through error_page', async () => {
    const response = await viaNginx(WEB, '/dashboard', { headers: { accept: 'text/html' } })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get('location')!)
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:0/authorize')
    expect(location.searchParams.get('client_id')).toBe(`proxy:${WEB}`)
    expect(location.searchParams.get('redirect_uri')).toBe(`https://${WEB}/_oauth/callback`)
    expect(location.searchParams.get('resource')).toBe(`https://${WEB}`)
    expect(response.headers.get('set-cookie')).toStartWith(`${LOGIN_COOKIE}=`)
    expect(seen).toEqual([])
    // Not a browser: the challenge, not a redirect.
    const api = await viaNginx(WEB, '/dashboard', { headers: { accept: 'application/json' } })
    expect(api.status).toBe(401)
    expect(api.headers.get('www-authenticate')).toStartWith('Bearer resource_metadata=')
    expect(api.headers.has('location')).toBe(false)
  })

  test('plain HTTP to a proxy that redirects to HTTPS: the redirect comes through error_page', async () => {
    seen = []
    const response = await fetch(`http://127.0.0.1:${nginx.httpPort}/page?x=1`, { headers: { host: SECURE, connection: 'close' }, redirect: 'manual', keepalive: false })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toMatch(new RegExp(`^https://${SECURE.replaceAll('.', '\\.')}(:\\d+)?/page\\?x=1$`))
    expect(seen).toEqual([])
  })
})

/**
 * nginx as the README configures it: auth_request to /verify?redirect_status=401 with the original
 * host, scheme, method and URI, the identity copied onto the request, the token removed, redirects sent
 * on by error_page. A TLS server (X-Forwarded-Proto https) and a plain one.
 */
async function startNginx(apiPort: string, backendPort: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-nginx-'))
  mkdirSync(join(dir, 'temp'))
  const openssl = Bun.spawn(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${APP}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdout: 'ignore', stderr: 'pipe' })
  if ((await openssl.exited) !== 0) throw new Error(`openssl failed: ${await new Response(openssl.stderr).text()}`)
  const httpsPort = await freePort()
  const httpPort = await freePort()
  const locations = `
    location / {
      auth_request /_verify;
      auth_request_set $auth_user $upstream_http_x_auth_user;
      auth_request_set $auth_scopes $upstream_http_x_auth_scopes;
      auth_request_set $verify_location $upstream_http_location;
      auth_request_set $verify_cookie $upstream_http_set_cookie;
      error_page 401 = @verify_401;
      proxy_set_header X-Auth-User $auth_user;
      proxy_set_header X-Auth-Scopes $auth_scopes;
      proxy_set_header Authorization "";
      proxy_pass http://127.0.0.1:${backendPort};
    }
    location = /_verify {
      internal;
      proxy_pass http://127.0.0.1:${apiPort}/verify?redirect_status=401;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
    }
    location @verify_401 {
      if ($verify_location) {
        add_header Set-Cookie $verify_cookie;
        return 302 $verify_location;
      }
      return 401;
    }`
  const config = `daemon off;
master_process off;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/temp/body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;
  server {
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};
    ${locations}
  }
  server {
    listen 127.0.0.1:${httpPort};
    ${locations}
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), config)
  const proc = Bun.spawn([NGINX, '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdout: 'ignore', stderr: 'pipe' })
  const stop = async () => {
    proc.kill('SIGKILL')
    await proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`)
      const probe = await fetch(`http://127.0.0.1:${httpPort}/`, { headers: { host: 'nobody.example.com', connection: 'close' }, keepalive: false }).catch(() => null)
      return probe !== null
    }, { what: 'nginx' })
  } catch (error) {
    await stop()
    throw error
  }
  return { httpsPort, httpPort, stop }
}
