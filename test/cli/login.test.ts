/**
 * The device flow as the CLI runs it (RFC 8628 §3.4–§3.5), against a scripted authorization server on
 * loopback: interval and slow_down honoured (waits recorded, never slept), expired_token and
 * access_denied end with exit 3, the CLI's first-party client and never a registration (a server that
 * does not know that client gets a clear message), invalid_target falls back to the server's own
 * resource, RFC 8414 §3.3 issuer check.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CliError, createCredentialStore, type CredentialStore, type Progress } from '../../src/cli/client/index.ts'
import { login } from '../../src/cli/login.ts'

interface Script {
  /** Answers to successive polls of /token, as [status, body]. */
  polls: [number, Record<string, unknown>][]
  interval?: number
  issuer?: string
  refuseResource?: boolean
  /** The server predates the CLI's own client: device/code answers invalid_client for it. */
  unknownCliClient?: boolean
}
let script: Script
const seen: { path: string; form: Record<string, string> }[] = []
const CLI_CLIENT_ID = 'oauth-https-proxy-cli'
let as: ReturnType<typeof Bun.serve>
let url: string

const jwt = (claims: Record<string, unknown>) => `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

beforeAll(() => {
  as = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname
      const text = await request.text()
      const form = Object.fromEntries(new URLSearchParams(text))
      seen.push({ path, form })
      if (path === '/.well-known/oauth-authorization-server') {
        return Response.json({ issuer: script.issuer ?? url, token_endpoint: `${url}/token`, device_authorization_endpoint: `${url}/device/code`, registration_endpoint: `${url}/register`, revocation_endpoint: `${url}/revoke` })
      }
      if (path === '/device/code') {
        if (script.unknownCliClient || form.client_id !== CLI_CLIENT_ID) return Response.json({ error: 'invalid_client', error_description: 'unknown client' }, { status: 401 })
        if (script.refuseResource && form.resource !== undefined) return Response.json({ error: 'invalid_target', error_description: 'not ours' }, { status: 400 })
        return Response.json({ device_code: 'dev-code', user_code: 'ABCD-EFGH', verification_uri: 'https://github.example/login/device', expires_in: 60, ...(script.interval === undefined ? {} : { interval: script.interval }) })
      }
      if (path === '/token') {
        const [status, body] = script.polls.shift() ?? [400, { error: 'authorization_pending' }]
        return Response.json(body, { status })
      }
      return new Response('no', { status: 404 })
    },
  })
  url = `http://127.0.0.1:${as.port}`
})
afterAll(() => as.stop(true))

let home: string
let store: CredentialStore
let waits: number[]
let said: string[]
let now: number

function deps() {
  const progress: Progress = {
    say: (line) => void said.push(line),
    wait: async (ms) => {
      waits.push(ms)
      now += ms
    },
    during: (_label, work) => work(),
  }
  return { env: {}, credentials: store, nowMs: () => now, progress }
}

function reset(next: Script) {
  script = next
  seen.length = 0
  waits = []
  said = []
  now = 1_700_000_000_000
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ohp-login-'))
  store = createCredentialStore({ XDG_CONFIG_HOME: home })
})
afterEach(() => store.set(url, null))
afterAll(() => rmSync(home, { recursive: true, force: true }))

const approved: [number, Record<string, unknown>] = [200, { access_token: jwt({ username: 'alice', scope: 'admin' }), token_type: 'Bearer', expires_in: 900, refresh_token: 'r1', scope: 'admin' }]

async function failure(work: Promise<unknown>): Promise<CliError> {
  try {
    await work
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    return error as CliError
  }
  throw new Error('expected a CliError')
}

