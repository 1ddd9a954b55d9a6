/**
 * @module What the authorization server tells the OAuth activity log (issue #12): logins and their
 * refusals, consent, tokens issued, refreshed, refused and revoked, refresh-token reuse, client
 * registration. Said through one function the composition root injects (the log lives in logs/,
 * which this module may not import); the root adds the request's address, user agent, time and node.
 *
 * Never a token, code, state, secret or hash: only who (login and id), which client, which resource,
 * which scopes, and why. `reason` is always one of our own words, never text from a request.
 */

export type OAuthActivityType =
  /** A GitHub login that produced a grant (/callback, or the device grant approved). */
  | 'login'
  /** A login that did not: GitHub said no, the user is not allowed, holds none of the scopes, GitHub failed. */
  | 'login_refused'
  | 'consent_granted'
  | 'consent_denied'
  /** A first token pair: the authorization code exchanged, or the device grant's. */
  | 'token_issued'
  /** A token request refused: the grant failure's reason (RFC 6749 §5.2 error on the wire). */
  | 'token_refused'
  | 'token_refreshed'
  /** RFC 9700 §4.14.2: a rotated-away refresh token came back; its family was revoked. */
  | 'refresh_reuse_detected'
  /** A token family ended (RFC 7009, reuse, replay, policy, admin, client deleted) or an access token was revoked. */
  | 'token_revoked'
  | 'client_registered'
  | 'client_updated'
  | 'client_deleted'

export const OAUTH_ACTIVITY_TYPES: readonly OAuthActivityType[] = [
  'login',
  'login_refused',
  'consent_granted',
  'consent_denied',
  'token_issued',
  'token_refused',
  'token_refreshed',
  'refresh_reuse_detected',
  'token_revoked',
  'client_registered',
  'client_updated',
  'client_deleted',
]

export type OAuthActivityGrant = 'authorization_code' | 'refresh_token' | 'device_code'

/** One activity, in the wire names the log stores. Absent fields are unknown at that point. */
export interface OAuthActivity {
  readonly type: OAuthActivityType
  /** The GitHub login. */
  readonly user?: string
  /** The GitHub user id (a token's sub). */
  readonly user_id?: string
  readonly client_id?: string
  /** The resource (RFC 8707) the grant is for. */
  readonly resource?: string
  readonly scopes?: readonly string[]
  readonly grant?: OAuthActivityGrant
  /** Why it was refused or revoked, in our own words (a failure reason, a denial). */
  readonly reason?: string
}

/** Synchronous, never throws, never waits: the log queues the activity and writes it later. */
export type RecordActivity = (activity: OAuthActivity) => void

export const ignoreActivity: RecordActivity = () => {}
