/**
 * @module Browser sessions of redirect-mode proxies: a random session id in the browser's cookie, and
 * in the store (keyed by the id's SHA-256) the session's access and refresh tokens, sealed under the id
 * itself, so whoever reads the store holds neither a usable cookie nor a usable token. Each node keeps
 * a bounded LRU cache of fresh access tokens, so the data plane's question "which token does this
 * cookie stand for?" is answered synchronously; a token about to expire is refreshed (the authorization
 * server re-checks the allowlists then) and a refused refresh ends the session. Ending a session
 * anywhere announces `session_ended` (the id's hash, never the id), and every node drops it at once.
 */
import * as v from 'valibot'
import type { EventBus } from '../events/index.ts'
import { openWithSecret, sealWithSecret, sha256Hex, type Clock, type Logger } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { isSecretId, newSecretId } from './secret-id.ts'

/** A token with less than this left is refreshed first: a request forwarded with it must not expire on the way. */
export const FRESH_MARGIN_MS = 30_000
/** Enough for every browser a node serves several times over; a miss costs one store read. */
export const DEFAULT_SESSION_CACHE_ENTRIES = 10_000
/** A cached session is read again from the store after this long: bounds the damage of a `session_ended` a node missed. */
export const DEFAULT_SESSION_CACHE_MAX_AGE_MS = 60_000
const SEAL_PURPOSE = 'oauth-https-proxy browser session v1'

/** What the authorization server hands out for a session, at sign-in and at every refresh. */
export interface SessionTokens {
  readonly accessToken: string
  /** The access token's exp, epoch seconds. */
  readonly accessExpiresAtSec: number
  readonly refreshToken: string
}

/** What a code exchange adds: who signed in (for logs; a refresh keeps it). */
export interface SignedInTokens extends SessionTokens {
  readonly username: string
}

/** A code exchange or a refresh: new tokens, or refused (the reason is for the log only). */
export type TokenOutcome<T extends SessionTokens = SessionTokens> = { readonly ok: true; readonly tokens: T } | { readonly ok: false; readonly reason: string }

/** Which proxy a session belongs to, as the token requests name it. */
export interface SessionScope {
  readonly proxy: string
  readonly resource: string
}

export interface BrowserSessionsOptions {
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  /** How long a session lives without a refresh: the refresh token's lifetime. */
  readonly ttlSec: number
  /** grant_type=refresh_token for the session's client and resource; refused when the allowlists no longer admit the user. */
  readonly refresh: (input: { readonly refreshToken: string; readonly clientId: string; readonly resource: string }) => Promise<TokenOutcome>
  /** RFC 7009 for the session's client; never fails for an unknown token. */
  readonly revoke: (token: string, clientId: string) => Promise<void>
  readonly maxEntries?: number
  readonly maxAgeMs?: number
}

export interface BrowserSessions {
  /** A new session for these tokens; returns its id, for the cookie. */
  create(scope: SessionScope & { readonly clientId: string }, tokens: SignedInTokens): Promise<string>
  /**
   * The session's access token: synchronous from the cache while it has more than FRESH_MARGIN_MS left;
   * otherwise from the store, refreshed when needed. Null for an unknown, ended or foreign session, or
   * when the refresh was refused (the session then ends everywhere).
   */
  accessToken(sessionId: string, scope: SessionScope): string | null | Promise<string | null>
  /** Ends the session on every node and revokes its tokens; false when there was none. */
  end(sessionId: string, why: string): Promise<boolean>
  /** Stops listening for `session_ended` and drops the cache. */
  close(): void
}

const SessionSchema = v.object({
  proxy: v.string(),
  resource: v.string(),
  clientId: v.string(),
  username: v.string(),
  /** The sealed access token's exp, epoch seconds: freshness is decided without opening the seal. */
  accessExpSec: v.number(),
  createdAtMs: v.number(),
  refreshedAtMs: v.number(),
  /** {accessToken, refreshToken} as JSON, sealed under the session id. */
  sealed: v.object({ iv: v.string(), data: v.string() }),
})
type StoredSession = v.InferOutput<typeof SessionSchema>

