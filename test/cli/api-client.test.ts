/**
 * createApiClient against a small API and token endpoint on loopback: the stored login, silent refresh
 * (expired, or a 401 invalid_token), rotation saved, an ended session, --token, and API errors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiPath, CliError, createApiClient, createCredentialStore, type CredentialStore } from '../../src/cli/client/index.ts'
import { freePort } from '../support/ports.ts'

/** Access tokens the API accepts, and the one refresh token the token endpoint accepts now. */
const state = { valid: new Set<string>(), refresh: '', refreshes: 0, n: 0, seen: [] as { method: string; path: string; auth: string | null; body: string }[] }
let api: ReturnType<typeof Bun.serve>
let url: string
let home: string
let store: CredentialStore

beforeAll(() => {
  api = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const { pathname, search } = new URL(request.url)
      const body = await request.text()
      state.seen.push({ method: request.method, path: pathname + search, auth: request.headers.get('authorization'), body })
      if (pathname === '/token') {
        const form = new URLSearchParams(body)
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== state.refresh || form.get('client_id') !== 'cli') {
          return Response.json({ error: 'invalid_grant', error_description: 'no' }, { status: 400 })
        }
        state.refreshes++
        const access = `access-${++state.n}`
        state.valid.add(access)
        state.refresh = `refresh-${state.n}`
        return Response.json({ access_token: access, token_type: 'Bearer', expires_in: 60, refresh_token: state.refresh, scope: 'admin' })
      }
      const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
      if (!token || !state.valid.has(token)) {
        return Response.json({ error: 'invalid_token', error_description: 'the access token is invalid or expired' }, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
      }
      if (pathname === '/system/info') return Response.json({ you: { username: 'alice' }, query: search })
      if (pathname === '/things' && request.method === 'POST') return Response.json({ created: JSON.parse(body) }, { status: 201 })
      if (pathname.startsWith('/things/') && request.method === 'DELETE') return new Response(null, { status: 204 })
      if (pathname === '/elsewhere') return Response.redirect('http://127.0.0.2:9/steal', 302)
      return Response.json({ error: 'not_found', error_description: `no such thing ${pathname}` }, { status: 404 })
    },
  })
  url = `http://127.0.0.1:${api.port}`
})
afterAll(() => api.stop(true))

function signIn(access: string, refresh: string, expiresAtMs: number) {
  home = mkdtempSync(join(tmpdir(), 'ohp-client-'))
  store = createCredentialStore({ XDG_CONFIG_HOME: home })
  store.set(url, { issuer: url, client_id: 'cli', token_endpoint: `${url}/token`, tokens: { access_token: access, refresh_token: refresh, expires_at_ms: expiresAtMs } })
  state.refresh = refresh
  state.refreshes = 0
  state.seen = []
}
afterEach(() => rmSync(home, { recursive: true, force: true }))

const NOW = 1_700_000_000_000
const client = (args: { url?: string; token?: string } = { url }) => createApiClient(args, { env: {}, credentials: store, nowMs: () => NOW })

async function failure(work: Promise<unknown>): Promise<CliError> {
  try {
    await work
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    return error as CliError
  }
  throw new Error('expected a CliError')
}

