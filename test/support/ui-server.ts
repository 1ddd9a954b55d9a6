/**
 * @module The web UI's end-to-end setting: one whole `serve` process (from source, as CI runs it) with
 * the GitHub fake as its login and a Pebble as its CA (HTTP-01 validated against the server's own HTTP
 * listener), and one Chromium. The UI is opened at http://localhost:<API_PORT>, PUBLIC_URL is
 * http://127.0.0.1:<API_PORT>, so sign-in crosses from the UI's origin to the authorization server's
 * and back, as it does by default.
 */
import { AxeBuilder } from '@axe-core/playwright'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'
import { lowFreePort, trustFile } from './acme-e2e.ts'
import { launchChromium } from './chromium.ts'
import { startPebble, type TestPebble } from './pebble.ts'
import { isolatedPortRanges } from './port-ranges.ts'
import { freePort } from './ports.ts'
import { REPO_ROOT, runCli, serveEnv, startServe, type ServedProcess } from './serve.ts'

const GITHUB_APP = { clientId: 'Iv1.webui', clientSecret: 'web-ui-secret' }
export const ADMIN = 'alice'
export const READER = 'bob'

export interface UiSetting {
  readonly server: ServedProcess
  readonly github: GitHubFake
  readonly pebble: TestPebble
  readonly browser: Browser
  /** http://localhost:<API_PORT>: where the UI is opened. */
  readonly ui: string
  /** PUBLIC_URL, the authorization server's issuer. */
  readonly issuer: string
  readonly httpPort: number
  /** An admin token from `token issue`, for setting things up through the API. */
  readonly adminToken: string
  api(method: string, path: string, body?: unknown): Promise<Response>
  stop(): Promise<void>
}

export async function startUiSetting(): Promise<UiSetting> {
  const apiPort = await freePort()
  const issuer = `http://127.0.0.1:${apiPort}`
  const ranges = isolatedPortRanges()
  const httpPort = lowFreePort(ranges)
  const github = createGitHubFake({
    users: [
      { id: 2001, login: ADMIN, emails: [{ email: 'alice@example.com', primary: true, verified: true }] },
      { id: 2002, login: READER, emails: [{ email: 'bob@example.com', primary: true, verified: true }] },
    ],
    apps: [{ ...GITHUB_APP, callbackUrl: `${issuer}/callback` }],
  })
  const pebble = await startPebble({ httpPort })
  const env = await serveEnv({
    ...ranges,
    API_PORT: String(apiPort),
    HTTP_PORT: String(httpPort),
    HTTPS_PORT: String(lowFreePort(ranges)),
    LISTEN_ADDRESS: '127.0.0.1',
    PUBLIC_URL: issuer,
    LOG_LEVEL: 'warn',
    GITHUB_URL: github.webUrl,
    GITHUB_API_URL: github.apiUrl,
    GITHUB_CLIENT_ID: GITHUB_APP.clientId,
    GITHUB_CLIENT_SECRET: GITHUB_APP.clientSecret,
    OAUTH_ADMIN_USERS: ADMIN,
    OAUTH_USER_USERS: READER,
    NODE_EXTRA_CA_CERTS: trustFile([pebble.caCertPem]),
    ACME_DIRECTORY_URL: pebble.directoryUrl,
    ACME_STAGING_URL: pebble.altDirectoryUrl,
  })
  const server = await startServe({ env, timeoutMs: 20_000 })
  const issued = await runCli(['token', 'issue', '--user', 'setup', '--scope', 'admin'], { env })
  if (issued.code !== 0) throw new Error(`token issue: ${issued.stderr}`)
  const adminToken = issued.stdout.trim()
  const browser = await launchChromium(['--host-resolver-rules=MAP localhost 127.0.0.1'])
  return {
    server,
    github,
    pebble,
    browser,
    ui: `http://localhost:${apiPort}`,
    issuer,
    httpPort,
    adminToken,
    api: (method, path, body) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async stop() {
      await browser.close()
      await server.stop()
      await pebble.stop()
      await github.stop()
    },
  }
}

export interface SignedIn {
  readonly context: BrowserContext
  readonly page: Page
  /** Every page navigation, in order. */
  readonly visited: string[]
  /** Every console error, page error and answer of 400 or more, which the tests expect to stay empty where nothing should fail. */
  readonly problems: string[]
}

/** A fresh browser profile (light or dark) that may reach only the UI, the authorization server and the GitHub fake. */
export async function newProfile(setting: UiSetting, colorScheme: 'light' | 'dark' = 'light'): Promise<SignedIn> {
  const context = await setting.browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } })
  // A step that cannot happen fails with what it waited for, instead of running into the test's timeout.
  context.setDefaultTimeout(10_000)
  const allowed = new Set([setting.ui, `http://localhost:${setting.httpPort}`, setting.issuer, new URL(setting.github.webUrl).origin])
  await context.route('**/*', (route) => (allowed.has(new URL(route.request().url()).origin) ? route.continue() : route.abort('blockedbyclient')))
  const page = await context.newPage()
  const visited: string[] = []
  const problems: string[] = []
  page.on('request', (request) => request.isNavigationRequest() && visited.push(request.url()))
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`))
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('response', (response) => response.status() >= 400 && problems.push(`${response.status()} ${response.request().method()} ${response.url()}`))
  return { context, page, visited, problems }
}

/** Opens the UI and signs in as `login` through our authorization server and the GitHub fake. */
export async function signIn(setting: UiSetting, profile: SignedIn, login: string): Promise<void> {
  const { page } = profile
  await page.goto(`${setting.ui}/ui/`)
  setting.github.setNextLogin(login)
  await page.getByRole('link', { name: 'Sign in' }).click()
  await page.waitForURL(`${setting.ui}/ui/`, { timeout: 10_000 })
  await page.getByText(`${login} (`).waitFor({ timeout: 5_000 })
}

/** Where each page's screenshots go (git-ignored): light and dark, for a reviewer to look at. */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'ui')

/**
 * axe-core's serious and critical findings on the page as it is now: every rule (WCAG 2.x A and AA and
 * best practices), or only `rules` (the dark scheme changes colours and nothing else: color-contrast).
 */
export async function seriousViolations(page: Page, rules?: string[]): Promise<string[]> {
  // Details of violations only: building those of every passing check is most of axe's time.
  const builder = new AxeBuilder({ page }).options({ resultTypes: ['violations'] })
  const results = await (rules ? builder.withRules(rules) : builder).analyze()
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`)
}

/** Once the page's heading is there and nothing says it is still loading. */
export async function pageSettled(page: Page): Promise<void> {
  await page.getByRole('heading', { level: 1 }).waitFor()
  await page.waitForFunction(() => !/\bLoading\b/.test(document.querySelector('main')?.textContent ?? 'Loading'), undefined, { timeout: 10_000 })
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true })
}
