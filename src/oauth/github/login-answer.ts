/**
 * @module Reads an answer of GitHub's `/login/oauth/access_token` and `/login/device/code`: always status 200,
 * errors included, as JSON because we send `Accept: application/json`.
 * @see https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
 * @see https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors
 */
import * as v from 'valibot'
import { forLog, parseBody, splitScopes, TokenSchema, type HttpOutcome } from './http.ts'

const ErrorAnswerSchema = v.object({
  error: v.pipe(v.string(), v.regex(/^[\x20-\x7e]{1,100}$/)),
  error_description: v.optional(v.string()),
  /** Sent with `slow_down` (RFC 8628 §3.5 leaves it implicit; GitHub sends the new interval). */
  interval: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3600))),
})

const TokenAnswerSchema = v.object({
  access_token: TokenSchema,
  // RFC 6749 §5.1: token_type is REQUIRED; GitHub sends "bearer".
  token_type: v.pipe(v.string(), v.check((type) => type.toLowerCase() === 'bearer', 'expected token_type bearer')),
  scope: v.optional(v.string()),
})

export type LoginAnswer =
  | { readonly kind: 'token'; readonly accessToken: string; readonly scopes: readonly string[] }
  | { readonly kind: 'error'; readonly error: string; readonly detail: string; readonly intervalSec?: number }
  | { readonly kind: 'failed'; readonly detail: string }

/** Any other status than 200 (a 5xx page, a 404, a redirect) or an unreadable body is a failure. */
export function okJson(outcome: HttpOutcome): { ok: true; body: unknown } | { ok: false; detail: string } {
  if (!outcome.ok) return outcome
  if (outcome.status !== 200) return { ok: false, detail: `HTTP ${outcome.status}` }
  if (outcome.body === undefined) return { ok: false, detail: 'HTTP 200 with a body that is not JSON' }
  return { ok: true, body: outcome.body }
}

/** GitHub's error answer (`error`, `error_description`, `interval`), or null when the body is not one. */
export function readErrorAnswer(body: unknown): Extract<LoginAnswer, { kind: 'error' }> | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null
  const parsed = parseBody(ErrorAnswerSchema, body)
  if (!parsed.ok) return null
  const { error, error_description: description, interval } = parsed.value
  const detail = forLog(description ? `${error}: ${description}` : error)
  return interval === undefined ? { kind: 'error', error, detail } : { kind: 'error', error, detail, intervalSec: interval }
}

export function readTokenAnswer(outcome: HttpOutcome): LoginAnswer {
  const json = okJson(outcome)
  if (!json.ok) return { kind: 'failed', detail: json.detail }
  const error = readErrorAnswer(json.body)
  if (error) return error
  const token = parseBody(TokenAnswerSchema, json.body)
  if (!token.ok) return { kind: 'failed', detail: token.detail }
  return { kind: 'token', accessToken: token.value.access_token, scopes: splitScopes(token.value.scope) }
}
