/**
 * @module GitHub's web application flow: the authorize URL, reading the callback, and the code exchange.
 * @see https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#web-application-flow
 */
import { forLog, sendRequest, type HttpDeps } from './http.ts'
import { readTokenAnswer } from './login-answer.ts'
import type { AuthorizeCallback, ExchangeCodeResult, GitHubApp, LoginFailureReason } from './types.ts'

/** Enough to read the user's id, login, name and email addresses; nothing else. */
export const DEFAULT_GITHUB_SCOPE = 'read:user user:email'
/**
 * Asked only for a resource that admits by organisation or team: `read:org` reads the user's private
 * memberships too, so it is not asked of anyone who does not need it.
 * @see https://docs.github.com/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
 */
export const MEMBERSHIP_GITHUB_SCOPE = `${DEFAULT_GITHUB_SCOPE} read:org`

export interface AuthorizeUrlInput {
  readonly app: Pick<GitHubApp, 'clientId'>
  readonly redirectUri: string
  /** Ours: single-use and bound to the browser by the caller; GitHub only echoes it back. */
  readonly state: string
  readonly scope?: string
}

export function buildAuthorizeUrl(webUrl: string, input: AuthorizeUrlInput): string {
  const url = new URL(`${webUrl}/login/oauth/authorize`)
  url.search = new URLSearchParams({
    client_id: input.app.clientId,
    redirect_uri: input.redirectUri,
    scope: input.scope ?? DEFAULT_GITHUB_SCOPE,
    state: input.state,
  }).toString()
  return url.href
}

/**
 * GitHub's error codes, from the callback redirect ("Troubleshooting authorization request errors") and from
 * the token endpoint ("Troubleshooting OAuth app access token request errors"). Anything else is `upstream`.
 */
const LOGIN_ERRORS = new Map<string, LoginFailureReason>([
  ['access_denied', 'denied'],
  ['bad_verification_code', 'bad_code'],
  ['incorrect_client_credentials', 'bad_credentials'],
  ['application_suspended', 'bad_credentials'],
  ['redirect_uri_mismatch', 'redirect_mismatch'],
])

const reasonFor = (error: string): LoginFailureReason => LOGIN_ERRORS.get(error) ?? 'upstream'

/** Reads the query GitHub redirected to our callback with. Checking `state` is the caller's job. */
export function readAuthorizeCallback(query: URLSearchParams): AuthorizeCallback {
  const state = query.get('state')
  const error = query.get('error')
  if (error !== null) {
    const description = query.get('error_description')
    return { ok: false, reason: reasonFor(error), detail: forLog(description ? `${error}: ${description}` : error), state }
  }
  const code = query.get('code')
  // GitHub's codes are 20 hex digits; accept any short visible-ASCII value rather than guess a format.
  if (code === null || !/^[\x21-\x7e]{1,256}$/.test(code)) return { ok: false, reason: 'upstream', detail: 'callback without a usable code', state }
  return { ok: true, code, state }
}

export interface ExchangeCodeInput {
  readonly app: GitHubApp
  readonly code: string
  /** The redirect_uri sent to /login/oauth/authorize; GitHub checks they are equal. */
  readonly redirectUri: string
}

export async function exchangeCode(deps: HttpDeps, webUrl: string, input: ExchangeCodeInput): Promise<ExchangeCodeResult> {
  const outcome = await sendRequest(deps, {
    method: 'POST',
    url: `${webUrl}/login/oauth/access_token`,
    headers: { accept: 'application/json' },
    form: {
      client_id: input.app.clientId,
      client_secret: input.app.clientSecret,
      code: input.code,
      redirect_uri: input.redirectUri,
    },
  })
  const answer = readTokenAnswer(outcome)
  switch (answer.kind) {
    case 'token': return { ok: true, accessToken: answer.accessToken, scopes: answer.scopes }
    case 'error': return { ok: false, reason: reasonFor(answer.error), detail: answer.detail }
    case 'failed': return { ok: false, reason: 'upstream', detail: answer.detail }
  }
}
