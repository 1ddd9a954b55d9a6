/**
 * @module What the authorization server tells the OAuth activity log (issue #12): logins and their
 * refusals, consent, tokens issued, refreshed, refused and revoked, refresh-token reuse, client
 * registration. Said through one function the composition root injects (the log lives in logs/,
 * which this module may not import); the root adds the request's address, user agent, time and node.
 *
 * Never a token, code, state, secret or hash: only who (login and id), which client, which resource,
 * which scopes, and why. `reason` is always one of our own words, never text from a request.
 */

import type { OAuthActivityGrant, OAuthActivityType } from '../lib/index.ts'

// The kinds are named in lib/, shared with the log that keeps them.
export { OAUTH_ACTIVITY_TYPES, type OAuthActivityGrant, type OAuthActivityType } from '../lib/index.ts'

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
