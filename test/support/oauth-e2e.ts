/**
 * @module The whole server on a known loopback port (so the issuer is http://127.0.0.1:PORT exactly) with the
 * GitHub fake as its GitHub, and a fetch-based browser (cookie jar, manual redirects) that walks an
 * authorization URL through the consent page's own form, the GitHub fake and /callback back to the client.
 */
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'
import { startTestEdge, type TestEdge } from './edge.ts'
import { freePort } from './ports.ts'

export const GITHUB_APP = { clientId: 'Iv1.e2eapp', clientSecret: 'e2e-app-secret' }

export interface OAuthE2E {
  readonly edge: TestEdge
  readonly github: GitHubFake
  /** http://127.0.0.1:PORT: the API's URL, PUBLIC_URL and the issuer. */
  readonly issuer: string
  stop(): Promise<void>
}

/** alice (admin via OAUTH_ADMIN_USERS) can sign in at the GitHub fake. */
export async function startOAuthE2E(env: Record<string, string> = {}): Promise<OAuthE2E> {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const github = createGitHubFake({
    users: [{ id: 1001, login: 'alice', name: 'Alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] }],
    apps: [{ ...GITHUB_APP, callbackUrl: `${issuer}/callback` }],
  })
  const edge = await startTestEdge({
    API_PORT: String(port),
    PUBLIC_URL: issuer,
    GITHUB_URL: github.webUrl,
    GITHUB_API_URL: github.apiUrl,
    GITHUB_CLIENT_ID: GITHUB_APP.clientId,
    GITHUB_CLIENT_SECRET: GITHUB_APP.clientSecret,
    OAUTH_ADMIN_USERS: 'alice',
    ...env,
  })
  return {
    edge,
    github,
    issuer,
    stop: async () => {
      await edge.stop()
      await github.stop()
    },
  }
}

export interface BrowserRun {
  /** The URL the browser was finally sent to (the client's redirect URI with code, state and iss). */
  readonly final: URL
  /** Every URL visited, in order. */
  readonly visited: string[]
  /** The consent page's HTML. */
  readonly consentHtml: string
}

const decode = (value: string) =>
  value.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')

/** The consent page's form as a browser would submit it with the button named `decision=approve`. */
export function consentForm(html: string, pageUrl: string): { action: URL; fields: Record<string, string> } {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) throw new Error(`no form on the consent page: ${html.slice(0, 300)}`)
  const attr = (tag: string, name: string) => {
    const match = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)
    return match ? decode(match[1]!) : undefined
  }
  if ((attr(form[1]!, 'method') ?? 'get').toLowerCase() !== 'post') throw new Error('consent form is not a POST')
  const action = new URL(attr(form[1]!, 'action') ?? '', pageUrl)
  const fields: Record<string, string> = {}
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input[0], 'name')
    if (name !== undefined) fields[name] = attr(input[0], 'value') ?? ''
  }
  const approve = [...form[2]!.matchAll(/<button\b[^>]*>/gi)].map((b) => b[0]).find((b) => attr(b, 'value') === 'approve')
  if (!approve) throw new Error('no approve button on the consent page')
  fields[attr(approve, 'name')!] = 'approve'
  return { action, fields }
}

/**
 * Follows `authorizationUrl` like a browser until it leaves both the issuer and GitHub (the client's
 * redirect URI, never fetched). Signs in at GitHub as `login` and approves consent through the page's form.
 */
export async function driveBrowser(t: OAuthE2E, authorizationUrl: string | URL, login = 'alice'): Promise<BrowserRun> {
  const jar = new Map<string, string>()
  const visited: string[] = []
  let consentHtml = ''
  const ours = (url: URL) => url.origin === t.issuer || url.origin === t.github.webUrl
  const remember = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const equals = pair!.indexOf('=')
      jar.set(pair!.slice(0, equals).trim(), pair!.slice(equals + 1).trim())
    }
  }
  const send = async (url: URL, init: RequestInit = {}) => {
    visited.push(url.href)
    const headers = new Headers(init.headers)
    if (url.origin === t.issuer && jar.size > 0) headers.set('cookie', [...jar].map(([n, v]) => `${n}=${v}`).join('; '))
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    if (url.origin === t.issuer) remember(response)
    return response
  }

  let url = new URL(authorizationUrl)
  let response = await send(url)
  for (let hops = 0; hops < 10; hops++) {
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location')!, url)
      if (!ours(next)) return { final: next, visited, consentHtml }
      if (next.origin === t.github.webUrl && next.pathname === '/login/oauth/authorize') t.github.setNextLogin(login)
      url = next
      response = await send(url)
      continue
    }
    if (response.status === 200 && (response.headers.get('content-type') ?? '').startsWith('text/html')) {
      consentHtml = await response.text()
      const { action, fields } = consentForm(consentHtml, url.href)
      url = action
      response = await send(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.issuer },
        body: new URLSearchParams(fields).toString(),
      })
      continue
    }
    throw new Error(`browser stuck at ${url.href}: ${response.status} ${(await response.text()).slice(0, 300)}`)
  }
  throw new Error(`too many redirects: ${visited.join(' → ')}`)
}

/** GET /system/info with a bearer token. */
export const systemInfo = (t: OAuthE2E, accessToken: string) => fetch(`${t.issuer}/system/info`, { headers: { authorization: `Bearer ${accessToken}` } })
