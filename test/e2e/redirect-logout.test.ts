/**
 * Logout CSRF on a redirect-mode proxy: /_oauth/logout ends a session only on a POST that a page of the
 * proxy's own origin sent (its Origin, or without one its Referer). A GET — what a cross-site
 * <img src>, link or redirect makes a browser send, with the SameSite=Lax cookie on a top-level one —
 * only shows a page asking to confirm, whose button POSTs. On both data-plane paths: the relay
 * (HTTP/1.1) and the hand-over server (HTTP/1.0 on a connection already handed over, checked through
 * the edge's handoffs count). The sessions are real: signed in through /authorize, consent, the GitHub
 * fake and the proxy's /_oauth/callback.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { startEchoBackend } from '../fixtures/backends.ts'
import { inTurnOn, openClient, type RawReply } from '../fixtures/raw-backends.ts'
import { driveBrowser, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'
import { waitFor } from '../support/ports.ts'

const HOST = 'app.localhost'
const ORIGIN = `http://${HOST}`
const SESSION_COOKIE = '__Host-ohp-session'
const LOGIN_COOKIE = '__Host-ohp-login'

let t: OAuthE2E
let backend: Server<undefined>
const stats = () => t.edge.server.edge.stats()

beforeAll(async () => {
  t = await startOAuthE2E()
  backend = startEchoBackend()
  // /carrier is open: the request that makes the hand-over server take the connection.
  await t.edge.createProxy(HOST, `http://127.0.0.1:${backend.port}`, { auth_enabled: true, auth_mode: 'redirect', auth_excluded_paths: ['/carrier'] })
  await t.edge.server.edge.reconcile()
})
afterAll(async () => {
  await t?.stop()
  backend?.stop(true)
})

type Path = 'relay' | 'hand-over'
const PATHS: readonly Path[] = ['relay', 'hand-over']

/**
 * One request to the proxy on a connection of its own: HTTP/1.1 on the relay (handoffs stay 0), or
 * HTTP/1.0 after an absolute-form request (RFC 9112 §3.2.2) that only the hand-over server reads.
 */
async function send(path: Path, method: string, target: string, fields: Record<string, string> = {}): Promise<RawReply> {
  await waitFor(() => stats().handoffs === 0, { timeoutMs: 3_000, what: `earlier hand-overs to end (${JSON.stringify(stats())})` })
  const client = await openClient(t.edge, 'http', HOST)
  try {
    if (path === 'hand-over') {
      const [carried] = await inTurnOn(client, [`GET ${ORIGIN}/carrier HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`])
      expect(carried!.status).toBe(200)
      expect({ path, handoffs: stats().handoffs }).toEqual({ path, handoffs: 1 })
    }
    const lines = Object.entries({ Host: HOST, Accept: 'text/html', ...(method === 'POST' ? { 'Content-Length': '0' } : {}), ...fields }).map(([name, value]) => `${name}: ${value}\r\n`)
    const [reply] = await inTurnOn(client, [`${method} ${target} HTTP/${path === 'relay' ? '1.1' : '1.0'}\r\n${lines.join('')}\r\n`])
    if (path === 'relay') expect({ path, handoffs: stats().handoffs }).toEqual({ path, handoffs: 0 })
    return reply!
  } finally {
    client.close()
  }
}

const cookieOf = (reply: RawReply, name: string): string | undefined =>
  reply.head
    .split('\r\n')
    .filter((line) => /^set-cookie:/i.test(line))
    .map((line) => line.slice(line.indexOf(':') + 1).trim().split(';')[0]!)
    .find((pair) => pair.startsWith(`${name}=`))

/** A browser signed in to the proxy: its session cookie (name=value), through the whole flow. */
async function signIn(path: Path): Promise<string> {
  const started = await send(path, 'GET', '/page')
  expect(started.status).toBe(302)
  const login = cookieOf(started, LOGIN_COOKIE)!
  const { final } = await driveBrowser(t, started.headers.location!)
  expect(`${final.origin}${final.pathname}`).toBe(`${ORIGIN}/_oauth/callback`)
  const back = await send(path, 'GET', `${final.pathname}${final.search}`, { Cookie: login })
  expect(back.status).toBe(302)
  return cookieOf(back, SESSION_COOKIE)!
}

