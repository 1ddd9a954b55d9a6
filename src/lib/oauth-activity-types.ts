/**
 * @module The kinds of OAuth activity (issue #12): named once, here, because the authorization server
 * that reports them (oauth/) and the log that keeps and queries them (logs/) may not import each other.
 */

export const OAUTH_ACTIVITY_TYPES = [
  /** A GitHub login that produced a grant (/callback, or the device grant approved). */
  'login',
  /** A login that did not: GitHub said no, the user is not allowed, holds none of the scopes, GitHub failed. */
  'login_refused',
  'consent_granted',
  'consent_denied',
  /** A first token pair: the authorization code exchanged, or the device grant's. */
  'token_issued',
  /** A token request refused: the grant failure's reason (RFC 6749 §5.2 error on the wire). */
  'token_refused',
  'token_refreshed',
  /** RFC 9700 §4.14.2: a rotated-away refresh token came back; its family was revoked. */
  'refresh_reuse_detected',
  /** A token family ended (RFC 7009, reuse, replay, policy, admin, client deleted) or an access token was revoked. */
  'token_revoked',
  'client_registered',
  'client_updated',
  'client_deleted',
] as const
export type OAuthActivityType = (typeof OAUTH_ACTIVITY_TYPES)[number]

export const OAUTH_ACTIVITY_GRANTS = ['authorization_code', 'refresh_token', 'device_code'] as const
export type OAuthActivityGrant = (typeof OAUTH_ACTIVITY_GRANTS)[number]
