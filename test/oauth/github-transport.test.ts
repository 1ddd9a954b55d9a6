/**
 * @module The GitHub client's transport guards against a misbehaving GitHub: deadlines, body caps, redirects,
 * odd answers; plus app selection and the factory's checks.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/index.ts'
import { createGitHubClient, DEFAULT_GITHUB_TIMEOUT_MS, selectApp, type GitHubClient } from '../../src/oauth/index.ts'

const APP = { clientId: 'Iv1.t', clientSecret: 'transport-secret-8277e0910d75' }
const logger = createLogger('silent')

/** A stand-in GitHub whose answer for each path the test chooses; `hang` never answers, `stall` stops mid-body. */
let answers = new Map<string, () => Response | Promise<Response>>()
let server: ReturnType<typeof Bun.serve>
let base = ''
let github: GitHubClient

beforeAll(() => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => answers.get(new URL(request.url).pathname)?.() ?? new Response('not found', { status: 404 }),
  })
  base = `http://127.0.0.1:${server.port}`
  github = createGitHubClient({ webUrl: base, apiUrl: `${base}/api`, logger, timeoutMs: 200 })
})
afterAll(() => server.stop(true))

const hang = () => new Promise<Response>(() => {})
const stall = () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"access_token":"gho_')) }), { headers: { 'content-type': 'application/json' } })
const json = (body: unknown, status = 200) => () => Response.json(body, { status })
function serve(routes: Record<string, () => Response | Promise<Response>>): void {
  answers = new Map(Object.entries(routes))
}

describe('deadlines (timeoutMs 200)', () => {
  test('no answer at all: upstream / error within the deadline, for every call', async () => {
    serve({ '/login/oauth/access_token': hang, '/login/device/code': hang, '/api/user': hang, '/api/user/emails': hang })
    const started = performance.now()
    const results = await Promise.all([
      github.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' }),
      github.fetchUser('gho_token'),
      github.startDeviceFlow({ app: APP }),
      github.pollDeviceFlow({ app: APP, deviceCode: 'd' }),
    ])
    expect(performance.now() - started).toBeLessThan(2000)
    expect(results).toEqual([
      { ok: false, reason: 'upstream', detail: 'no answer within 200 ms' },
      { ok: false, reason: 'upstream', detail: '/user: no answer within 200 ms' },
      { ok: false, reason: 'upstream', detail: 'no answer within 200 ms' },
      { status: 'error', detail: 'no answer within 200 ms' },
    ])
  })

  test('headers sent, then the body stalls: the deadline covers the body too', async () => {
    serve({ '/login/oauth/access_token': stall })
    expect(await github.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })).toEqual({ ok: false, reason: 'upstream', detail: 'no answer within 200 ms' })
  })

  test('the default deadline is 10 s', () => {
    expect(DEFAULT_GITHUB_TIMEOUT_MS).toBe(10_000)
  })
})

