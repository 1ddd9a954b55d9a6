/**
 * `token issue --resource`: a host-issued token for a protected proxy (machine clients, scripts, the
 * bench). RFC 8707 §2: one audience, so it opens that proxy and nothing else — not the API, not
 * another origin of the same proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { freePort, waitFor } from '../support/ports.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

let env: Record<string, string>
let server: ServedProcess
let httpPort: number
let backend: ReturnType<typeof Bun.serve>
let admin: string

async function issue(...args: string[]): Promise<string> {
  const result = await runCli(['token', 'issue', ...args], { env })
  if (result.code !== 0) throw new Error(`token issue ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return result.stdout.trim()
}

const through = (token: string | null, path = '/', host = `app.localhost:${httpPort}`) =>
  fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { host, ...(token === null ? {} : { authorization: `Bearer ${token}` }) } })

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response(`hello ${request.headers.get('x-auth-user')}`) })
  httpPort = await freePort()
  env = await serveEnv({ HTTP_PORT: String(httpPort) })
  server = await startServe({ env })
  admin = await issue('--user', 'root', '--scope', 'admin')
  const api = (method: string, path: string, body: unknown) =>
    fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  expect((await api('POST', '/proxy/targets', { proxy_hostname: 'app.localhost', target_url: `http://127.0.0.1:${backend.port}`, enable_https: false })).status).toBe(201)
  expect((await api('PUT', '/proxy/targets/app.localhost/auth', { auth_enabled: true })).status).toBe(200)
  await waitFor(async () => (await through(null)).status === 401, { what: 'the protected proxy' })
})
afterAll(async () => {
  await cleanupSpawned()
  backend.stop(true)
})

describe('token issue --resource', () => {
  test('opens the proxy it names, with the identity of the user it names', async () => {
    const token = await issue('--user', 'robot', '--scope', 'user', '--resource', `http://app.localhost:${httpPort}`)
    const response = await through(token)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('hello robot')
  })

  test('RFC 8707 §2: it is no token for the API, nor for the same proxy on another origin (RFC 6750 §3.1 invalid_token)', async () => {
    const token = await issue('--user', 'robot', '--scope', 'admin', '--resource', `http://app.localhost:${httpPort}`)
    expect((await fetch(`${server.url}/system/info`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401)
    const elsewhere = await through(token, '/', 'app.localhost:1')
    expect(elsewhere.status).toBe(401)
    expect(elsewhere.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  test('the scope still counts: a user token cannot write (403 insufficient_scope)', async () => {
    const token = await issue('--user', 'robot', '--scope', 'user', '--resource', `http://app.localhost:${httpPort}`)
    const response = await fetch(`http://127.0.0.1:${httpPort}/`, { method: 'POST', headers: { host: `app.localhost:${httpPort}`, authorization: `Bearer ${token}` } })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
  })

  test('a resource that is not an http(s) origin is a usage error naming --resource', async () => {
    for (const bad of ['ftp://app.example.com', 'app.example.com', 'https://app.example.com/?q=1', 'https://u:p@app.example.com']) {
      const result = await runCli(['token', 'issue', '--user', 'robot', '--resource', bad], { env })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain('--resource')
    }
  })
})
