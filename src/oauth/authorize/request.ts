/**
 * @module Validates an authorization request (OAuth 2.1 §4.1.1) in the order the errors must come:
 * first the client and its redirect URI, whose failures are shown to the user and never redirected
 * (OAuth 2.1 §4.1.2.1, RFC 9700 §4.11: the AS must not be an open redirector); then everything else,
 * whose failures go back to the now-trusted redirect URI with `state` and `iss` (RFC 9207).
 */
import { redirectUriMatches, type ClientRules, type OAuthClient } from '../clients/index.ts'
import { isS256Challenge } from '../grants/index.ts'
import { isScope, SCOPES, type Scope } from '../tokens/scopes.ts'
import { errorRedirect, page, type AuthorizeDeps, type AuthorizeOutcome, type PendingAuthorization } from './model.ts'

/** A state longer than this is not a client's nonce but an attempt to bloat our store or the redirect. */
const MAX_STATE_LENGTH = 2048

export type RequestCheck = { readonly ok: true; readonly pending: PendingAuthorization; readonly client: OAuthClient } | { readonly ok: false; readonly outcome: AuthorizeOutcome }

const refuse = (outcome: AuthorizeOutcome): RequestCheck => ({ ok: false, outcome })

/** Without a finder's rules: the client's registered redirect URIs, and any resource. */
const REGISTERED_ONLY: ClientRules = {
  acceptsRedirectUri: async (client, uri) => client.redirect_uris.some((registered) => redirectUriMatches(registered, uri)),
  mayUseResource: async () => true,
}

/** RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once." */
type Single = { readonly ok: true; readonly value: string | undefined } | { readonly ok: false }
function single(query: URLSearchParams, name: string): Single {
  const all = query.getAll(name)
  return all.length > 1 ? { ok: false } : { ok: true, value: all[0] }
}

/** RFC 6749 §3.3: space-delimited; null when absent or empty (the user's granted scopes then apply). */
function parseScope(text: string | undefined): Scope[] | null | 'invalid' {
  if (text === undefined || text.trim() === '') return null
  const names = text.split(' ').filter((name) => name !== '')
  if (!names.every(isScope)) return 'invalid'
  return SCOPES.filter((scope) => names.includes(scope))
}

export async function checkAuthorizationRequest(
  deps: Pick<AuthorizeDeps, 'findClient' | 'resolveResource' | 'clientRules'>,
  query: URLSearchParams,
  issuer: string,
  browserHash: string,
): Promise<RequestCheck> {
  // ---- Not yet redirectable: the user sees a page. ----
  const clientId = single(query, 'client_id')
  if (!clientId.ok || !clientId.value) return refuse(page(400, 'Invalid request', 'The request must name exactly one client_id.'))
  const client = await deps.findClient(clientId.value)
  if (!client) return refuse(page(400, 'Unknown application', `No application with client_id ${clientId.value} is registered here.`))
  const rules = deps.clientRules ?? REGISTERED_ONLY

  const requested = single(query, 'redirect_uri')
  if (!requested.ok) return refuse(page(400, 'Invalid request', 'The request must not repeat redirect_uri.'))
  let redirectUri: string
  if (requested.value === undefined) {
    // OAuth 2.1 §4.1.1: optional only when the client registered exactly one.
    if (client.redirect_uris.length !== 1) return refuse(page(400, 'Invalid request', 'redirect_uri is required: this application did not register exactly one.'))
    redirectUri = client.redirect_uris[0]!
  } else {
    // OAuth 2.1 §4.1.1, RFC 9700 §2.1: exact string match; only a loopback port may differ (RFC 8252 §7.3).
    // RFC 6749 §4.1.2.1: an unregistered redirect_uri is never redirected to; the user sees a page.
    if (!(await rules.acceptsRedirectUri(client, requested.value))) {
      return refuse(page(400, 'Redirect URI not registered', `The redirect_uri ${requested.value} is not registered for this application, so you were not sent there.`))
    }
    redirectUri = requested.value
  }

  // ---- From here on, errors go back to the client. ----
  const state = single(query, 'state')
  const back = { redirectUri, issuer, state: state.ok && state.value !== undefined && state.value.length <= MAX_STATE_LENGTH ? state.value : null }
  if (!state.ok) return refuse(errorRedirect(back, 'invalid_request', 'state must not be repeated (RFC 6749 §3.1)'))
  if (state.value !== undefined && state.value.length > MAX_STATE_LENGTH) return refuse(errorRedirect(back, 'invalid_request', `state must be at most ${MAX_STATE_LENGTH} characters`))

  const params = ['response_type', 'code_challenge', 'code_challenge_method', 'scope'].map((name) => [name, single(query, name)] as const)
  const repeated = params.find(([, value]) => !value.ok)
  if (repeated) return refuse(errorRedirect(back, 'invalid_request', `${repeated[0]} must not be repeated (RFC 6749 §3.1)`))
  const [responseType, challenge, method, scope] = params.map(([, value]) => (value.ok ? value.value : undefined))

  if (responseType === undefined) return refuse(errorRedirect(back, 'invalid_request', 'response_type is required'))
  // OAuth 2.1 drops the implicit grant: "code" is the only response type.
  if (responseType !== 'code') return refuse(errorRedirect(back, 'unsupported_response_type', 'response_type must be code'))
  if (!client.response_types.includes('code') || !client.grant_types.includes('authorization_code')) {
    return refuse(errorRedirect(back, 'unauthorized_client', 'this client is not registered for the authorization_code grant'))
  }
  // OAuth 2.1 §4.1.1 / RFC 9700 §2.1.1: PKCE for every client, S256 only (a missing method means plain, RFC 7636 §4.3).
  if (challenge === undefined) return refuse(errorRedirect(back, 'invalid_request', 'code_challenge is required (PKCE, OAuth 2.1 §4.1.1)'))
  if (method !== 'S256') return refuse(errorRedirect(back, 'invalid_request', 'code_challenge_method must be S256 (plain is not supported)'))
  if (!isS256Challenge(challenge)) return refuse(errorRedirect(back, 'invalid_request', 'code_challenge must be 43 base64url characters (RFC 7636 §4.2)'))

  // RFC 8707 §2: one resource per authorization here, since every token has exactly one audience.
  const resources = query.getAll('resource')
  const resource = resources.length > 1 ? null : await deps.resolveResource(resources[0])
  if (resource === null) return refuse(errorRedirect(back, 'invalid_target', 'resource must be exactly one resource this server issues tokens for (RFC 8707 §2)'))
  if (!(await rules.mayUseResource(client, resource))) return refuse(errorRedirect(back, 'invalid_target', 'this client may only ask for tokens for its own proxy (RFC 8707 §2)'))

  const scopes = parseScope(scope)
  if (scopes === 'invalid') return refuse(errorRedirect(back, 'invalid_scope', `scope may contain only ${SCOPES.join(', ')}`))

  return {
    ok: true,
    client,
    pending: { issuer, clientId: client.client_id, redirectUri, state: back.state, codeChallenge: challenge, resource, scopes, browserHash },
  }
}
