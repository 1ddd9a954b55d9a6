/**
 * @module Rate limits (#13): GCRA buckets, held in the store for the authorization server and the
 * management API (so they hold across nodes on Redis), in each node's memory for a proxy's own
 * rate_limit on the data plane; the refusals counted per scope for /metrics.
 */
export { addressIdentity } from './client-identity.ts'
export { createRateLimitCounts, RATE_LIMIT_SCOPES, type RateLimitCounts, type RateLimitScope } from './counts.ts'
export { createExemptions } from './exemptions.ts'
export { emissionIntervalMs, gcraStep, retryAfterSeconds, type GcraStep, type RateLimit } from './gcra.ts'
export { createLocalRateLimiter, MAX_CLIENTS_PER_GROUP, type LocalRateLimiter, type LocalRateLimiterDeps } from './local-limiter.ts'
export { createStoreRateLimiter, MAX_CAS_ATTEMPTS, type RateVerdict, type StoreRateLimiter, type StoreRateLimiterDeps } from './store-limiter.ts'
