/**
 * @module /oauth/registration-tokens (admin): initial access tokens (RFC 7591 §3) for
 * OAUTH_REGISTRATION=token. POST issues one, shown once and stored only as its hash; single-use by
 * default, and always time-limited (default 1 day, at most 365). GET lists them without the token
 * (an id, the label, who issued it when, its expiry and uses); DELETE stops one at once by its id.
 */
import * as v from 'valibot'
import {
  DEFAULT_REGISTRATION_TOKEN_TTL_SEC,
  MAX_REGISTRATION_TOKEN_LABEL_LENGTH,
  MAX_REGISTRATION_TOKEN_TTL_SEC,
  REGISTRATION_TOKEN_ID,
  type RegistrationTokens,
  type RegistrationTokenSummary,
} from '../../oauth/index.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'

const TAG = 'oauth'
const iso = (ms: number) => new Date(ms).toISOString()

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
    label: v.optional(
      v.pipe(
        v.string('expected text'),
        v.minLength(1, 'expected at least one character'),
        v.maxLength(MAX_REGISTRATION_TOKEN_LABEL_LENGTH, `expected at most ${MAX_REGISTRATION_TOKEN_LABEL_LENGTH} characters`),
        // It is shown in tables and logs: no line breaks or escape sequences.
        v.regex(/^[^\p{Cc}]*$/u, 'expected no control characters'),
      ),
    ),
  },
  'unknown field',
)

const CreatedSchema = v.object({
  initial_access_token: v.string(),
  id: v.string(),
  single_use: v.boolean(),
  expires_in: v.number(),
  expires_at: v.string(),
})

const TokenViewSchema = v.object({
  id: v.string(),
  label: v.nullable(v.string()),
  single_use: v.boolean(),
  uses: v.number(),
  created_at: v.string(),
  created_by: v.string(),
  expires_at: v.string(),
})

const TokenParams = v.object({ id: v.pipe(v.string(), v.regex(REGISTRATION_TOKEN_ID, 'expected the 16 hex digits of an id from GET /oauth/registration-tokens')) })

function tokenView(token: RegistrationTokenSummary): v.InferOutput<typeof TokenViewSchema> {
  return {
    id: token.id,
    label: token.label,
    single_use: token.singleUse,
    uses: token.uses,
    created_at: iso(token.createdAtMs),
    created_by: token.createdBy,
    expires_at: iso(token.expiresAtMs),
  }
}

export function registrationTokenRoutes(tokens: RegistrationTokens): RouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/oauth/registration-tokens',
      scope: 'admin',
      tag: TAG,
      summary: 'Issue an initial access token (RFC 7591 §3) that lets one client register (or any number, with single_use false) until it expires; shown only here',
      body: CreateSchema,
      responses: { 201: { description: 'the token; send it as "Authorization: Bearer" to POST /register. id names it in GET and DELETE', schema: CreatedSchema } },
      async handler(c, { body }) {
        const issued = await tokens.issue({ ttlSec: body.expires_in, singleUse: body.single_use, createdBy: c.get('principal').username, label: body.label ?? null })
        c.header('Cache-Control', 'no-store')
        c.header('Pragma', 'no-cache')
        return c.json({ initial_access_token: issued.token, id: issued.id, single_use: issued.singleUse, expires_in: body.expires_in, expires_at: iso(issued.expiresAtMs) }, 201)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/oauth/registration-tokens',
      scope: 'admin',
      tag: TAG,
      summary: 'List the initial access tokens that have not expired, spent single-use ones too (uses 1); never the token itself',
      responses: { 200: { description: 'oldest first', schema: v.array(TokenViewSchema) } },
      async handler(c) {
        c.header('Cache-Control', 'no-store')
        return c.json((await tokens.list()).map(tokenView))
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/oauth/registration-tokens/:id',
      scope: 'admin',
      tag: TAG,
      summary: 'Delete an initial access token: no registration is admitted with it from now on (clients it registered stay)',
      params: TokenParams,
      responses: {
        204: { description: 'deleted' },
        400: { description: 'id is not one (16 hex digits)' },
        404: { description: 'no token with this id (unknown, expired or deleted)' },
      },
      async handler(c, { params }) {
        if (!(await tokens.delete(params.id))) throw new ApiError(404, 'not_found', `no registration token ${params.id} (unknown, expired or deleted)`)
        return c.body(null, 204)
      },
    }),
  ]
}
