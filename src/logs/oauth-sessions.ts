/**
 * @module Sessions as the activity log saw them: one per user, client and resource, from its logins,
 * tokens, refreshes and revocations in a time window. The original's /logs/oauth session views read a
 * key nothing wrote (original-behaviour §2.6, "oauth:session:*"); this one is derived from events that
 * exist. The live grants themselves are GET /oauth/tokens?username=.
 */
import type { OAuthEvent } from './oauth-event.ts'

export interface OAuthSessionSummary {
  readonly user: string
  readonly user_id: string | null
  readonly client_id: string
  readonly resource: string | null
  readonly first_seen: string
  readonly last_seen: string
  readonly logins: number
  readonly tokens_issued: number
  readonly refreshes: number
  /** Revocations of this session's tokens, and refresh-token reuse (which revokes them). */
  readonly revocations: number
  readonly reuse_detected: number
  /** Whether the last thing the window saw was a revocation. */
  readonly ended: boolean
  readonly last_ip: string | null
  readonly last_user_agent: string | null
}

const COUNTED = {
  login: 'logins',
  token_issued: 'tokens_issued',
  token_refreshed: 'refreshes',
  token_revoked: 'revocations',
  refresh_reuse_detected: 'reuse_detected',
} as const satisfies Partial<Record<OAuthEvent['type'], keyof OAuthSessionSummary>>

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Sessions in `events` (any order), most recently active first. */
export function summarizeSessions(events: readonly OAuthEvent[]): OAuthSessionSummary[] {
  const sessions = new Map<string, Mutable<OAuthSessionSummary> & { firstMs: number; lastMs: number }>()
  for (const event of [...events].sort((a, b) => a.time_ms - b.time_ms || Number(a.id) - Number(b.id))) {
    if (!(event.type in COUNTED) || event.user === null || event.client_id === null) continue
    const key = JSON.stringify([event.user_id ?? event.user.toLowerCase(), event.client_id, event.resource])
    let session = sessions.get(key)
    if (!session) {
      session = {
        user: event.user,
        user_id: event.user_id,
        client_id: event.client_id,
        resource: event.resource,
        first_seen: event.time,
        last_seen: event.time,
        logins: 0,
        tokens_issued: 0,
        refreshes: 0,
        revocations: 0,
        reuse_detected: 0,
        ended: false,
        last_ip: null,
        last_user_agent: null,
        firstMs: event.time_ms,
        lastMs: event.time_ms,
      }
      sessions.set(key, session)
    }
    session[COUNTED[event.type as keyof typeof COUNTED]]++
    session.user = event.user
    session.last_seen = event.time
    session.lastMs = event.time_ms
    session.ended = event.type === 'token_revoked' || event.type === 'refresh_reuse_detected'
    // In-process events (a browser session's refresh on the edge) have no address: keep the last one known.
    if (event.ip !== null) session.last_ip = event.ip
    if (event.user_agent !== null) session.last_user_agent = event.user_agent
  }
  return [...sessions.values()]
    .sort((a, b) => b.lastMs - a.lastMs)
    .map(({ firstMs: _first, lastMs: _last, ...summary }) => summary)
}
