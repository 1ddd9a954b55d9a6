/**
 * @module The stored device authorization (RFC 8628 §3.2) and the tagged results of starting and
 * polling one. Our device_code is never stored (the key is its SHA-256 hex); GitHub's is stored only
 * sealed under a key derived from ours (seal.ts).
 */
import * as v from 'valibot'
import { SCOPES, type Scope } from '../tokens/scopes.ts'
import type { TokenResult } from '../grants/index.ts'

export const SealedSchema = v.object({ iv: v.string(), data: v.string() })

export const DeviceCodeSchema = v.object({
  clientId: v.string(),
  issuer: v.string(),
  resource: v.string(),
  scopes: v.array(v.picklist(SCOPES)),
  /** The GitHub app the flow was started with; polling must use the same one. Not a secret. */
  githubClientId: v.string(),
  githubDeviceCode: SealedSchema,
  /** RFC 8628 §3.5: grows by 5 s on every slow_down, ours or GitHub's. */
  intervalSec: v.pipe(v.number(), v.integer(), v.minValue(0)),
  expiresAtMs: v.number(),
  lastPollAtMs: v.nullable(v.number()),
})
export type StoredDeviceCode = v.InferOutput<typeof DeviceCodeSchema>

export interface DeviceStartInput {
  readonly clientId: string
  readonly issuer: string
  /** Already resolved (RFC 8707): the one audience of the tokens. */
  readonly resource: string
  /** Already checked against the client's registration; intersected with what the user holds on approval. */
  readonly scopes: readonly Scope[]
}

/** RFC 8628 §3.2, with our device_code in place of GitHub's. */
export type DeviceStartResult =
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
      /** `no_github_app`: neither the resource's proxy nor the configuration has a GitHub app. */
      readonly reason: 'no_github_app' | 'device_flow_disabled' | 'bad_credentials' | 'upstream'
    }

export interface DevicePollInput {
  readonly deviceCode: string
  /** The authenticated client polling. */
  readonly clientId: string
  /** The issuer of the host polled; must be the one the flow started at. */
  readonly issuer: string
}

/** RFC 8628 §3.5 error codes (and RFC 6749 §5.2 invalid_grant); `reason` is for the log only. */
export type DevicePollError = 'authorization_pending' | 'slow_down' | 'expired_token' | 'access_denied' | 'invalid_grant'

export type DevicePollResult =
  | { readonly ok: true; readonly tokens: TokenResult }
  | { readonly ok: false; readonly error: DevicePollError; readonly reason: string; readonly intervalSec?: number }
