/** @module Signing keys: the public JWKS (RFC 7517), the key list and rotation. */
import * as v from 'valibot'
import type { KeyRing } from '../oauth/index.ts'
import { allowAnyOrigin, corsPreflightRoute } from './cors.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

const KeyInfoSchema = v.object({
  kid: v.string(),
  alg: v.string(),
  active: v.boolean(),
  created_at: v.string(),
  retired_at: v.optional(v.string()),
})

const iso = (ms: number) => new Date(ms).toISOString()

export function keyRoutes(keyRing: KeyRing): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/jwks',
      scope: 'public',
      tag: 'oauth',
      summary: 'Public keys that verify access tokens (RFC 7517 JWK Set)',
      responses: { 200: { description: 'JWK Set' } },
      async handler(c) {
        // Browser-based clients verify tokens from their own page (RFC 8414 jwks_uri).
        allowAnyOrigin(c)
        c.header('Cache-Control', 'public, max-age=300')
        return c.json({ keys: await keyRing.publicJwks() })
      },
    }),
    corsPreflightRoute('/jwks', ['GET'], 'oauth'),
    defineRoute({
      method: 'get',
      path: '/oauth/keys',
      scope: 'user',
      tag: 'oauth',
      summary: 'Signing keys still in use (no private material)',
      responses: { 200: { description: 'keys', schema: v.array(KeyInfoSchema) } },
      async handler(c) {
        const keys = await keyRing.describe()
        return c.json(
          keys.map((key) => ({
            kid: key.kid,
            alg: key.alg,
            active: key.isActive,
            created_at: iso(key.createdAtMs),
            ...(key.retiredAtMs === undefined ? {} : { retired_at: iso(key.retiredAtMs) }),
          })),
        )
      },
    }),
    defineRoute({
      method: 'post',
      path: '/oauth/keys/rotate',
      scope: 'admin',
      tag: 'oauth',
      summary: 'Sign new tokens with a new key; the old key verifies until its tokens expire',
      responses: { 200: { description: 'rotated', schema: v.object({ kid: v.string(), retired_kid: v.nullable(v.string()) }) } },
      async handler(c) {
        const { kid, retiredKid } = await keyRing.rotate()
        return c.json({ kid, retired_kid: retiredKid })
      },
    }),
  ]
}
