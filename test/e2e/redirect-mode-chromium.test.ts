/**
 * Redirect mode in a real headless Chromium: a proxy on app.localhost (a site unrelated to the
 * authorization server on 127.0.0.1) sends a browser without a session through our /authorize, the
 * consent page, the GitHub fake and our /callback back to its own /_oauth/callback, which sets the
 * __Host- session cookie and returns to the page first asked for. Then sign-out (a page asking to
 * confirm, whose button POSTs), a page on another site that tries to sign the user out (an image, a
 * link, a form it submits: none does), and a GitHub user outside the allowlist, who gets the 403 page
 * instead of a loop.
 *
 * The proxy is plain http on a *.localhost name: Chromium treats such origins as potentially
 * trustworthy, so it accepts Secure (and __Host-) cookies from them; this test is where that is proven.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'
import { startEchoBackend, type EchoReport } from '../fixtures/backends.ts'
import { launchChromium } from '../support/chromium.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { freePort } from '../support/ports.ts'

const HOST = 'app.localhost'
const GITHUB_APP = { clientId: 'Iv1.redirectmode', clientSecret: 'redirect-mode-secret' }

let github: GitHubFake
let edge: TestEdge
let backend: Server<undefined>
let browser: Browser
let issuer: string
let app: string

beforeAll(async () => {
  const apiPort = await freePort()
  issuer = `http://127.0.0.1:${apiPort}`
  github = createGitHubFake({
    users: [
      { id: 1001, login: 'alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] },
      { id: 1002, login: 'bob', emails: [{ email: 'bob@example.com', primary: true, verified: true }] },
    ],
    apps: [{ ...GITHUB_APP, callbackUrl: `${issuer}/callback` }],
  })
  edge = await startTestEdge({
    API_PORT: String(apiPort),
    PUBLIC_URL: issuer,
    GITHUB_URL: github.webUrl,
    GITHUB_API_URL: github.apiUrl,
    GITHUB_CLIENT_ID: GITHUB_APP.clientId,
    GITHUB_CLIENT_SECRET: GITHUB_APP.clientSecret,
  })
  backend = startEchoBackend()
  await edge.createProxy(HOST, `http://127.0.0.1:${backend.port}`, {
    auth_enabled: true,
    auth_mode: 'redirect',
    auth_required_users: ['alice'],
    oauth_user_users: ['alice'],
  })
  app = `http://${HOST}:${edge.httpPort}`
  // Chromium resolves *.localhost to loopback itself; this pins it to the address the edge listens on.
  browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`])
})

afterAll(async () => {
  await browser?.close()
  backend?.stop(true)
  await edge?.stop()
  await github?.stop()
})

/** A fresh browser profile that refuses to talk to anything but the proxy, the authorization server and the GitHub fake. */
async function newBrowser(): Promise<{ context: BrowserContext; page: Page; visited: string[] }> {
  const context = await browser.newContext()
  const allowed = new Set([new URL(app).origin, issuer, new URL(github.webUrl).origin])
  await context.route('**/*', (route) => (allowed.has(new URL(route.request().url()).origin) ? route.continue() : route.abort('blockedbyclient')))
  const page = await context.newPage()
  const visited: string[] = []
  page.on('request', (request) => {
    if (request.isNavigationRequest()) visited.push(request.url())
  })
  return { context, page, visited }
}

/** Signs in at the consent page the browser is on, as `login` at the GitHub fake. */
async function approveConsent(page: Page, login: string) {
  await page.waitForURL((url) => url.origin === issuer && url.pathname === '/authorize')
  github.setNextLogin(login)
  await page.locator('button[name="decision"][value="approve"]').click()
}

const echoOf = async (page: Page): Promise<EchoReport> => JSON.parse((await page.locator('body').innerText()).trim())