describe('hostile or broken answers', () => {
  test('a body over 64 KiB is refused, declared or streamed', async () => {
    const big = { access_token: 'gho_x', token_type: 'bearer', padding: 'x'.repeat(70_000) }
    serve({ '/login/oauth/access_token': json(big) })
    expect(await github.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })).toMatchObject({ ok: false, reason: 'upstream', detail: expect.stringContaining('larger than 65536') })
    const chunk = new TextEncoder().encode('x'.repeat(16_384))
    serve({ '/api/user': () => new Response(new ReadableStream({ pull: (c) => c.enqueue(chunk) })), '/api/user/emails': json([]) })
    expect(await github.fetchUser('gho_token')).toMatchObject({ ok: false, reason: 'upstream', detail: expect.stringContaining('larger than') })
  })

  test('a redirect is not followed (it would carry the secret or the bearer token elsewhere)', async () => {
    let followed = false
    serve({
      '/login/oauth/access_token': () => new Response(null, { status: 307, headers: { location: `${base}/elsewhere` } }),
      '/elsewhere': () => ((followed = true), Response.json({ access_token: 'gho_x', token_type: 'bearer' })),
    })
    expect(await github.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })).toEqual({ ok: false, reason: 'upstream', detail: 'HTTP 307' })
    expect(followed).toBe(false)
  })

  test('token answers of the wrong shape: upstream, and the detail never quotes the value', async () => {
    const cases = [{ access_token: '', token_type: 'bearer' }, { access_token: 'gho_a b', token_type: 'bearer' }, { access_token: 'gho_secretish', token_type: 'mac' },
      { access_token: 'gho_secretish' }, { access_token: 42, token_type: 'bearer' }, { error: 7 }, [], null, 'gho_secretish']
    for (const body of cases) {
      serve({ '/login/oauth/access_token': json(body) })
      const result = await github.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })
      expect(result).toMatchObject({ ok: false, reason: 'upstream' })
      expect(JSON.stringify(result)).not.toContain('secretish')
    }
  })

  test('an unknown GitHub error code: upstream, with GitHub\'s words (control characters removed)', async () => {
    serve({ '/login/oauth/access_token': json({ error: 'unsupported_grant_type', error_description: 'no\r\nsuch\u0000grant' }) })
    expect(await github.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })).toEqual({ ok: false, reason: 'upstream', detail: 'unsupported_grant_type: no  such grant' })
  })

  test('user answers of the wrong shape: upstream; an odd display name is dropped, not fatal', async () => {
    for (const user of [{ id: '1', login: 'a' }, { id: 0, login: 'a' }, { id: 1.5, login: 'a' }, { id: 1, login: '' }, { id: 1, login: 'a b' }, { id: 1, login: '-a' }, { id: 1 }]) {
      serve({ '/api/user': json(user), '/api/user/emails': json([]) })
      expect(await github.fetchUser('gho_token')).toMatchObject({ ok: false, reason: 'upstream', detail: expect.stringContaining('/user: unexpected answer shape') })
    }
    serve({ '/api/user': json({ id: 7, login: 'a', name: 'x\u0007y' }), '/api/user/emails': json([{ email: 'x', primary: 'yes', verified: true }]) })
    expect(await github.fetchUser('gho_token')).toMatchObject({ ok: false, reason: 'upstream', detail: expect.stringContaining('/user/emails') })
    serve({ '/api/user': json({ id: 7, login: 'a', name: 'x\u0007y' }), '/api/user/emails': json([{ email: 'not an address', primary: true, verified: true }]) })
    expect(await github.fetchUser('gho_token')).toEqual({ ok: true, user: { sub: '7', username: 'a' }, name: null })
  })

  test('/user/emails answering 401, 403 or 500 fails the lookup; only 404 means "no email"', async () => {
    for (const [status, reason] of [[401, 'bad_token'], [403, 'upstream'], [500, 'upstream']] as const) {
      serve({ '/api/user': json({ id: 7, login: 'a' }), '/api/user/emails': json({ message: 'x' }, status) })
      expect(await github.fetchUser('gho_token')).toEqual({ ok: false, reason, detail: `/user/emails: HTTP ${status}` })
    }
  })

  test('slow_down without an interval: the caller\'s interval plus 5 (RFC 8628 §3.5), 5 + 5 when unknown', async () => {
    serve({ '/login/oauth/access_token': json({ error: 'slow_down' }) })
    expect(await github.pollDeviceFlow({ app: APP, deviceCode: 'd', intervalSec: 7 })).toEqual({ status: 'slow_down', intervalSec: 12 })
    expect(await github.pollDeviceFlow({ app: APP, deviceCode: 'd' })).toEqual({ status: 'slow_down', intervalSec: 10 })
  })

  test('a device code answer with a non-http verification URI or no expiry: upstream', async () => {
    for (const answer of [{ device_code: 'd', user_code: 'ABCD-EFGH', verification_uri: 'javascript:alert(1)', expires_in: 900 },
      { device_code: 'd', user_code: 'ABCD-EFGH', verification_uri: 'https://github.com/login/device' }]) {
      serve({ '/login/device/code': json(answer) })
      expect(await github.startDeviceFlow({ app: APP })).toMatchObject({ ok: false, reason: 'upstream' })
    }
    serve({ '/login/device/code': json({ device_code: 'd', user_code: 'ABCD-EFGH', verification_uri: 'https://github.com/login/device', expires_in: 900 }) })
    expect(await github.startDeviceFlow({ app: APP })).toMatchObject({ ok: true, intervalSec: 5 })
  })

  test('a refused connection: upstream with a network detail', async () => {
    const closed = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response() })
    const url = `http://127.0.0.1:${closed.port}`
    await closed.stop(true)
    const client = createGitHubClient({ webUrl: url, apiUrl: url, logger, timeoutMs: 1000 })
    expect(await client.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })).toMatchObject({ ok: false, reason: 'upstream', detail: expect.stringMatching(/^network error: /) })
  })
})

describe('createGitHubClient options', () => {
  test('an injected fetch carries every call', async () => {
    const seen: string[] = []
    const fakeFetch = (async (input: string | URL | Request) => {
      seen.push(String(input))
      return Response.json({ access_token: 'gho_injected', token_type: 'bearer', scope: 'read:user' })
    }) as typeof fetch
    const client = createGitHubClient({ webUrl: 'https://github.example', apiUrl: 'https://api.github.example', fetch: fakeFetch, logger })
    expect(await client.exchangeCode({ app: APP, code: 'c', redirectUri: 'https://a.example/cb' })).toEqual({ ok: true, accessToken: 'gho_injected', scopes: ['read:user'] })
    expect(seen).toEqual(['https://github.example/login/oauth/access_token'])
  })

  test('base URLs must be http(s) without query, fragment or credentials; timeoutMs a positive integer', () => {
    for (const webUrl of ['github.com', 'ftp://github.com', 'https://github.com/?x=1', 'https://github.com/#f', 'https://u:p@github.com']) {
      expect(() => createGitHubClient({ webUrl, apiUrl: 'https://api.github.com', logger })).toThrow('webUrl must be an http(s) URL')
    }
    expect(() => createGitHubClient({ webUrl: 'https://github.com', apiUrl: 'nope', logger })).toThrow('apiUrl')
    for (const timeoutMs of [0, -1, 1.5, Number.NaN]) {
      expect(() => createGitHubClient({ webUrl: 'https://github.com', apiUrl: 'https://api.github.com', logger, timeoutMs })).toThrow('timeoutMs')
    }
  })
})

describe('selectApp', () => {
  const proxy = { clientId: 'Iv1.proxy', clientSecret: 'proxy-secret' }
  const global = { clientId: 'Iv1.global', clientSecret: 'global-secret' }

  test('the proxy\'s own app wins; else GITHUB_CLIENT_ID/_SECRET; else null', () => {
    expect(selectApp(proxy, global)).toEqual({ ...proxy, source: 'proxy' })
    expect(selectApp(null, global)).toEqual({ ...global, source: 'global' })
    expect(selectApp(null, {})).toBeNull()
  })

  test('half an app never counts: an id without a secret (or empty strings) falls through', () => {
    expect(selectApp({ clientId: 'Iv1.proxy', clientSecret: '' }, global)).toEqual({ ...global, source: 'global' })
    expect(selectApp(null, { clientId: 'Iv1.global' })).toBeNull()
    expect(selectApp(null, { clientSecret: 'global-secret' })).toBeNull()
    expect(selectApp({ clientId: '', clientSecret: 's' }, { clientId: '', clientSecret: '' })).toBeNull()
  })
})
