/** @module The GitHub upstream's vocabulary: OAuth app credentials and the tagged results of each call. */
import type { OAuthUser } from '../user.ts'

/** A GitHub OAuth app, as registered at github.com/settings/developers (or on GitHub Enterprise Server). */
export interface GitHubApp {
  readonly clientId: string
  readonly clientSecret: string
}

/**
 * Why a web-flow login failed (the callback's `error` or the code exchange's):
 * - `denied`: the user refused our app;
 * - `bad_code`: the code is unknown, expired, already used, or another app's;
 * - `bad_credentials`: GitHub refused our client id/secret, or the app is suspended;
 * - `redirect_mismatch`: the redirect URI is not the one authorized / not under the app's callback URL;
 * - `upstream`: GitHub was unreachable, slow, answered 5xx, or answered something we cannot read.
 */
export type LoginFailureReason = 'denied' | 'bad_code' | 'bad_credentials' | 'redirect_mismatch' | 'upstream'

/** `detail` is for the logs: GitHub's error code and description or our own words; never a token or secret. */
export interface LoginFailure {
  readonly ok: false
  readonly reason: LoginFailureReason
  readonly detail: string
}

export type ExchangeCodeResult =
  | { readonly ok: true; readonly accessToken: string; readonly scopes: readonly string[] }
  | LoginFailure

/** What GitHub sent back to our callback: a code to exchange, or the error it redirected with. */
export type AuthorizeCallback =
  | { readonly ok: true; readonly code: string; readonly state: string | null }
  | (LoginFailure & { readonly state: string | null })

/**
 * `bad_token`: GitHub refused the access token (401: revoked, expired or unknown).
 * `upstream`: as for LoginFailureReason.
 */
export type FetchUserResult =
  | {
      readonly ok: true
      readonly user: OAuthUser
      /** The profile's display name, when set. */
      readonly name: string | null
    }
  | { readonly ok: false; readonly reason: 'bad_token' | 'upstream'; readonly detail: string }

/** RFC 8628 §3.2, as GitHub's `/login/device/code` answers it. */
export type DeviceFlowStart =
  | {
      readonly ok: true
      readonly deviceCode: string
      readonly userCode: string
      readonly verificationUri: string
      readonly expiresInSec: number
      readonly intervalSec: number
    }
  | {
      readonly ok: false
      /** `device_flow_disabled`: the app does not have "Enable Device Flow" ticked. */
      readonly reason: 'device_flow_disabled' | 'bad_credentials' | 'upstream'
      readonly detail: string
    }

/** RFC 8628 §3.5: one poll of GitHub's token endpoint for a device code. */
export type DevicePoll =
  | { readonly status: 'pending' }
  /** The interval to use from now on (GitHub adds 5 s on every `slow_down`). */
  | { readonly status: 'slow_down'; readonly intervalSec: number }
  | { readonly status: 'expired' }
  | { readonly status: 'denied' }
  | { readonly status: 'approved'; readonly accessToken: string; readonly scopes: readonly string[] }
  | { readonly status: 'error'; readonly detail: string }
