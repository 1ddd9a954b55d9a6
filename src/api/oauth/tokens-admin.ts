/**
 * @module The admin view of issued tokens: a user's refresh-token families (which client, which
 * scopes, when created and last used; never a token, hash or sealed pair) and revoking one family,
 * which also ends its live access tokens.
 */
import * as v from 'valibot'
import type { FamilySummary, Grants } from '../../oauth/index.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'

const TAG = 'oauth'
const iso = (ms: number) => new Date(ms).toISOString()

export const FamilySchema = v.object({
  family_id: v.string(),
  client_id: v.string(),
  username: v.string(),
  sub: v.string(),
  scopes: v.array(v.string()),
  resource: v.string(),
  issuer: v.string(),
  created_at: v.string(),
  last_used_at: v.string(),
  expires_at: v.string(),
})

/** A family as the admin sees it: who, which client, which scopes and when; no token, hash or sealed pair. */
export function familyView(family: FamilySummary): v.InferOutput<typeof FamilySchema> {
  return {
    family_id: family.familyId,
    client_id: family.clientId,
    username: family.user.username,
    sub: family.user.sub,
    scopes: [...family.scopes],
    resource: family.resource,
    issuer: family.issuer,
    created_at: iso(family.createdAtMs),
    last_used_at: iso(family.lastUsedAtMs),
    expires_at: iso(family.expiresAtMs),
  }
}

/** GitHub logins: at most 39 characters; a little room for local names. */
const QuerySchema = v.object({ username: v.pipe(v.string(), v.minLength(1, 'is required'), v.maxLength(100)) })

export function tokenAdminRoutes(grants: Grants): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/oauth/tokens',
      scope: 'admin',
      tag: TAG,
      summary: "List a user's refresh-token families (one per authorization); never token values",
      query: QuerySchema,
      responses: { 200: { description: "the user's live families, oldest first", schema: v.array(FamilySchema) } },
      async handler(c, { query }) {
        const families = await grants.listFamilies(query.username)
        c.header('Cache-Control', 'no-store')
        return c.json(families.map(familyView))
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/oauth/tokens/:family_id',
      scope: 'admin',
      tag: TAG,
      summary: 'Revoke a refresh-token family: its refresh token and its live access tokens stop working',
      responses: { 204: { description: 'revoked' }, 404: { description: 'no live family with this id' } },
      async handler(c) {
        if (!(await grants.revokeFamily(c.req.param('family_id') ?? ''))) throw new ApiError(404, 'not_found', 'no live token family with this id')
        return c.body(null, 204)
      },
    }),
  ]
}
