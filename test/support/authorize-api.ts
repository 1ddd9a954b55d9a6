/**
 * @module The whole authorization flow in-process: the API app with /authorize, consent, /callback and
 * /token over a grants fixture, the GitHub fake on loopback, and a tiny browser (cookie jar, manual
 * redirects) that talks to the app through app.request and to the fake over a socket.
 */
import { authorizeRoutes, createApiApp, tokenRoutes } from '../../src/api/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import {
  accessFor,
  createGitHubClient,
  createIssuerResolver,
  parseClientMetadata,
  resolveResource,
  verifyAccessToken,
  type AuthorizeDeps,
  type GitHubApp,
} from '../../src/oauth/index.ts'
import { createGitHubFake } from '../fixtures/github-fake.ts'
import { CHALLENGE, createGrantsFixture, ISSUER, REDIRECT_URI, RESOURCE } from './grants.ts'

export const HOST = new URL(ISSUER).host
export const LOOPBACK_ISSUER = 'http://127.0.0.1:9000'
export const GITHUB_APP: GitHubApp = { clientId: 'Iv1.fakeapp', clientSecret: 'fake-app-secret' }

export async function createAuthorizeApi() {
  const f = await createGrantsFixture()
  const github = createGitHubFake({
    users: [
      { id: 1001, login: 'alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] },
      { id: 1003, login: 'mallory' },
    ],
    apps: [{ ...GITHUB_APP, callbackUrl: `${ISSUER}/callback` }],
  })
  const config = loadConfig({ DATA_DIR: ':memory:', API_PORT: '9000', LOG_LEVEL: 'silent', PUBLIC_URL: ISSUER, OAUTH_USER_USERS: 'alice', OAUTH_MCP_USERS: 'alice,mallory' })
  const logLines: string[] = []
  const logger = createLogger('debug', (line) => logLines.push(line))
  const resolveIssuer = createIssuerResolver({ publicUrl: ISSUER, apiOrigin: () => LOOPBACK_ISSUER, apiProxyHostnames: async () => [] })
  /** Tests switch the GitHub app off to see the server_error. */
  const settings = { githubApp: GITHUB_APP as GitHubApp | null }
  const deps: AuthorizeDeps = {
    resolveIssuer,
    findClient: (clientId) => f.registry.get(clientId),
    resolveResource: async (requested) => resolveResource(requested, { apiResource: ISSUER, proxyResources: (origin) => origin === RESOURCE }),
    githubAppFor: async () => settings.githubApp,
    github: createGitHubClient({ webUrl: github.webUrl, apiUrl: github.apiUrl, logger }),
    grants: f.grants,
    // The MCP proxy admits only alice; the API follows OAUTH_*_USERS.
    accessFor: async (user, resource) =>
      accessFor(user, resource === ISSUER ? null : { requiredUsers: ['alice'], adminUsers: null, userUsers: null, mcpUsers: null }, config.oauth),
    store: f.store,
    clock: f.clock,
    logger,
    callbackPath: '/callback',
  }
  const app = createApiApp({
    config,
    store: f.store,
    clock: f.clock,
    logger,
    keyRing: f.keyRing,
    startedAtMs: f.clock.nowMs(),
    verifyToken: (token) => verifyAccessToken(f.keyRing, f.clock, token, { issuers: [ISSUER], audience: ISSUER, isRevoked: f.grants.isRevoked }),
    extraRoutes: [...authorizeRoutes(deps), ...tokenRoutes({ grants: f.grants, registry: f.registry, resolveIssuer, logger })],
  })

  async function register(input: Record<string, unknown> = {}) {
    const parsed = parseClientMetadata({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], ...input })
    if (!parsed.ok) throw new Error(parsed.description)
    return (await f.registry.register(parsed.metadata)).client.client_id
  }

  return {
    f,
    app,
    github,
    settings,
    logLines,
    register,
    browser: (host = HOST) => createBrowser(app.request.bind(app), github.webUrl, host),
    close: async () => {
      await github.stop()
      await f.close()
    },
  }
}

export type AuthorizeApi = Awaited<ReturnType<typeof createAuthorizeApi>>

/** The parameters of a good authorization request; `overrides` with undefined drop a parameter. */
export function authorizePath(clientId: string, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'af0ifjsldkj',
    ...overrides,
  }
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value)
  return `/authorize?${query}`
}

type AppRequest = (input: string, init?: RequestInit) => Response | Promise<Response>

/** A browser: one cookie jar (name → value, attributes ignored), no automatic redirects. */
export function createBrowser(appRequest: AppRequest, githubUrl: string, host: string) {
  const jar = new Map<string, string>()
  const setCookies: string[] = []
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      setCookies.push(line)
      const [pair] = line.split(';')
      const equals = pair!.indexOf('=')
      jar.set(pair!.slice(0, equals).trim(), pair!.slice(equals + 1).trim())
    }
    return response
  }
  const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')

  async function request(target: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    // GitHub is a real server on loopback; everything else is our app on `host`.
    if (target.startsWith(githubUrl)) return fetch(target, { redirect: 'manual' })
    const url = new URL(target, `https://${host}`)
    const headers: Record<string, string> = { host, ...(jar.size > 0 ? { cookie: cookieHeader() } : {}), ...init.headers }
    return remember(await appRequest(`${url.pathname}${url.search}`, { method: init.method ?? 'GET', headers, body: init.body }))
  }

  return {
    jar,
    setCookies,
    get: (target: string) => request(target),
    postForm: (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      request(path, { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }),
  }
}

export type Browser = ReturnType<typeof createBrowser>

export const ticketOf = (html: string): string => {
  const match = /name="ticket" value="([^"]+)"/.exec(html)
  if (!match) throw new Error(`no consent ticket in page: ${html.slice(0, 300)}`)
  return match[1]!
}

export const locationOf = (response: Response): URL => {
  const location = response.headers.get('location')
  if (location === null) throw new Error(`expected a redirect, got ${response.status}`)
  return new URL(location)
}
