/** @module Who an authorization is for: a GitHub account, as the upstream login reported it. */

export interface OAuthUser {
  /** GitHub's numeric user id, as a string: stable across renames. Tokens carry it as `sub`. */
  readonly sub: string
  /** The GitHub login at the time of the grant. */
  readonly username: string
  /** The primary, verified email, when GitHub reports one. */
  readonly email?: string
}
