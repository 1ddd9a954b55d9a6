/**
 * @module /callback: GitHub sends the browser back with our `state` and its code. The state must be
 * one we issued, unused, and issued to this very browser (MCP security best practices; CVE-2026-27124
 * was a callback accepted without that binding); anything else is a page, never a redirect, since
 * without a good state we do not know whom to redirect to. Then the user is looked up, the resource's
 * allowlist decides, and the client gets a code bound to everything it asked for.
 */
import { readAuthorizeCallback, type LoginFailureReason } from '../github/index.ts'
import { errorRedirect, clientRedirect, page, type AuthorizationErrorCode, type AuthorizeDeps, type AuthorizeOutcome } from './model.ts'
import type { FlowSessions } from './sessions.ts'

/** GitHub's failure, as the client hears it: the user saying no is access_denied, our own trouble is not. */
const LOGIN_ERRORS: Record<LoginFailureReason, [AuthorizationErrorCode, string]> = {
  denied: ['access_denied', 'the user did not authorize the GitHub login'],
  bad_code: ['access_denied', 'the GitHub login could not be completed (its code was refused)'],
  bad_credentials: ['server_error', 'GitHub refused this server\'s OAuth app credentials'],
  redirect_mismatch: ['server_error', 'GitHub refused the callback URL: the GitHub OAuth app\'s callback URL must be this issuer\'s /callback'],
  upstream: ['temporarily_unavailable', 'GitHub could not be reached or answered unexpectedly; try again'],
}

const BAD_STATE = page(400, 'Login link expired', 'This sign-in was not started in this browser, was already used, or has expired. Go back to the application and start again.')

export async function finishLogin(
  deps: AuthorizeDeps,
  sessions: FlowSessions,
  query: URLSearchParams,
  issuer: string,
  browserHash: string | null,
): Promise<AuthorizeOutcome> {
  const callback = readAuthorizeCallback(query)
  if (callback.state === null || browserHash === null) return BAD_STATE
  const pending = await sessions.takeLoginState(callback.state, browserHash)
  // A state issued on another host is another issuer's login (RFC 9207's mix-up, at our own edge).
  if (!pending || pending.issuer !== issuer) return BAD_STATE

  const record = deps.recordActivity ?? (() => {})
  const where = { client_id: pending.clientId, resource: pending.resource, grant: 'authorization_code' } as const
  /** `reason` is the activity log's: which step refused, in our words (the client hears only `error`). */
  const fail = (error: AuthorizationErrorCode, description: string, reason: string, detail: { username?: string; sub?: string; denial?: string } = {}) => {
    deps.logger.info('authorization refused', { clientId: pending.clientId, resource: pending.resource, error, reason, ...detail })
    record({ type: 'login_refused', ...where, ...(detail.username === undefined ? {} : { user: detail.username }), ...(detail.sub === undefined ? {} : { user_id: detail.sub }), reason })
    return errorRedirect(pending, error, description)
  }

  if (!callback.ok) return fail(...LOGIN_ERRORS[callback.reason], `github_${callback.reason}`)
  const app = await deps.githubAppFor(pending.resource)
  if (!app) return fail('server_error', 'no GitHub OAuth app is configured for this resource', 'no_github_app')
  const exchanged = await deps.github.exchangeCode({ app, code: callback.code, redirectUri: `${issuer}${deps.callbackPath}` })
  if (!exchanged.ok) return fail(...LOGIN_ERRORS[exchanged.reason], `github_${exchanged.reason}`)
  const found = await deps.github.fetchUser(exchanged.accessToken)
  if (!found.ok) return fail('temporarily_unavailable', 'the GitHub account could not be read; try again', `github_user_${found.reason}`)
  const { user } = found
  const who = { username: user.username, sub: user.sub }

  const access = await deps.accessFor(user, pending.resource, exchanged.accessToken)
  if (access.denial === 'github_unavailable') return fail('temporarily_unavailable', 'GitHub could not confirm the organisation or team membership; try again', 'github_unavailable', who)
  // The same answer whichever list refused: the user lists, or no membership in a listed organisation or team.
  if (!access.allowed) return fail('access_denied', `the GitHub user ${user.username} is not allowed to use this resource`, access.denial ?? 'user_not_allowed', { ...who, ...(access.denial ? { denial: access.denial } : {}) })
  const scopes = pending.scopes === null ? access.scopes : pending.scopes.filter((scope) => access.scopes.includes(scope))
  if (scopes.length === 0) return fail('access_denied', `the GitHub user ${user.username} holds none of the requested scopes`, 'no_requested_scope_held', who)

  const code = await deps.grants.issueAuthorizationCode({
    issuer: pending.issuer,
    resource: pending.resource,
    clientId: pending.clientId,
    user,
    scopes,
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    // Kept (sealed) only where every refresh must ask GitHub about memberships again.
    ...(access.checkedMembership ? { upstreamToken: exchanged.accessToken } : {}),
  })
  deps.logger.info('authorization granted', { clientId: pending.clientId, resource: pending.resource, username: user.username, scopes: scopes.join(' ') })
  record({ type: 'login', ...where, user: user.username, user_id: user.sub, scopes })
  return { kind: 'redirect', location: clientRedirect(pending.redirectUri, pending.issuer, pending.state, { code }) }
}
