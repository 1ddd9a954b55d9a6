/**
 * @module Log levels at run time (issue #12, "debugging an incident"): GET /logs/level shows the
 * default (LOG_LEVEL at start) and every component's level; PUT /logs/level changes the default or one
 * component's, without a restart; DELETE /logs/level/{component} puts a component back on the default.
 * A change applies on this node at once and is announced to the others (log_level_changed). It lasts
 * until the process restarts, which starts again from LOG_LEVEL.
 */
import * as v from 'valibot'
import { COMPONENT_NAME, LOG_LEVELS, type LogLevel, type LogLevels } from '../lib/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'

const TAG = 'logs'

export interface LogLevelRoutesDeps {
  readonly levels: LogLevels
  /** Tells every other node (the event bus); this node has applied the change already. */
  readonly announce: (component: string | null, level: LogLevel | null) => Promise<void>
  readonly nodeId: string
}

const levelSchema = v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`)
const componentSchema = v.pipe(v.string(), v.regex(COMPONENT_NAME, 'expected a component name (lower-case letters, digits and -)'))

const BodySchema = v.object({
  level: levelSchema,
  /** Absent: the default level, which every component without its own follows. */
  component: v.optional(componentSchema),
})

const TableSchema = v.object({
  node: v.string(),
  default: levelSchema,
  components: v.array(v.object({ name: v.string(), level: levelSchema, own: v.boolean() })),
})

const ERRORS = {
  401: { description: 'no or invalid token' },
  403: { description: 'the admin scope is required' },
} as const

export function logLevelRoutes(deps: LogLevelRoutesDeps): RouteSpec[] {
  const { levels } = deps
  const table = () => ({ node: deps.nodeId, ...levels.table() })
  const unknown = (component: string) =>
    new ApiError(404, 'not_found', `no log component ${component} on this node; known: ${levels.table().components.map((entry) => entry.name).join(', ') || 'none'}`)

  const change = (method: 'put' | 'post') =>
    defineRoute({
      method,
      path: '/logs/level',
      scope: 'admin',
      tag: TAG,
      summary: method === 'put' ? 'Change the default log level, or one component\'s, at run time on every node' : 'The same as PUT /logs/level (the original\'s client posted)',
      body: BodySchema,
      responses: { 200: { description: 'the levels now', schema: TableSchema }, 400: { description: 'a bad level or component name' }, 404: { description: 'no such component' }, ...ERRORS },
      async handler(c, { body }) {
        if (body.component === undefined) levels.setDefault(body.level)
        else if (!levels.isKnown(body.component)) throw unknown(body.component)
        else levels.set(body.component, body.level)
        await deps.announce(body.component ?? null, body.level)
        return c.json(table())
      },
    })

  return [
    defineRoute({
      method: 'get',
      path: '/logs/level',
      scope: 'admin',
      tag: TAG,
      summary: 'The log levels of this node: the default and each component\'s (own, or following the default)',
      responses: { 200: { description: 'the levels', schema: TableSchema }, ...ERRORS },
      handler: (c) => c.json(table()),
    }),
    change('put'),
    change('post'),
    defineRoute({
      method: 'delete',
      path: '/logs/level/:component',
      scope: 'admin',
      tag: TAG,
      summary: 'Put a component back on the default log level, on every node',
      params: v.object({ component: componentSchema }),
      responses: { 200: { description: 'the levels now', schema: TableSchema }, 400: { description: 'a bad component name' }, 404: { description: 'no such component' }, ...ERRORS },
      async handler(c, { params }) {
        if (!levels.isKnown(params.component)) throw unknown(params.component)
        levels.reset(params.component)
        await deps.announce(params.component, null)
        return c.json(table())
      },
    }),
  ]
}

/** What every node does when it hears log_level_changed (its own change included: applying it twice is harmless). */
export function applyLogLevelChange(levels: LogLevels, component: string | null, level: LogLevel | null): void {
  if (component === null) {
    if (level !== null) levels.setDefault(level)
  } else if (level === null) levels.reset(component)
  else levels.set(component, level)
}
