/**
 * @module Who may call POST /register, decided before the body is read (OAUTH_REGISTRATION and
 * OAUTH_REGISTRATIONS_PER_HOUR): `closed` refuses everyone (403), `token` wants an initial access token
 * (RFC 7591 §3) as its Bearer token (401 invalid_token without a valid one), and every admitted request
 * counts towards its client address's hourly limit (429 with Retry-After beyond it; an address in
 * RATE_LIMIT_EXEMPT is not counted). A single-use token is spent only once the metadata is valid, so a
 * typo in the body does not burn it.
 *
 * The 429 speaks OAuth like the other authorization server limits (api/rate-limit.ts): RFC 6749 §5.2's
 * shape with temporarily_unavailable, the registered code clients already read as "try again later";
 * RFC 7591 §3.2.2 has none for it.
 */
import type { Context } from 'hono'
import type { Logger } from '../../lib/index.ts'
import type { RegistrationLimiter, RegistrationTokens } from '../../oauth/index.ts'
import type { RateLimitCounts } from '../../ratelimit/index.ts'
import { clientAddressOf } from '../client-address.ts'
import { ApiError } from '../errors.ts'
import { bearerToken, invalidToken } from './registration-bearer.ts'

export type RegistrationMode = 'open' | 'token' | 'closed'

interface GateLimit {
  /** OAUTH_REGISTRATIONS_PER_HOUR, per client address; absent: no limit. */
  readonly limiter?: RegistrationLimiter
  /** RATE_LIMIT_EXEMPT: addresses the limit does not count. */
  readonly isExempt?: (address: string) => boolean
  /** Where a refusal over the limit is told (the count in the logs). */
  readonly logger?: Logger
  /** The node's refusal counts (ohp_rate_limited_total): a refusal over the limit counts as scope `registration`. */
  readonly counts?: Pick<RateLimitCounts, 'refused'>
}

export type RegistrationGate = GateLimit & ({ readonly mode: 'open' | 'closed' } | { readonly mode: 'token'; readonly tokens: RegistrationTokens })

/** Anyone, without a limit: what a test of the endpoint's RFC behaviour wants. */
export const OPEN_REGISTRATION: RegistrationGate = { mode: 'open' }

export const REGISTRATION_REFUSALS = {
  401: { description: 'OAUTH_REGISTRATION=token: the initial access token (RFC 7591 §3) is missing, unknown, expired or already spent (invalid_token)' },
  403: { description: 'OAUTH_REGISTRATION=closed: nobody may register (access_denied)' },
  429: { description: 'this client address made too many registration requests this hour (temporarily_unavailable); Retry-After says when to try again' },
} as const

const INITIAL_ACCESS_TOKEN = 'initial access token' as const

export interface AdmittedRegistration {
  /** Spends a single-use initial access token; throws 401 when another request spent it first. */
  redeem(): Promise<void>
}

const NOTHING_TO_REDEEM: AdmittedRegistration = { redeem: async () => {} }

export async function admitRegistration(c: Context, gate: RegistrationGate): Promise<AdmittedRegistration> {
  if (gate.mode === 'closed') {
    // RFC 7591 §3 leaves open who may register; the body is RFC 7591 §3.2.2's shape with RFC 6749's access_denied.
    throw new ApiError(403, 'access_denied', 'client registration is closed on this server (OAUTH_REGISTRATION=closed); ask its administrator for a client')
  }
  let admitted = NOTHING_TO_REDEEM
  if (gate.mode === 'token') {
    const token = bearerToken(c, INITIAL_ACCESS_TOKEN)
    if (!(await gate.tokens.isValid(token))) throw invalidToken(INITIAL_ACCESS_TOKEN)
    admitted = {
      async redeem() {
        if (!(await gate.tokens.redeem(token))) throw invalidToken(INITIAL_ACCESS_TOKEN)
      },
    }
  }
  const address = clientAddressOf(c)
  if (gate.limiter && !(address !== null && gate.isExempt?.(address))) {
    const admission = await gate.limiter.admit(address)
    if (!admission.ok) {
      gate.logger?.info('registration refused: over the hourly limit of its address', { address, limit: admission.limit })
      gate.counts?.refused('registration')
      // RFC 6585 §4 429 with Retry-After.
      throw new ApiError(
        429,
        'temporarily_unavailable',
        `at most ${admission.limit} registration requests per client address per hour; try again in ${admission.retryAfterSec} s`,
        { 'Retry-After': String(admission.retryAfterSec) },
      )
    }
  }
  return admitted
}
