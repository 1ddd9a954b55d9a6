/**
 * @module One OAuth activity event (issue #12): what the authorization server did for whom, from where.
 * The authorization server says what happened (oauth/activity.ts, which this module may not import: the
 * composition root joins the two); the log adds the time and the node.
 *
 * Never a token, code, state, secret or hash: only the user's login and id, the client id, the
 * resource, the scopes, the grant type, our own reason, the client's address and user agent. Every
 * field is bounded, so an event cannot grow with what a client sends.
 */
import * as v from 'valibot'
import { normalizeClientAddress, OAUTH_ACTIVITY_GRANTS, OAUTH_ACTIVITY_TYPES, type OAuthActivityType } from '../lib/index.ts'

/** The activity kinds, named in lib/ for both this log and the authorization server that reports them. */
export const OAUTH_EVENT_TYPES = OAUTH_ACTIVITY_TYPES
export type OAuthEventType = OAuthActivityType

export const OAUTH_EVENT_GRANTS = OAUTH_ACTIVITY_GRANTS

/** What the recorder is given: the authorization server's activity plus the request's address and user agent. */
export interface OAuthEventInput {
  readonly type: OAuthEventType
  readonly user?: string
  readonly user_id?: string
  readonly client_id?: string
  readonly resource?: string
  readonly scopes?: readonly string[]
  readonly grant?: (typeof OAUTH_EVENT_GRANTS)[number]
  readonly reason?: string
  /** The client's address (after a trusted PROXY header); absent for in-process calls. */
  readonly ip?: string | null
  readonly user_agent?: string | null
}

const text = (max: number) => v.nullable(v.pipe(v.string(), v.maxLength(max)))

/** The stored document of an event (the time is the log entry's own). */
export const StoredOAuthEventSchema = v.object({
  type: v.picklist(OAUTH_EVENT_TYPES),
  node: v.string(),
  user: text(100),
  user_id: text(100),
  client_id: text(512),
  resource: text(2048),
  scopes: v.nullable(v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(16))),
  grant: v.nullable(v.picklist(OAUTH_EVENT_GRANTS)),
  reason: text(200),
  ip: text(64),
  user_agent: text(256),
})
export type StoredOAuthEvent = v.InferOutput<typeof StoredOAuthEventSchema>

/** An event as queries return it. */
export interface OAuthEvent extends StoredOAuthEvent {
  /** The log entry's id: unique, increasing in append order. */
  readonly id: string
  /** ISO 8601, milliseconds. */
  readonly time: string
  readonly time_ms: number
}

/** Control characters out, then cut to `max`: a user agent is the one free-text field a client controls. */
function bounded(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ')
  return clean.length > max ? clean.slice(0, max) : clean
}

/** The stored document for an input: bounded, with only the fields listed above (nothing an input object also carries). */
export function toStoredEvent(input: OAuthEventInput, node: string): StoredOAuthEvent {
  const ip = bounded(input.ip, 64)
  return {
    type: input.type,
    node,
    user: bounded(input.user, 100),
    user_id: bounded(input.user_id, 100),
    client_id: bounded(input.client_id, 512),
    resource: bounded(input.resource, 2048),
    scopes: input.scopes === undefined ? null : input.scopes.slice(0, 16).map((scope) => scope.slice(0, 64)),
    grant: input.grant ?? null,
    reason: bounded(input.reason, 200),
    ip: ip === null ? null : normalizeClientAddress(ip),
    user_agent: bounded(input.user_agent, 256),
  }
}

export function toOAuthEvent(id: string, timeMs: number, stored: StoredOAuthEvent): OAuthEvent {
  return { id, time: new Date(timeMs).toISOString(), time_ms: timeMs, ...stored }
}
