/** @module What every grant operation shares: the store, the clock, the key ring, lifetimes, the policy recheck. */
import type * as v from 'valibot'
import type { Clock, Logger } from '../../lib/index.ts'
import type { RecordActivity } from '../activity.ts'
import { COLLECTIONS, createCollection, type Collection, type Store } from '../../store/index.ts'
import type { KeyRing } from '../tokens/signing-keys.ts'
import { CodeSchema, CodeTraceSchema, FamilySchema, type Family, type Recheck } from './model.ts'

export interface GrantsContext {
  readonly store: Store
  readonly clock: Clock
  readonly keyRing: KeyRing
  readonly logger: Logger
  readonly recheck: Recheck
  readonly accessTokenLifetimeSec: number
  readonly refreshTokenLifetimeSec: number
  readonly refreshGraceMs: number
  readonly codeLifetimeMs: number
  /** How long a code's trace outlives the code, so a late replay still finds what it must revoke. */
  readonly codeTraceMarginMs: number
  /** Told each jti put on the denylist, after the store has it (the composition root announces it to every node). */
  readonly onAccessTokenRevoked?: (jti: string) => Promise<void>
  /** The OAuth activity log: tokens issued, refreshed, refused and revoked, refresh-token reuse. */
  readonly recordActivity: RecordActivity
  readonly codes: Collection<v.InferOutput<typeof CodeSchema>>
  readonly codeTraces: Collection<v.InferOutput<typeof CodeTraceSchema>>
  readonly families: Collection<Family>
}

export type GrantsContextOptions = Omit<GrantsContext, 'codes' | 'codeTraces' | 'families'>

export function createGrantsContext(options: GrantsContextOptions): GrantsContext {
  return {
    ...options,
    codes: createCollection(options.store, COLLECTIONS.oauthCodes, CodeSchema),
    codeTraces: createCollection(options.store, COLLECTIONS.oauthCodeTraces, CodeTraceSchema),
    families: createCollection(options.store, COLLECTIONS.oauthTokenFamilies, FamilySchema),
  }
}

/** Bounded compare-and-set retries: contention here is a handful of racing refreshes, never more. */
export const MAX_CAS_ATTEMPTS = 16