/** Whether the session still admits its browser: the backend's page, or a 302 to sign in. */
async function isSignedIn(path: Path, session: string): Promise<boolean> {
  const reply = await send(path, 'GET', '/page', { Cookie: session })
  expect([200, 302]).toContain(reply.status)
  return reply.status === 200
}

describe('GET /_oauth/logout only asks', () => {
  for (const path of PATHS) {
    test(`${path}: a confirmation page with a POST form back to /_oauth/logout, under a strict CSP; the session goes on`, async () => {
      const session = await signIn(path)
      const page = await send(path, 'GET', '/_oauth/logout', { Cookie: session })
      expect(page.status).toBe(200)
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(page.headers['set-cookie']).toBeUndefined()
      expect(page.headers['cache-control']).toBe('no-store')
      expect(page.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
      expect(page.headers['x-frame-options']).toBe('DENY')
      // no-referrer would make the browser send the form's POST with "Origin: null".
      expect(page.headers['referrer-policy']).toBe('same-origin')
      expect(page.text).toContain('<form method="post" action="/_oauth/logout"><button type="submit">Sign out</button></form>')
      expect(page.text).toContain(`Sign out of ${HOST}?`)
      expect(page.text).not.toContain('<script')
      expect(await isSignedIn(path, session)).toBe(true)
    })
  }
})

describe('POST /_oauth/logout from anywhere but this origin is refused (logout CSRF)', () => {
  const REFUSED: readonly [string, Record<string, string>][] = [
    ['another origin', { Origin: 'https://evil.example' }],
    ['the same host on another scheme', { Origin: `https://${HOST}` }],
    ['an opaque origin ("null")', { Origin: 'null' }],
    ['neither Origin nor Referer', {}],
    ["no Origin and another site's Referer", { Referer: 'https://evil.example/page' }],
    ["another Origin with this origin's Referer", { Origin: 'https://evil.example', Referer: `${ORIGIN}/_oauth/logout` }],
  ]
  for (const path of PATHS) {
    test(`${path}: ${REFUSED.map(([name]) => name).join(', ')} → 403 invalid_origin, no cookie cleared, the session goes on`, async () => {
      const session = await signIn(path)
      for (const [name, fields] of REFUSED) {
        const reply = await send(path, 'POST', '/_oauth/logout', { Cookie: session, Accept: 'application/json', ...fields })
        expect({ name, status: reply.status, setCookie: reply.headers['set-cookie'] }).toEqual({ name, status: 403, setCookie: undefined })
        expect(JSON.parse(reply.text).error).toBe('invalid_origin')
      }
      // A browser navigating gets a page, not JSON.
      const page = await send(path, 'POST', '/_oauth/logout', { Cookie: session, Origin: 'https://evil.example' })
      expect([page.status, page.headers['content-type']]).toEqual([403, 'text/html; charset=utf-8'])
      expect(await isSignedIn(path, session)).toBe(true)
    })
  }
})

describe('POST /_oauth/logout from this origin signs out', () => {
  for (const path of PATHS) {
    test(`${path}: with its Origin: the signed-out page, the cookie cleared, the session refused after`, async () => {
      const session = await signIn(path)
      const reply = await send(path, 'POST', '/_oauth/logout', { Cookie: session, Origin: ORIGIN })
      expect(reply.status).toBe(200)
      expect(reply.text).toContain('Signed out')
      expect(reply.headers['set-cookie']).toBe(`${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`)
      expect(await isSignedIn(path, session)).toBe(false)
    })

    test(`${path}: with no Origin but this origin's Referer (a client that sends none)`, async () => {
      const session = await signIn(path)
      const reply = await send(path, 'POST', '/_oauth/logout', { Cookie: session, Referer: `${ORIGIN}/_oauth/logout` })
      expect(reply.status).toBe(200)
      expect(await isSignedIn(path, session)).toBe(false)
    })
  }

  test('PUT is 405 with Allow: GET, HEAD, POST', async () => {
    const reply = await send('relay', 'PUT', '/_oauth/logout', { Origin: ORIGIN })
    expect([reply.status, reply.headers.allow]).toEqual([405, 'GET, HEAD, POST'])
  })
})
