/**
 * @module The OAuth activity log (issue #12): GET /oauth/events with filters and cursor paging, the
 * original's by-ip/user/proxy views under /oauth/events (original-behaviour §3.4), and its /logs/oauth*
 * views (ones its client called; the server code was lost, §0): by ip, user and client, the debug and
 * flow traces (oldest first), and sessions derived from the events. Admin only: events hold addresses
 * and user names (the original let `user` read some and anyone read others). Never a token, code,
 * state or secret: the log holds none (logs/oauth-event.ts).
 */
import type { Context } from 'hono'
import { isIP } from 'node:net'
import * as v from 'valibot'
import type { Clock } from '../lib/index.ts'
import {
  InvalidCursorError,
  MAX_PAGE_LIMIT,
  OAUTH_EVENT_TYPES,
  parseTimeBound,
  summarizeSessions,
  TIME_BOUND_HINT,
  type OAuthActivityLog,
  type OAuthEvent,
  type OAuthEventFilter,
  type OAuthEventOrder,
  type OAuthEventType,
} from '../logs/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

const TAG = 'logs'
const HOUR_MS = 3_600_000
/** The original's bound on `hours` (30 days); LOG_RETENTION keeps less by default anyway. */
const MAX_HOURS = 720

export interface OAuthEventRoutesDeps {
  readonly activity: Pick<OAuthActivityLog, 'query'>
  readonly clock: Clock
}

const digits = /^\d{1,7}$/

const limitSchema = (fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(digits, `expected an integer from 1 to ${MAX_PAGE_LIMIT}`),
      v.transform(Number),
      v.minValue(1, `expected an integer from 1 to ${MAX_PAGE_LIMIT}`),
      v.maxValue(MAX_PAGE_LIMIT, `expected an integer from 1 to ${MAX_PAGE_LIMIT}`),
    ),
    String(fallback),
  )

const hoursSchema = (max: number) =>
  v.optional(v.pipe(v.string(), v.regex(digits, `expected whole hours from 1 to ${max}`), v.transform(Number), v.minValue(1, `expected whole hours from 1 to ${max}`), v.maxValue(max, `expected whole hours from 1 to ${max}`)))

/** The request log's time bounds (ISO 8601, or a time ago such as 15m, 2h, 7d), or an event's time_ms; resolved against now in the handler. */
const instantSchema = v.optional(v.pipe(v.string(), v.check((text) => /^\d{1,16}$/.test(text) || parseTimeBound(text, 0) !== null, `${TIME_BOUND_HINT}, or epoch milliseconds`)))
const instantMs = (text: string, nowMs: number) => (/^\d{1,16}$/.test(text) ? Number(text) : parseTimeBound(text, nowMs)!)

const typesSchema = v.optional(
  v.pipe(
    v.string(),
    v.transform((text) => text.split(',').map((name) => name.trim()).filter((name) => name !== '')),
    v.check((names) => names.length > 0 && names.every((name) => (OAUTH_EVENT_TYPES as readonly string[]).includes(name)), `expected a comma-separated list of ${OAUTH_EVENT_TYPES.join(', ')}`),
  ),
)

const ipSchema = v.pipe(v.string(), v.check((text) => isIP(text) !== 0, 'expected an IP address'))
const userSchema = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(100, 'at most 100 characters'))
const clientIdSchema = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(512, 'at most 512 characters'))
const hostSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a hostname'))
const cursorSchema = v.optional(v.pipe(v.string(), v.maxLength(128, 'not a cursor of this listing')))

const EventsQuerySchema = v.object({
  user: v.optional(userSchema),
  client_id: v.optional(clientIdSchema),
  ip: v.optional(ipSchema),
  type: typesSchema,
  proxy: v.optional(hostSchema),
  from: instantSchema,
  to: instantSchema,
  hours: hoursSchema(MAX_HOURS),
  order: v.optional(v.picklist(['newest', 'oldest'], 'expected newest or oldest'), 'newest'),
  limit: limitSchema(100),
  cursor: cursorSchema,
})

/** The original's view parameters: a window of `hours` back from now, `limit` events, and our cursor. */
const ViewQuerySchema = v.object({ hours: hoursSchema(MAX_HOURS), limit: limitSchema(1000), cursor: cursorSchema })