describe('the stored login', () => {
  test('a valid access token is sent as a Bearer token; no refresh', async () => {
    state.valid.add('good')
    signIn('good', 'r0', NOW + 60_000)
    expect(await client().get('/system/info', { verbose: true, skip: undefined })).toEqual({ you: { username: 'alice' }, query: '?verbose=true' })
    expect(state.seen[0]!.auth).toBe('Bearer good')
    expect(state.refreshes).toBe(0)
  })

  test('expired: refreshed before the request (RFC 6749 §6); the rotated pair is saved', async () => {
    signIn('old', 'r-expired', NOW - 1)
    await client().get('/system/info')
    expect(state.refreshes).toBe(1)
    expect(state.seen.map((s) => s.path)).toEqual(['/token', '/system/info'])
    const tokens = store.get(url)!.tokens!
    expect(tokens.access_token).toBe(state.seen[1]!.auth!.slice('Bearer '.length))
    expect(tokens.refresh_token).toBe(state.refresh)
    expect(tokens.expires_at_ms).toBe(NOW + 60_000)
  })

  test('401 invalid_token on a token not yet expired (revoked, key rotated): refresh once and retry', async () => {
    signIn('revoked', 'r-valid', NOW + 60_000)
    expect(await client().get('/system/info')).toMatchObject({ you: { username: 'alice' } })
    expect(state.seen.map((s) => s.path)).toEqual(['/system/info', '/token', '/system/info'])
    expect(store.get(url)!.tokens!.access_token).not.toBe('revoked')
  })

  test('the refresh token refused (invalid_grant): exit 3, the tokens forgotten, the registration kept', async () => {
    signIn('revoked', 'r-valid', NOW - 1)
    state.refresh = 'something-else'
    const error = await failure(client().get('/system/info'))
    expect(error.exitCode).toBe(3)
    expect(error.message).toBe(`the session at ${url} has ended (invalid_grant); run: oauth-https-proxy login --url ${url}`)
    expect(store.get(url)).toMatchObject({ client_id: 'cli' })
    expect(store.get(url)!.tokens).toBeUndefined()
    expect(error.message).not.toContain('r-valid')
  })

  test('not signed in: exit 3 and how to sign in', async () => {
    signIn('x', 'y', NOW)
    store.set(url, null)
    const error = await failure(client().get('/system/info'))
    expect(error.exitCode).toBe(3)
    expect(error.message).toBe(`not signed in to ${url}; run: oauth-https-proxy login --url ${url}`)
  })
})

describe('--token', () => {
  test('sent as given, never refreshed, never saved; a 401 names where the token came from', async () => {
    signIn('stored', 'r', NOW + 60_000)
    state.valid.add('ci-token')
    await client({ url, token: 'ci-token' }).get('/system/info')
    expect(state.seen[0]!.auth).toBe('Bearer ci-token')
    const error = await failure(client({ url, token: 'wrong' }).get('/system/info'))
    expect(error.exitCode).toBe(3)
    expect(error.message).toBe('401 invalid_token: the access token is invalid or expired (the token from --token or OHP_TOKEN)')
    expect(state.refreshes).toBe(0)
    expect(store.get(url)!.tokens!.access_token).toBe('stored')
  })
})

describe('answers', () => {
  test('JSON bodies out and in; 204 is null; path values are encoded as one segment', async () => {
    state.valid.add('good')
    signIn('good', 'r', NOW + 60_000)
    expect(await client().post('/things', { name: 'a b' })).toEqual({ created: { name: 'a b' } })
    expect(state.seen[0]!.body).toBe('{"name":"a b"}')
    expect(await client().delete(apiPath`/things/${'a/b c'}`)).toBeNull()
    expect(state.seen[1]!.path).toBe('/things/a%2Fb%20c')
  })

  test('404: exit 4 with the API\'s description', async () => {
    state.valid.add('good')
    signIn('good', 'r', NOW + 60_000)
    const error = await failure(client().get('/things/nope'))
    expect(error.exitCode).toBe(4)
    expect(error.message).toBe('404 not_found: no such thing /things/nope')
  })

  test('a redirect is not followed: the token never travels to another address', async () => {
    state.valid.add('good')
    signIn('good', 'r', NOW + 60_000)
    const error = await failure(client().get('/elsewhere'))
    expect(error.exitCode).toBe(1)
    expect(state.seen.map((s) => s.path)).toEqual(['/elsewhere'])
  })

  test('nothing listening: one line naming the server, exit 1', async () => {
    signIn('good', 'r', NOW + 60_000)
    const closed = `http://127.0.0.1:${await freePort()}`
    store.set(closed, store.get(url))
    const error = await failure(client({ url: closed }).get('/system/info'))
    expect(error.exitCode).toBe(1)
    expect(error.message).toMatch(new RegExp(`^cannot reach ${closed}: connection (refused|reset)$`))
  })
})
