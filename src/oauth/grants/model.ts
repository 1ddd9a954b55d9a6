/**
 * @module What an authorization is (issuer, resource, client, user, scopes), what the token endpoint
 * returns, and the stored shapes of codes, code traces and refresh-token families. Nothing here holds
 * a code or a token in plaintext: only SHA-256 hashes, and a successor pair sealed under a key that
 * only the holder of the previous refresh token can derive (seals.ts).
 */
import * as v from 'valibot'
import { SCOPES, type Scope } from '../tokens/scopes.ts'
import type { OAuthUser } from '../user.ts'

/** One authorization: who (user) let which client act at which resource (RFC 8707), with which scopes, under which issuer. */
export interface AuthorizationGrant {
  /** The issuer the authorization happened at; the access token's iss. */
  readonly issuer: string
  /** Exactly one resource (RFC 8707 §2); the access token's only aud. */
  readonly resource: string
  readonly clientId: string
  readonly user: OAuthUser
  readonly scopes: readonly Scope[]
  /**
   * The user's GitHub token, when the resource admits by GitHub organisation or team: the recheck of
   * every refresh asks GitHub with it. Held in memory only; stored sealed under the code, then under the
   * current refresh token (seals.ts); never in an access token, a log line or a listing.
   */
  readonly upstreamToken?: string
}

/** What /authorize binds a code to besides the grant (RFC 6749 §4.1.3, RFC 7636 §4.4). */
export interface CodeGrant extends AuthorizationGrant {
  readonly redirectUri: string
  /** The S256 code_challenge: BASE64URL(SHA256(code_verifier)), 43 characters. */
  readonly codeChallenge: string
}

/** RFC 6749 §5.1: the successful token response. */
export interface TokenResult {
  readonly access_token: string
  readonly token_type: 'Bearer'
  readonly expires_in: number
  readonly refresh_token: string
  readonly scope: string
}

/**
 * The error codes a grant can fail with (RFC 6749 §5.2, RFC 8707 §2). `reason` says which check
 * failed, for the log only: on the wire every invalid_grant looks the same.
 */
export interface GrantFailure {
  readonly ok: false
  readonly error: 'invalid_grant' | 'invalid_target' | 'invalid_scope'
  readonly reason: GrantFailureReason
}

export type GrantFailureReason =
  | 'unknown_code'
  | 'code_replayed'
  | 'code_expired'
  | 'client_mismatch'
  | 'redirect_uri_mismatch'
  | 'issuer_mismatch'
  | 'verifier_mismatch'
  | 'resource_mismatch'
  | 'unknown_token'
  | 'token_expired'
  | 'token_reused'
  | 'family_revoked'
  | 'access_withdrawn'
  | 'scope_not_granted'

/**
 * Asks the policy again whether the user may still use this grant (allowlists, scope lists, GitHub
 * memberships), on every refresh. The grant carries its upstreamToken when one was kept. Null: no
 * longer allowed (the family is revoked); otherwise the scopes the user holds now. Only scopes the
 * grant already had survive: a refresh never widens (RFC 6749 §6). It throws when it cannot decide
 * (GitHub unreachable): the refresh fails and the family stays as it was.
 */
export type Recheck = (grant: AuthorizationGrant) => Promise<readonly Scope[] | null>

export const UserSchema = v.object({ sub: v.string(), username: v.string(), email: v.optional(v.string()) })

export const GrantSchema = v.object({
  issuer: v.string(),
  resource: v.string(),
  clientId: v.string(),
  user: UserSchema,
  scopes: v.array(v.picklist(SCOPES)),
})

export type StoredGrant = v.InferOutput<typeof GrantSchema>

const HEX_SHA256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))

/** AES-GCM output: iv and ciphertext (with tag), base64url. */
export const SealedSchema = v.object({ iv: v.string(), data: v.string() })

/** oauth/codes/<sha256(code)>: lives for the code's lifetime, taken exactly once. `upstream`: the GitHub token sealed under the code. */
export const CodeSchema = v.object({ familyId: v.string(), grant: GrantSchema, upstream: v.optional(SealedSchema) })

/**
 * oauth/code-traces/<sha256(code)>: written with the code, outlives it. A redemption is checked
 * against the trace before the code is taken, so a request with wrong parameters neither consumes the
 * code nor, once it is spent, revokes anything: whoever merely saw a code cannot use it to revoke the
 * tokens of the client that redeemed it.
 */
export const CodeTraceSchema = v.object({
  familyId: v.string(),
  issuer: v.string(),
  resource: v.string(),
  clientId: v.string(),
  redirectUri: v.string(),
  codeChallenge: v.string(),
  expiresAtMs: v.number(),
})

const ActiveFamilySchema = v.object({
  state: v.literal('active'),
  familyId: v.string(),
  /** The refresh token's grant; its scopes only ever shrink. */
  grant: GrantSchema,
  createdAtMs: v.number(),
  lastUsedAtMs: v.number(),
  /** The one refresh token that rotates. */
  current: v.object({ tokenHash: HEX_SHA256, issuedAtMs: v.number(), expiresAtMs: v.number() }),
  /** The token current replaced, and the pair that replaced it, sealed for the grace period. */
  previous: v.optional(v.object({ tokenHash: HEX_SHA256, rotatedAtMs: v.number(), successor: SealedSchema })),
  /** Access tokens issued in this family and not yet expired: what revocation puts on the denylist. */
  accessTokens: v.array(v.object({ jti: v.string(), expSec: v.number() })),
  /** The user's GitHub token sealed under the current refresh token, for resources that recheck GitHub memberships. */
  upstream: v.optional(SealedSchema),
})

const RevokedFamilySchema = v.object({ state: v.literal('revoked'), familyId: v.string(), revokedAtMs: v.number() })

/** oauth/families/<family_id>: changed only by compare-and-set, so rotation and revocation never interleave. */
export const FamilySchema = v.variant('state', [ActiveFamilySchema, RevokedFamilySchema])
export type Family = v.InferOutput<typeof FamilySchema>
export type ActiveFamily = v.InferOutput<typeof ActiveFamilySchema>

/** A family as the admin view shows it: never a token, a hash or a sealed pair. */
export interface FamilySummary {
  readonly familyId: string
  readonly clientId: string
  readonly issuer: string
  readonly resource: string
  readonly user: OAuthUser
  readonly scopes: readonly Scope[]
  readonly createdAtMs: number
  readonly lastUsedAtMs: number
  readonly expiresAtMs: number
}

/** RFC 7662 §2.2: the introspection response; `{active: false}` alone for anything not active. */
export type IntrospectionResponse =
  | { readonly active: false }
  | {
      readonly active: true
      readonly scope: string
      readonly client_id: string
      readonly username: string
      readonly token_type?: 'Bearer'
      readonly exp: number
      readonly iat: number
      readonly sub: string
      readonly aud: string
      readonly iss: string
      readonly jti?: string
    }

/** RFC 7009 §2.2: every outcome is a 200; the difference is for logs and tests. */
export type RevokeOutcome = 'revoked' | 'not_found' | 'other_client'