describe('login', () => {
  test('RFC 8628 §3.5: waits the interval between polls, 5 s more after each slow_down; stores the tokens', async () => {
    reset({ interval: 2, polls: [[400, { error: 'authorization_pending' }], [400, { error: 'slow_down' }], [400, { error: 'authorization_pending' }], approved] })
    await login({ url }, deps())
    expect(waits).toEqual([2000, 2000, 7000, 7000])
    expect(said[0]).toBe('! First copy your one-time code: ABCD-EFGH')
    expect(said.at(-1)).toBe(`✓ Signed in to ${url} as alice (scopes: admin)`)
    expect(said.join('\n')).not.toContain('r1')
    const entry = store.get(url)!
    expect(entry).toMatchObject({ issuer: url, client_id: CLI_CLIENT_ID, token_endpoint: `${url}/token`, revocation_endpoint: `${url}/revoke`, resource: url })
    expect(entry.tokens).toMatchObject({ refresh_token: 'r1', scope: 'admin', expires_at_ms: now + 900_000 })
    const device = seen.find((s) => s.path === '/device/code')!.form
    expect(device).toEqual({ client_id: CLI_CLIENT_ID, scope: 'admin user', resource: url })
    expect(seen.filter((s) => s.path === '/token').every((s) => s.form.grant_type === 'urn:ietf:params:oauth:grant-type:device_code' && s.form.device_code === 'dev-code')).toBe(true)
  })

  test('no interval in the answer: 5 seconds (RFC 8628 §3.2)', async () => {
    reset({ polls: [approved] })
    await login({ url, scope: 'user' }, deps())
    expect(waits).toEqual([5000])
    expect(seen.find((s) => s.path === '/device/code')!.form.scope).toBe('user')
  })

  test('the CLI signs in as its own first-party client: nothing is registered (RFC 7591), whatever the metadata offers', async () => {
    reset({ polls: [approved] })
    await login({ url }, deps())
    reset({ polls: [approved] })
    await login({ url }, deps())
    expect(seen.map((s) => s.path)).not.toContain('/register')
    expect(seen.filter((s) => s.path === '/device/code').map((s) => s.form.client_id)).toEqual([CLI_CLIENT_ID])
    expect(store.get(url)!.client_id).toBe(CLI_CLIENT_ID)
  })

  test('a server that does not know the CLI\'s client (older than the CLI): one clear line, nothing stored, nothing registered', async () => {
    reset({ polls: [approved], unknownCliClient: true })
    const error = await failure(login({ url }, deps()))
    expect(error.message).toBe(`${url} does not know the CLI's client (${CLI_CLIENT_ID}): it is older than this CLI; upgrade it, or use a token from \`oauth-https-proxy token issue\` on its host`)
    expect(seen.map((s) => s.path)).toEqual(['/.well-known/oauth-authorization-server', '/device/code'])
    expect(store.get(url)).toBeNull()
  })

  test('RFC 8707: the server URL is not the API\'s resource (invalid_target): asked again without one', async () => {
    reset({ polls: [approved], refuseResource: true })
    await login({ url }, deps())
    const starts = seen.filter((s) => s.path === '/device/code').map((s) => s.form.resource)
    expect(starts).toEqual([url, undefined])
    expect(store.get(url)!.resource).toBeUndefined()
  })

  test('expired_token: exit 3, nothing stored', async () => {
    reset({ polls: [[400, { error: 'expired_token' }]] })
    const error = await failure(login({ url }, deps()))
    expect(error.exitCode).toBe(3)
    expect(error.message).toBe('the code expired before it was approved; run login again')
    expect(store.get(url)?.tokens).toBeUndefined()
  })

  test('the code outlives expires_in without an answer: exit 3 without another poll', async () => {
    reset({ interval: 30, polls: [[400, { error: 'authorization_pending' }], [400, { error: 'authorization_pending' }]] })
    const error = await failure(login({ url }, deps()))
    expect(error.exitCode).toBe(3)
    expect(seen.filter((s) => s.path === '/token')).toHaveLength(1)
  })

  test('access_denied: exit 3 with a clear message', async () => {
    reset({ polls: [[400, { error: 'access_denied' }]] })
    const error = await failure(login({ url }, deps()))
    expect(error.exitCode).toBe(3)
    expect(error.message).toBe('sign-in denied: it was refused at GitHub, or this GitHub user may not use this server')
  })

  test('any other error: one line with the server\'s description', async () => {
    reset({ polls: [[400, { error: 'invalid_grant', error_description: 'the device_code is invalid' }]] })
    const error = await failure(login({ url }, deps()))
    expect(error.message).toBe('400 invalid_grant: the device_code is invalid (waiting for approval)')
  })

  test('RFC 8414 §3.3: metadata naming another issuer is refused before anything is sent', async () => {
    reset({ polls: [], issuer: 'https://evil.example' })
    const error = await failure(login({ url }, deps()))
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`${url} says its issuer is https://evil.example, which RFC 8414 §3.3 requires to be the URL itself; check --url`)
    expect(seen.map((s) => s.path)).toEqual(['/.well-known/oauth-authorization-server'])
  })
})
