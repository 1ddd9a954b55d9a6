/**
 * @module Who a GitHub access token belongs to: `GET /user` and `GET /user/emails` on the REST API.
 * @see https://docs.github.com/rest/users/users#get-the-authenticated-user
 * @see https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user
 */
import * as v from 'valibot'
import type { OAuthUser } from '../user.ts'
import { parseBody, sendRequest, TokenSchema, type HttpDeps, type HttpOutcome } from './http.ts'
import type { FetchUserResult } from './types.ts'

/** The REST API version we were written against; GitHub answers it for years after a newer one ships. */
export const GITHUB_API_VERSION = '2022-11-28'

const UserSchema = v.object({
  id: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  // github.com logins are [A-Za-z0-9-]{1,39}; Enterprise Managed Users add `_shortcode`.
  login: v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/)),
  // Display only: an odd name is dropped rather than failing the login.
  name: v.fallback(v.optional(v.nullable(v.pipe(v.string(), v.maxLength(256), v.regex(/^[^\u0000-\u001f\u007f]*$/))), null), null),
})

const EmailsSchema = v.array(
  v.object({
    email: v.string(),
    primary: v.boolean(),
    verified: v.boolean(),
  }),
)

/** A plain address we are willing to put in a token claim: no spaces or control characters, one `@`. */
const ADDRESS = /^[^\s@\u0000-\u001f\u007f]{1,64}@[^\s@\u0000-\u001f\u007f]{1,255}$/

type Failure = Extract<FetchUserResult, { ok: false }>

function failureOf(route: string, outcome: HttpOutcome): Failure {
  if (!outcome.ok) return { ok: false, reason: 'upstream', detail: `${route}: ${outcome.detail}` }
  // 401 "Bad credentials": revoked, expired or never valid. Everything else (403 rate limits, 5xx) is upstream.
  if (outcome.status === 401) return { ok: false, reason: 'bad_token', detail: `${route}: HTTP 401` }
  return { ok: false, reason: 'upstream', detail: `${route}: HTTP ${outcome.status}` }
}

/**
 * The user behind `accessToken`. The email is the address GitHub marks both primary and verified, whatever its
 * visibility: a private primary is still the user's own address, released to us by the `user:email` scope they
 * granted. No primary-and-verified address, or no `user:email` scope (GitHub answers 404), means no email; the
 * public profile `email` of `/user` is never used, since GitHub does not say whether it is verified.
 */
export async function fetchUser(deps: HttpDeps, apiUrl: string, accessToken: string): Promise<FetchUserResult> {
  if (!v.is(TokenSchema, accessToken)) return { ok: false, reason: 'bad_token', detail: 'access token is not a visible-ASCII string' }
  const get = (path: string) =>
    sendRequest(deps, {
      method: 'GET',
      url: `${apiUrl}${path}`,
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${accessToken}`, 'x-github-api-version': GITHUB_API_VERSION },
    })
  const [userOutcome, emailsOutcome] = await Promise.all([get('/user'), get('/user/emails')])

  if (!userOutcome.ok || userOutcome.status !== 200) return failureOf('/user', userOutcome)
  const profile = parseBody(UserSchema, userOutcome.body)
  if (!profile.ok) return { ok: false, reason: 'upstream', detail: `/user: ${profile.detail}` }

  let email: string | undefined
  if (!emailsOutcome.ok || (emailsOutcome.status !== 200 && emailsOutcome.status !== 404)) return failureOf('/user/emails', emailsOutcome)
  if (emailsOutcome.status === 200) {
    const emails = parseBody(EmailsSchema, emailsOutcome.body)
    if (!emails.ok) return { ok: false, reason: 'upstream', detail: `/user/emails: ${emails.detail}` }
    const primary = emails.value.find((e) => e.primary && e.verified)?.email
    if (primary !== undefined && ADDRESS.test(primary)) email = primary
  }

  const user: OAuthUser = email === undefined
    ? { sub: String(profile.value.id), username: profile.value.login }
    : { sub: String(profile.value.id), username: profile.value.login, email }
  return { ok: true, user, name: profile.value.name }
}