const EventSchema = v.object({
  id: v.string(),
  time: v.string(),
  time_ms: v.number(),
  type: v.picklist(OAUTH_EVENT_TYPES),
  node: v.string(),
  user: v.nullable(v.string()),
  user_id: v.nullable(v.string()),
  client_id: v.nullable(v.string()),
  resource: v.nullable(v.string()),
  scopes: v.nullable(v.array(v.string())),
  grant: v.nullable(v.string()),
  reason: v.nullable(v.string()),
  ip: v.nullable(v.string()),
  user_agent: v.nullable(v.string()),
})
const PageSchema = v.object({ events: v.array(EventSchema), count: v.number(), next_cursor: v.nullable(v.string()) })
const ViewSchema = v.object({ ...PageSchema.entries, hours: v.number(), start_time: v.string(), end_time: v.string() })

const ADMIN_ERRORS = {
  400: { description: 'a bad parameter (named), or a cursor not of this listing' },
  401: { description: 'no or invalid token' },
  403: { description: 'the admin scope is required' },
} as const

export function oauthEventRoutes(deps: OAuthEventRoutesDeps): RouteSpec[] {
  const { activity, clock } = deps

  async function page(c: Context, filter: OAuthEventFilter, limit: number, order: OAuthEventOrder, cursor: string | undefined) {
    try {
      const found = await activity.query(filter, { limit, order, ...(cursor === undefined ? {} : { cursor }) })
      c.header('Cache-Control', 'no-store')
      return { events: found.events, count: found.events.length, next_cursor: found.nextCursor }
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new ApiError(400, 'invalid_request', `query parameter cursor: ${error.message}`)
      throw error
    }
  }

  /** A view over the last `hours` (default 24), in the original's shape plus our cursor. */
  async function view(c: Context, filter: OAuthEventFilter, query: v.InferOutput<typeof ViewQuerySchema>, extra: Record<string, unknown>, order: OAuthEventOrder = 'newest', defaultHours = 24) {
    const hours = query.hours ?? defaultHours
    const endMs = clock.nowMs()
    const startMs = endMs - hours * HOUR_MS
    const found = await page(c, { ...filter, fromMs: startMs, toMs: endMs }, query.limit, order, query.cursor)
    return { ...found, ...extra, hours, start_time: new Date(startMs).toISOString(), end_time: new Date(endMs).toISOString() }
  }

  const byPath = (path: string, param: string, schema: v.GenericSchema<string, string>, summary: string, filterOf: (value: string) => OAuthEventFilter, field: string) =>
    defineRoute({
      method: 'get',
      path,
      scope: 'admin',
      tag: TAG,
      summary,
      params: v.object({ [param]: schema }),
      query: ViewQuerySchema,
      responses: { 200: { description: 'events, newest first', schema: ViewSchema }, ...ADMIN_ERRORS },
      handler: async (c, { params, query }) => {
        const value = (params as Record<string, string>)[param]!
        return c.json(await view(c, filterOf(value), query, { [field]: value }))
      },
    })

  return [
    defineRoute({
      method: 'get',
      path: '/oauth/events',
      scope: 'admin',
      tag: TAG,
      summary: 'OAuth activity: logins and refusals, consent, tokens issued/refreshed/refused/revoked, refresh-token reuse, registrations; filtered, paged by cursor',
      query: EventsQuerySchema,
      responses: { 200: { description: 'one page; next_cursor continues it (stable while new events arrive)', schema: PageSchema }, ...ADMIN_ERRORS },
      async handler(c, { query }) {
        if (query.hours !== undefined && query.from !== undefined) throw new ApiError(400, 'invalid_request', 'query parameter hours: give either hours or from, not both')
        const nowMs = clock.nowMs()
        const fromMs = query.from !== undefined ? instantMs(query.from, nowMs) : query.hours === undefined ? undefined : nowMs - query.hours * HOUR_MS
        const toMs = query.to === undefined ? undefined : instantMs(query.to, nowMs)
        // Without from or hours, the whole retained log: OAuth events are few, unlike request records.
        if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw new ApiError(400, 'invalid_request', 'query parameter from: must not be later than to')
        const filter: OAuthEventFilter = {
          ...(query.user === undefined ? {} : { user: query.user }),
          ...(query.client_id === undefined ? {} : { clientId: query.client_id }),
          ...(query.ip === undefined ? {} : { ip: query.ip }),
          ...(query.type === undefined ? {} : { types: query.type as OAuthEventType[] }),
          ...(query.proxy === undefined ? {} : { resourceHost: query.proxy }),
          ...(fromMs === undefined ? {} : { fromMs }),
          ...(toMs === undefined ? {} : { toMs }),
        }
        return c.json(await page(c, filter, query.limit, query.order, query.cursor))
      },
    }),
    // The original's /oauth/events views (§3.4), plus the client that its event index had and no route served.
    byPath('/oauth/events/ip/:ip', 'ip', ipSchema, 'OAuth activity from one client address (original /oauth/events/ip/{ip})', (ip) => ({ ip }), 'ip'),
    byPath('/oauth/events/user/:user', 'user', userSchema, 'OAuth activity of one GitHub user (original /oauth/events/user/{user})', (user) => ({ user }), 'user'),
    byPath('/oauth/events/client/:client_id', 'client_id', clientIdSchema, 'OAuth activity of one client', (clientId) => ({ clientId }), 'client_id'),
    byPath('/oauth/events/proxy/:proxy', 'proxy', hostSchema, "OAuth activity for one proxy's resource (original /oauth/events/proxy/{proxy})", (host) => ({ resourceHost: host }), 'proxy'),
    // The original's /logs/oauth* views (its client's commands: log oauth, oauth-user, oauth-client, oauth-debug, oauth-flow).
    defineRoute({
      method: 'get',
      path: '/logs/oauth/sessions',
      scope: 'admin',
      tag: TAG,
      summary: 'Sessions as the OAuth activity log saw them: per user, client and resource, logins, tokens, refreshes, revocations and the last address',
      query: v.object({ hours: hoursSchema(MAX_HOURS) }),
      responses: { 200: { description: 'sessions, most recently active first' }, ...ADMIN_ERRORS },
      async handler(c, { query }) {
        const hours = query.hours ?? 24
        const endMs = clock.nowMs()
        const events: OAuthEvent[] = []
        let cursor: string | undefined
        // At most 10,000 events: a summary of a busy day, not an export.
        for (let pages = 0; pages < 10; pages++) {
          const found = await page(c, { fromMs: endMs - hours * HOUR_MS, toMs: endMs }, MAX_PAGE_LIMIT, 'newest', cursor)
          events.push(...found.events)
          if (found.next_cursor === null) break
          cursor = found.next_cursor
        }
        const sessions = summarizeSessions(events)
        return c.json({ sessions, count: sessions.length, events_read: events.length, hours, start_time: new Date(endMs - hours * HOUR_MS).toISOString(), end_time: new Date(endMs).toISOString() })
      },
    }),
    byPath('/logs/oauth/user/:username', 'username', userSchema, 'OAuth activity of one GitHub user (original log oauth-user)', (user) => ({ user }), 'username'),
    byPath('/logs/oauth/client/:client_id', 'client_id', clientIdSchema, 'OAuth activity of one client (original log oauth-client)', (clientId) => ({ clientId }), 'client_id'),
    byPath('/logs/oauth/:ip', 'ip', ipSchema, 'OAuth activity from one client address (original /logs/oauth/{ip})', (ip) => ({ ip }), 'ip'),
    defineRoute({
      method: 'get',
      path: '/logs/oauth-debug/:ip',
      scope: 'admin',
      tag: TAG,
      summary: "One address's OAuth activity as a trace, oldest first, with counts by type (original /logs/oauth-debug/{ip})",
      params: v.object({ ip: ipSchema }),
      query: ViewQuerySchema,
      responses: { 200: { description: 'events, oldest first, and by_type counts' }, ...ADMIN_ERRORS },
      async handler(c, { params, query }) {
        const found = await view(c, { ip: params.ip }, query, { ip: params.ip }, 'oldest')
        const byType: Record<string, number> = {}
        for (const event of found.events) byType[event.type] = (byType[event.type] ?? 0) + 1
        return c.json({ ...found, by_type: byType })
      },
    }),
    defineRoute({
      method: 'get',
      path: '/logs/oauth-flow',
      scope: 'admin',
      tag: TAG,
      summary: 'A flow trace, oldest first: one client and/or user over the last hours (original /logs/oauth-flow; default 1 hour, at most 24)',
      query: v.object({ client_id: v.optional(clientIdSchema), username: v.optional(userSchema), session_id: v.optional(v.string()), hours: hoursSchema(24), limit: limitSchema(1000), cursor: cursorSchema }),
      responses: { 200: { description: 'events, oldest first' }, ...ADMIN_ERRORS },
      async handler(c, { query }) {
        // The original filtered by a session id its events never carried; saying so beats ignoring it.
        if (query.session_id !== undefined) throw new ApiError(400, 'invalid_request', 'query parameter session_id: not supported (events carry no session id); filter by username and client_id')
        const filter: OAuthEventFilter = { ...(query.client_id === undefined ? {} : { clientId: query.client_id }), ...(query.username === undefined ? {} : { user: query.username }) }
        const extra = { client_id: query.client_id ?? null, username: query.username ?? null }
        return c.json(await view(c, filter, query, extra, 'oldest', 1))
      },
    }),
  ]
}
