/**
 * @module Header captures (issue #12, "debugging an incident"): POST /logs/capture starts one for a
 * host for at most 15 minutes, on every node; GET /logs/capture/{id} reads what it caught (request and
 * response headers, masked: credentials, cookies and secret URL parameters never appear; bodies only
 * up to body_bytes, default none); DELETE ends it early. Admin only.
 */
import * as v from 'valibot'
import { HostnameSchema, parseDurationSec } from '../lib/index.ts'
import { CAPTURE_LIMITS, CaptureConflictError, type CaptureService } from '../logs/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

const TAG = 'logs'

export interface CaptureRoutesDeps {
  readonly captures: Pick<CaptureService, 'begin' | 'read' | 'end' | 'list'>
  /** Whether a proxy serves this host (exactly, or through a wildcard). */
  readonly hostServed: (host: string) => Promise<boolean>
}

const between = (min: number, max: number) => `expected an integer from ${min} to ${max}`

const BodySchema = v.object({
  host: v.pipe(
    HostnameSchema,
    v.check((host) => !host.startsWith('*.'), 'expected the host requests are sent to, not a wildcard'),
  ),
  /** Seconds, or a duration such as "90s", "10m". */
  duration: v.pipe(
    v.union([v.number(), v.string()], 'expected seconds or a duration such as "10m"'),
    v.transform((value) => (typeof value === 'number' ? value : (parseDurationSec(value) ?? Number.NaN))),
    v.check((sec) => Number.isInteger(sec) && sec >= 1 && sec <= CAPTURE_LIMITS.maxDurationSec, `expected 1 s to ${CAPTURE_LIMITS.maxDurationSec / 60} minutes`),
  ),
  max_requests: v.optional(
    v.pipe(v.number(between(1, CAPTURE_LIMITS.maxRequests)), v.integer(between(1, CAPTURE_LIMITS.maxRequests)), v.minValue(1, between(1, CAPTURE_LIMITS.maxRequests)), v.maxValue(CAPTURE_LIMITS.maxRequests, between(1, CAPTURE_LIMITS.maxRequests))),
    CAPTURE_LIMITS.defaultRequests,
  ),
  body_bytes: v.optional(
    v.pipe(v.number(between(0, CAPTURE_LIMITS.maxBodyBytes)), v.integer(between(0, CAPTURE_LIMITS.maxBodyBytes)), v.minValue(0, between(0, CAPTURE_LIMITS.maxBodyBytes)), v.maxValue(CAPTURE_LIMITS.maxBodyBytes, between(0, CAPTURE_LIMITS.maxBodyBytes))),
    0,
  ),
})

const IdParams = v.object({ id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'expected a capture id')) })

const CaptureSchema = v.object({
  id: v.string(),
  host: v.string(),
  started_at: v.string(),
  expires_at: v.string(),
  stopped_at: v.nullable(v.string()),
  active: v.boolean(),
  max_requests: v.number(),
  body_bytes: v.number(),
  created_by: v.string(),
  node: v.string(),
})

const ERRORS = {
  401: { description: 'no or invalid token' },
  403: { description: 'the admin scope is required' },
} as const

export function logCaptureRoutes(deps: CaptureRoutesDeps): RouteSpec[] {
  const { captures } = deps
  const notFound = () => new ApiError(404, 'not_found', 'no capture with this id (captures are kept as long as LOG_RETENTION)')

  return [
    defineRoute({
      method: 'post',
      path: '/logs/capture',
      scope: 'admin',
      tag: TAG,
      summary: 'Capture request and response headers for one host, on every node, for at most 15 minutes (masked; bodies only up to body_bytes)',
      body: BodySchema,
      responses: {
        201: { description: 'the capture, running', schema: CaptureSchema },
        400: { description: 'a bad field (named)' },
        404: { description: 'no proxy serves this host' },
        409: { description: 'a capture for this host is already running, or too many are' },
        ...ERRORS,
      },
      async handler(c, { body }) {
        if (!(await deps.hostServed(body.host))) throw new ApiError(404, 'not_found', `no proxy serves ${body.host}`)
        try {
          const capture = await captures.begin({ host: body.host, durationSec: body.duration, maxRequests: body.max_requests, bodyBytes: body.body_bytes, createdBy: c.get('principal').username })
          c.header('Location', `/logs/capture/${capture.id}`)
          return c.json(capture, 201)
        } catch (error) {
          if (error instanceof CaptureConflictError) throw new ApiError(409, 'conflict', error.message)
          throw error
        }
      },
    }),
    defineRoute({
      method: 'get',
      path: '/logs/capture',
      scope: 'admin',
      tag: TAG,
      summary: 'Every capture still kept, running or ended, newest first',
      responses: { 200: { description: 'the captures', schema: v.object({ captures: v.array(CaptureSchema) }) }, ...ERRORS },
      handler: async (c) => c.json({ captures: await captures.list() }),
    }),
    defineRoute({
      method: 'get',
      path: '/logs/capture/:id',
      scope: 'admin',
      tag: TAG,
      summary: 'A capture and the exchanges it caught so far, oldest first (the first max_requests over all nodes)',
      params: IdParams,
      responses: { 200: { description: 'the capture and its exchanges' }, 400: { description: 'not a capture id' }, 404: { description: 'no such capture' }, ...ERRORS },
      async handler(c, { params }) {
        const found = await captures.read(params.id)
        if (!found) throw notFound()
        c.header('Cache-Control', 'no-store')
        return c.json({ ...found.capture, count: found.exchanges.length, exchanges: found.exchanges })
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/logs/capture/:id',
      scope: 'admin',
      tag: TAG,
      summary: 'End a capture now, on every node (what it caught stays readable)',
      params: IdParams,
      responses: { 200: { description: 'the capture, ended', schema: CaptureSchema }, 400: { description: 'not a capture id' }, 404: { description: 'no such capture' }, ...ERRORS },
      async handler(c, { params }) {
        const ended = await captures.end(params.id)
        if (!ended) throw notFound()
        return c.json(ended)
      },
    }),
  ]
}
