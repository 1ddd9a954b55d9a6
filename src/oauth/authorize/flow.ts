/**
 * @module The browser flow of the authorization endpoint, without HTTP: validate the request, ask
 * for consent (MCP security best practices, "confused deputy": this server logs in with one static
 * GitHub app on behalf of any registered client, so the user must approve each client before GitHub
 * is involved, since GitHub's own "already authorized" skip would otherwise approve for them), then
 * send the browser to GitHub with a single-use state, and finish at /callback.
 */
import { sha256Hex } from '../../lib/index.ts'
import { isLoopbackRedirectUri, proxyHostnameOf, type OAuthClient } from '../clients/index.ts'
import { DEFAULT_GITHUB_SCOPE } from '../github/index.ts'
import { finishLogin } from './callback.ts'
import { errorRedirect, page, type AuthorizeDeps, type AuthorizeOutcome, type ConsentView, type PendingAuthorization } from './model.ts'
import { checkAuthorizationRequest } from './request.ts'
import { createFlowSessions } from './sessions.ts'

export type ConsentDecision = 'approve' | 'deny'

export interface AuthorizationFlow {
  /** GET /authorize. `browserId` is the browser cookie's value (the caller sets one first when absent). */
  authorize(query: URLSearchParams, issuer: string, browserId: string): Promise<AuthorizeOutcome>
  /** POST /authorize/consent: the page's CSRF ticket and the button pressed. */
  decide(ticket: string, decision: ConsentDecision, issuer: string, browserId: string | null): Promise<AuthorizeOutcome>
  /** GET /callback. */
  callback(query: URLSearchParams, issuer: string, browserId: string | null): Promise<AuthorizeOutcome>
}

const NO_GITHUB_APP = 'no GitHub OAuth app is configured for this resource: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, or the proxy\'s github-oauth app'

/** Where the browser goes after the flow: a web host, or the app that owns a private-use scheme. */
function redirectTargetOf(redirectUri: string): string {
  const url = new URL(redirectUri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : url.protocol.slice(0, -1)
}

export function createAuthorizationFlow(deps: AuthorizeDeps): AuthorizationFlow {
  const sessions = createFlowSessions(deps.store, deps.clock, deps.consentTtlSec)
  const browserHashOf = (browserId: string) => sha256Hex(`oauth-browser:${browserId}`)

  async function goToGitHub(pending: PendingAuthorization): Promise<AuthorizeOutcome> {
    const app = await deps.githubAppFor(pending.resource)
    if (!app) {
      deps.logger.error('authorization impossible: no GitHub app', { resource: pending.resource })
      return errorRedirect(pending, 'server_error', NO_GITHUB_APP)
    }
    const state = await sessions.createLoginState(pending)
    const scope = (await deps.githubScopeFor?.(pending.resource)) ?? DEFAULT_GITHUB_SCOPE
    return { kind: 'redirect', location: deps.github.authorizeUrl({ app, redirectUri: `${pending.issuer}${deps.callbackPath}`, state, scope }) }
  }

  function consentView(client: OAuthClient, pending: PendingAuthorization, ticket: string): ConsentView {
    return {
      clientId: client.client_id,
      clientName: client.client_name ?? null,
      proxy: proxyHostnameOf(client.client_id),
      redirectUri: pending.redirectUri,
      redirectTarget: redirectTargetOf(pending.redirectUri),
      isLoopbackRedirect: isLoopbackRedirectUri(pending.redirectUri),
      resource: pending.resource,
      scopes: pending.scopes,
      ticket,
    }
  }

  return {
    async authorize(query, issuer, browserId) {
      const checked = await checkAuthorizationRequest(deps, query, issuer, browserHashOf(browserId))
      if (!checked.ok) return checked.outcome
      const { pending, client } = checked
      // Before the consent page, so nobody approves a login that cannot happen.
      if (!(await deps.githubAppFor(pending.resource))) return errorRedirect(pending, 'server_error', NO_GITHUB_APP)
      if (deps.clientRules?.skipsConsent?.(client) || (await sessions.hasConsent(pending))) return goToGitHub(pending)
      return { kind: 'consent', view: consentView(client, pending, await sessions.createTicket(pending)) }
    },

    async decide(ticket, decision, issuer, browserId) {
      const pending = browserId === null ? null : await sessions.takeTicket(ticket, browserHashOf(browserId))
      // A forged or replayed form, or one posted from another browser (CSRF): no redirect anywhere.
      if (!pending || pending.issuer !== issuer) {
        return page(403, 'Consent not accepted', 'This consent form has expired, was already used, or was not issued to this browser. Go back to the application and start again.')
      }
      const consent = { client_id: pending.clientId, resource: pending.resource, ...(pending.scopes === null ? {} : { scopes: pending.scopes }) }
      if (decision === 'deny') {
        deps.logger.info('authorization denied at consent', { clientId: pending.clientId, resource: pending.resource })
        deps.recordActivity?.({ type: 'consent_denied', ...consent })
        return errorRedirect(pending, 'access_denied', 'the user denied the request')
      }
      deps.recordActivity?.({ type: 'consent_granted', ...consent })
      await sessions.rememberConsent(pending)
      return goToGitHub(pending)
    },

    callback: (query, issuer, browserId) => finishLogin(deps, sessions, query, issuer, browserId === null ? null : browserHashOf(browserId)),
  }
}
