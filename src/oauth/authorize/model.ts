/**
 * @module The authorization endpoint's vocabulary: its dependencies, the pending request it carries
 * from /authorize through consent and GitHub to /callback, and the outcomes the HTTP layer renders.
 */
import * as v from 'valibot'
import type { Clock, Logger } from '../../lib/index.ts'
import type { Store } from '../../store/index.ts'
import type { RecordActivity } from '../activity.ts'
import type { ClientRules, OAuthClient } from '../clients/index.ts'
import type { GitHubApp, GitHubClient } from '../github/index.ts'
import type { Grants } from '../grants/index.ts'
import type { ResolveIssuer } from '../issuer.ts'
import type { Access } from '../policy.ts'
import { SCOPES, type Scope } from '../tokens/scopes.ts'
import type { OAuthUser } from '../user.ts'

export interface AuthorizeDeps {
  readonly resolveIssuer: ResolveIssuer
  /** A registered (DCR), metadata-document (CIMD) or proxy (`proxy:<hostname>`) client; null when unknown. */
  findClient(clientId: string): Promise<OAuthClient | null>
  /**
   * Which redirect URIs and resources a found client may use (the ClientFinder's rules: a proxy's own
   * client has a rule rather than a list). Absent: the registered redirect_uris, any resource.
   */
  readonly clientRules?: ClientRules
  /** RFC 8707: the canonical resource, or null (invalid_target). Absent → the API's own resource. */
  resolveResource(requested: string | undefined): Promise<string | null>
  /** The GitHub OAuth app logins for this resource use (the proxy's own, else the global one); null when none is configured. */
  githubAppFor(resource: string): Promise<GitHubApp | null>
  /** The GitHub scopes a login for this resource asks for (read:org only where memberships are checked); absent: DEFAULT_GITHUB_SCOPE. */
  githubScopeFor?(resource: string): Promise<string>
  readonly github: GitHubClient
  readonly grants: Grants
  /**
   * The allowlist, scope lists and GitHub memberships of the resource (decideSiteAccess), asked with
   * the GitHub token the login just produced.
   */
  accessFor(user: OAuthUser, resource: string, githubToken: string): Promise<Access>
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  /** Where GitHub sends the browser back, below the issuer: `${issuer}${callbackPath}`. */
  readonly callbackPath: string
  /** How long a consent decision is remembered per browser, client and resource (default 30 days). */
  readonly consentTtlSec?: number
  /** The OAuth activity log: logins, their refusals, consent. Absent: none. */
  readonly recordActivity?: RecordActivity
}

/**
 * A validated authorization request, as it waits for consent and then for GitHub. Everything the
 * code will be bound to is fixed here; nothing a later request says can change it.
 */
export const PendingAuthorizationSchema = v.object({
  issuer: v.string(),
  clientId: v.string(),
  redirectUri: v.string(),
  /** The client's state, echoed verbatim (null when it sent none). */
  state: v.nullable(v.string()),
  codeChallenge: v.string(),
  resource: v.string(),
  /** Null: the client named no scope, so it gets whatever the user is granted. */
  scopes: v.nullable(v.array(v.picklist(SCOPES))),
  /** SHA-256 hex of the browser cookie that started the request. */
  browserHash: v.string(),
})
export type PendingAuthorization = v.InferOutput<typeof PendingAuthorizationSchema>

/** What the consent page shows (every field is rendered escaped). */
export interface ConsentView {
  readonly clientId: string
  readonly clientName: string | null
  /** For a proxy's own client (`proxy:<hostname>`): the proxy's hostname, which the page names instead of a client. */
  readonly proxy: string | null
  readonly redirectUri: string
  /** The host (or private-use scheme) the browser will be sent to afterwards. */
  readonly redirectTarget: string
  readonly isLoopbackRedirect: boolean
  readonly resource: string
  readonly scopes: readonly Scope[] | null
  /** The CSRF ticket, for the form's hidden field. */
  readonly ticket: string
}

/** `page`: an HTML page and never a redirect (errors before redirect_uri is known good, bad state, CSRF). */
export interface PageOutcome {
  readonly kind: 'page'
  readonly status: 400 | 403 | 404
  readonly title: string
  readonly message: string
}

export type AuthorizeOutcome =
  | PageOutcome
  /** 302 after a GET, 303 after the consent POST (OAuth 2.1 §7.5.2: never 307). */
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'consent'; readonly view: ConsentView }

export const page = (status: PageOutcome['status'], title: string, message: string): PageOutcome => ({ kind: 'page', status, title, message })

/** RFC 6749 §4.1.2.1 error codes, plus RFC 8707's invalid_target. */
export type AuthorizationErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_target'

/**
 * RFC 6749 §4.1.2 / §4.1.2.1 with RFC 9207 §2: the authorization response or error, as query
 * parameters added to the redirect URI (whose own query is kept), always with `iss`.
 */
export function clientRedirect(redirectUri: string, issuer: string, state: string | null, fields: Record<string, string>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value)
  if (state !== null) url.searchParams.set('state', state)
  url.searchParams.set('iss', issuer)
  return url.href
}

export function errorRedirect(pending: Pick<PendingAuthorization, 'redirectUri' | 'issuer' | 'state'>, error: AuthorizationErrorCode, description: string): AuthorizeOutcome {
  return { kind: 'redirect', location: clientRedirect(pending.redirectUri, pending.issuer, pending.state, { error, error_description: description }) }
}