const SealedTokensSchema = v.object({ accessToken: v.string(), refreshToken: v.string() })
type SealedTokens = v.InferOutput<typeof SealedTokensSchema>

interface CacheEntry extends SessionScope {
  readonly accessToken: string
  /** The earlier of (exp - FRESH_MARGIN_MS) and the entry's maximum age. */
  readonly freshUntilMs: number
}

export function createBrowserSessions(options: BrowserSessionsOptions): BrowserSessions {
  const { clock, logger } = options
  const maxEntries = options.maxEntries ?? DEFAULT_SESSION_CACHE_ENTRIES
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_SESSION_CACHE_MAX_AGE_MS
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`)
  const sessions = createCollection(options.store, COLLECTIONS.authSessions, SessionSchema)
  const ttlMs = options.ttlSec * 1000
  // Keyed by the id's SHA-256, as the store and the event are: the id itself is never a key.
  // A Map iterates in insertion order and a hit re-inserts: the first key is the least recently used.
  const cache = new Map<string, CacheEntry>()
  // One store read or refresh per session at a time on this node; concurrent requests share it.
  const inFlight = new Map<string, Promise<string | null>>()

  const hashOf = (sessionId: string) => sha256Hex(sessionId)
  const isFresh = (accessExpSec: number) => accessExpSec * 1000 - FRESH_MARGIN_MS > clock.nowMs()

  const seal = (sessionId: string, hash: string, tokens: SealedTokens) => sealWithSecret(sessionId, hash, SEAL_PURPOSE, JSON.stringify(tokens))
  async function open(sessionId: string, hash: string, session: StoredSession): Promise<SealedTokens | null> {
    const text = await openWithSecret(sessionId, hash, SEAL_PURPOSE, session.sealed)
    const parsed = text === null ? null : v.safeParse(SealedTokensSchema, JSON.parse(text))
    return parsed?.success ? parsed.output : null
  }

  function remember(hash: string, scope: SessionScope, accessToken: string, accessExpSec: number) {
    const freshUntilMs = Math.min(accessExpSec * 1000 - FRESH_MARGIN_MS, clock.nowMs() + maxAgeMs)
    cache.delete(hash)
    if (freshUntilMs <= clock.nowMs()) return
    while (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
    cache.set(hash, { proxy: scope.proxy, resource: scope.resource, accessToken, freshUntilMs })
  }

  function cached(hash: string, scope: SessionScope): string | undefined {
    const entry = cache.get(hash)
    if (!entry) return undefined
    cache.delete(hash)
    if (clock.nowMs() >= entry.freshUntilMs) return undefined
    cache.set(hash, entry)
    return entry.proxy === scope.proxy && entry.resource === scope.resource ? entry.accessToken : undefined
  }

  async function announceEnded(hash: string) {
    cache.delete(hash)
    // The store no longer has it, so every node refuses it once its cache entry goes: the event makes that now.
    await options.bus.publish({ type: 'session_ended', sessionHash: hash }).catch((error) => logger.warn('session_ended not announced', { error: String(error) }))
  }

  async function revokeTokens(session: StoredSession, tokens: SealedTokens | null) {
    if (!tokens) return
    // RFC 7009 §2.1: revoking the refresh token ends its whole grant, access tokens included; the access token is revoked as well in its own right.
    for (const token of [tokens.refreshToken, tokens.accessToken]) {
      await options.revoke(token, session.clientId).catch((error) => logger.warn('session token not revoked', { proxy: session.proxy, error: String(error) }))
    }
  }

  async function loadOrRefresh(sessionId: string, hash: string, scope: SessionScope): Promise<string | null> {
    const doc = await sessions.get(hash)
    if (!doc) {
      cache.delete(hash)
      return null
    }
    const session = doc.value
    // Cookies are host-only (__Host-), so this is another proxy's cookie only by tampering: refuse it, end nothing.
    if (session.proxy !== scope.proxy || session.resource !== scope.resource) return null
    const tokens = await open(sessionId, hash, session)
    if (!tokens) return null
    if (isFresh(session.accessExpSec)) {
      remember(hash, scope, tokens.accessToken, session.accessExpSec)
      return tokens.accessToken
    }

    const refreshed = await options.refresh({ refreshToken: tokens.refreshToken, clientId: session.clientId, resource: session.resource })
    if (!refreshed.ok) {
      // RFC 6749 §6: the authorization server said no (allowlist changed, grant revoked, expired): the session is over.
      logger.info('browser session ended', { proxy: session.proxy, username: session.username, why: 'refresh refused', reason: refreshed.reason })
      await sessions.del(hash)
      await announceEnded(hash)
      return null
    }
    const next = refreshed.tokens
    const written = await sessions.put(
      hash,
      {
        ...session,
        accessExpSec: next.accessExpiresAtSec,
        refreshedAtMs: clock.nowMs(),
        sealed: await seal(sessionId, hash, { accessToken: next.accessToken, refreshToken: next.refreshToken }),
      },
      { ifVersion: doc.version, ttlMs },
    )
    // Changed meanwhile. Ended (signed out): its grant was revoked with it, so the new pair is dead too.
    // Refreshed by another node: within the grace period both got the same pair, and ours is as good.
    if (written === null && !(await sessions.get(hash))) return null
    remember(hash, scope, next.accessToken, next.accessExpiresAtSec)
    return next.accessToken
  }

  const unsubscribe = options.bus.subscribe((event) => {
    if (event.type === 'session_ended') cache.delete(event.sessionHash)
  })

  return {
    async create(scope, tokens) {
      const sessionId = newSecretId()
      const hash = hashOf(sessionId)
      const nowMs = clock.nowMs()
      const session: StoredSession = {
        proxy: scope.proxy,
        resource: scope.resource,
        clientId: scope.clientId,
        username: tokens.username,
        accessExpSec: tokens.accessExpiresAtSec,
        createdAtMs: nowMs,
        refreshedAtMs: nowMs,
        sealed: await seal(sessionId, hash, { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }),
      }
      // A fresh 256-bit id cannot exist already; ifAbsent makes sure no session is ever overwritten.
      if ((await sessions.put(hash, session, { ifAbsent: true, ttlMs })) === null) throw new Error('new browser session collided with an existing one')
      remember(hash, scope, tokens.accessToken, tokens.accessExpiresAtSec)
      return sessionId
    },

    accessToken(sessionId, scope) {
      if (!isSecretId(sessionId)) return null
      const hash = hashOf(sessionId)
      const hit = cached(hash, scope)
      if (hit !== undefined) return hit
      const key = `${hash}\n${scope.proxy}\n${scope.resource}`
      let pending = inFlight.get(key)
      if (!pending) {
        pending = loadOrRefresh(sessionId, hash, scope).finally(() => inFlight.delete(key))
        inFlight.set(key, pending)
      }
      return pending
    },

    async end(sessionId, why) {
      if (!isSecretId(sessionId)) return false
      const hash = hashOf(sessionId)
      // Atomic: of two sign-outs racing (two tabs, two nodes), one revokes.
      const session = await sessions.take(hash)
      cache.delete(hash)
      // Nothing to announce for an id nobody holds (whoever removed it announced it): a stream of made-up cookies stays off the bus.
      if (!session) return false
      await announceEnded(hash)
      logger.info('browser session ended', { proxy: session.proxy, username: session.username, why })
      await revokeTokens(session, await open(sessionId, hash, session))
      return true
    },

    close() {
      unsubscribe()
      cache.clear()
    },
  }
}