describe('redirect mode in Chromium', () => {
  test('consent page → GitHub → back at the original URL signed in, with a __Host- session cookie on the proxy only; then sign-out', async () => {
    const { context, page, visited } = await newBrowser()
    await page.goto(`${app}/private/page?x=1`)
    await approveConsent(page, 'alice')
    await page.waitForURL(`${app}/private/page?x=1`, { timeout: 5_000 }).catch(async (error) => {
      throw new Error(`not back at the page: ${visited.join(' → ')}, on ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 300)} (${error})`)
    })

    const echo = await echoOf(page)
    expect(echo.url).toEndWith('/private/page?x=1')
    expect(echo.headers['x-auth-user']).toBe('alice')
    // Our cookies stay at the edge: the backend sees none of them.
    expect(echo.headers.cookie ?? '').not.toContain('__Host-ohp')
    // The way there: proxy → /authorize (consent) → GitHub → /callback → the proxy's own callback → the page.
    const path = visited.map((url) => new URL(url))
    expect(path.map((url) => `${url.origin}${url.pathname}`)).toEqual([
      `${app}/private/page`,
      `${issuer}/authorize`,
      `${issuer}/authorize/consent`,
      `${github.webUrl}/login/oauth/authorize`,
      `${issuer}/callback`,
      `${app}/_oauth/callback`,
      `${app}/private/page`,
    ])

    const cookies = await context.cookies(app)
    const session = cookies.find((cookie) => cookie.name === '__Host-ohp-session')
    expect(session).toMatchObject({ domain: HOST, path: '/', secure: true, httpOnly: true, sameSite: 'Lax' })
    expect(session!.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(session!.expires * 1000).toBeGreaterThan(Date.now() + 29 * 86_400_000)
    // Set by the proxy's own callback, never by the authorization server.
    expect((await context.cookies(issuer)).map((cookie) => cookie.name)).not.toContain('__Host-ohp-session')

    // Signed in: the next visit goes straight to the backend.
    visited.length = 0
    await page.goto(`${app}/other`)
    expect((await echoOf(page)).headers['x-auth-user']).toBe('alice')
    expect(visited).toEqual([`${app}/other`])

    // A GET only asks; the button POSTs from this very origin (the browser's own Origin header).
    const confirm = await page.goto(`${app}/_oauth/logout`)
    expect(confirm!.status()).toBe(200)
    expect(await page.locator('h1').innerText()).toBe('Sign out')
    expect((await context.cookies(app)).map((cookie) => cookie.name)).toContain('__Host-ohp-session')
    const [signedOut] = await Promise.all([
      page.waitForResponse((response) => response.request().method() === 'POST' && response.url() === `${app}/_oauth/logout`),
      page.locator('button[type="submit"]').click(),
    ])
    expect(signedOut.status()).toBe(200)
    expect(await signedOut.request().headerValue('origin')).toBe(app)
    await page.waitForLoadState('load')
    expect(await page.locator('h1').innerText()).toBe('Signed out')
    expect((await context.cookies(app)).map((cookie) => cookie.name)).not.toContain('__Host-ohp-session')

    // The old cookie is worth nothing now, on this browser or any other.
    const replay = await browser.newContext()
    await replay.addCookies([{ ...session!, sameSite: 'Lax' }])
    const replayPage = await replay.newPage()
    await replayPage.goto(`${app}/private/page`)
    expect(new URL(replayPage.url()).origin).toBe(issuer)
    await replay.close()

    // Signing in again starts at the authorization server; nobody is signed in at GitHub, so it waits there.
    await page.goto(`${app}/private/page`)
    expect(new URL(page.url()).origin).not.toBe(new URL(app).origin)
    await context.close()
  }, 30_000)

  test('logout CSRF: a page on another site cannot sign the user out — not by an image, a link it follows, or a form it submits', async () => {
    const { context, page } = await newBrowser()
    await page.goto(`${app}/private/page`)
    await approveConsent(page, 'alice')
    await page.waitForURL(`${app}/private/page`, { timeout: 5_000 })
    const isSignedIn = async () => {
      const probe = await context.newPage()
      await probe.goto(`${app}/other`)
      const signedIn = new URL(probe.url()).origin === new URL(app).origin && (await echoOf(probe)).headers['x-auth-user'] === 'alice'
      await probe.close()
      return signedIn
    }
    expect(await isSignedIn()).toBe(true)

    // The other site's pages, served by the browser's router (registered last, so it comes first).
    const evil = 'http://evil.localhost'
    const pages: Record<string, string> = {
      '/image': `<img src="${app}/_oauth/logout"><p>image</p>`,
      '/link': `<a id="go" href="${app}/_oauth/logout">go</a>`,
      '/form': `<form method="post" action="${app}/_oauth/logout"></form><script>document.forms[0].submit()</script>`,
    }
    await context.route(`${evil}/**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: pages[new URL(route.request().url()).pathname] ?? '' }))

    const logoutAnswers: { method: string; status: number }[] = []
    page.on('response', (response) => {
      if (response.url() === `${app}/_oauth/logout`) logoutAnswers.push({ method: response.request().method(), status: response.status() })
    })
    await page.goto(`${evil}/image`)
    await page.waitForLoadState('networkidle')
    expect(await isSignedIn()).toBe(true)

    // A top-level navigation from another site carries the SameSite=Lax cookie: it lands on the question.
    await page.goto(`${evil}/link`)
    await page.locator('#go').click()
    await page.waitForURL(`${app}/_oauth/logout`)
    expect(await page.locator('h1').innerText()).toBe('Sign out')
    expect(await isSignedIn()).toBe(true)

    // A cross-site POST (no cookie under SameSite=Lax, but its answer could still clear it): refused.
    await page.goto(`${evil}/form`)
    await page.waitForURL(`${app}/_oauth/logout`)
    await page.waitForLoadState('load')
    expect(logoutAnswers.filter((answer) => answer.method === 'POST')).toEqual([{ method: 'POST', status: 403 }])
    expect(await isSignedIn()).toBe(true)
    expect((await context.cookies(app)).map((cookie) => cookie.name)).toContain('__Host-ohp-session')
    await context.close()
  }, 30_000)

  test('a GitHub user outside the allowlist gets a 403 page naming the host, once, and no session', async () => {
    const { context, page, visited } = await newBrowser()
    const callbackAnswer = page.waitForResponse((response) => new URL(response.url()).pathname === '/_oauth/callback')
    await page.goto(`${app}/private/page`)
    await approveConsent(page, 'bob')
    const answer = await callbackAnswer
    expect(answer.status()).toBe(403)
    await page.waitForLoadState('load')
    expect(new URL(page.url()).pathname).toBe('/_oauth/callback')
    expect(await page.locator('h1').innerText()).toBe('Access denied')
    expect(await page.locator('body').innerText()).toContain(`Your GitHub account is not allowed on ${HOST}:${edge.httpPort}`)
    expect((await context.cookies(app)).map((cookie) => cookie.name)).not.toContain('__Host-ohp-session')
    // No loop: the page stays put.
    await page.waitForLoadState('networkidle')
    expect(visited.filter((url) => url.startsWith(`${app}/_oauth/callback`))).toHaveLength(1)
    await context.close()
  }, 30_000)
})
