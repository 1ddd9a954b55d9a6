/**
 * @module POST /oauth/registration-tokens (admin): an initial access token (RFC 7591 §3) for
 * OAUTH_REGISTRATION=token. Shown once, stored only as its hash; single-use by default, and always
 * time-limited (default 1 day, at most 365).
 */
import * as v from 'valibot'
import { DEFAULT_REGISTRATION_TOKEN_TTL_SEC, MAX_REGISTRATION_TOKEN_TTL_SEC, type RegistrationTokens } from '../../oauth/index.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'

const TAG = 'oauth'

const CreateSchema = v.strictObject(
  {
    expires_in: v.optional(
      v.pipe(
        v.number('expected seconds'),
        v.integer('expected whole seconds'),
        v.minValue(60, 'expected at least 60 seconds'),
        v.maxValue(MAX_REGISTRATION_TOKEN_TTL_SEC, `expected at most ${MAX_REGISTRATION_TOKEN_TTL_SEC} seconds (365 days)`),
      ),
      DEFAULT_REGISTRATION_TOKEN_TTL_SEC,
    ),
    single_use: v.optional(v.boolean('expected true or false'), true),
  },
  'unknown field',
)

const CreatedSchema = v.object({
  initial_access_token: v.string(),
  single_use: v.boolean(),
  expires_in: v.number(),
  expires_at: v.string(),
})

export function registrationTokenRoutes(tokens: RegistrationTokens): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/oauth/registration-tokens',
      scope: 'admin',
      tag: TAG,
      summary: 'Issue an initial access token (RFC 7591 §3) that lets one client register (or any number, with single_use false) until it expires; shown only here',
      body: CreateSchema,
      responses: { 201: { description: 'the token; send it as "Authorization: Bearer" to POST /register', schema: CreatedSchema } },
      async handler(c, { body }) {
        const issued = await tokens.issue({ ttlSec: body.expires_in, singleUse: body.single_use, createdBy: c.get('principal').username })
        c.header('Cache-Control', 'no-store')
        c.header('Pragma', 'no-cache')
        return c.json({ initial_access_token: issued.token, single_use: issued.singleUse, expires_in: body.expires_in, expires_at: new Date(issued.expiresAtMs).toISOString() }, 201)
      },
    }),
  ]
}
