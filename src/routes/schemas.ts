/**
 * @module What a client may send for a route (POST and PUT /routes), and the rules that tie its fields
 * together. One function, checkRouteFields, holds the cross-field rules: the create schema runs it, and
 * the store runs it again on the merged document of an update, so both paths refuse the same things.
 */
import * as v from 'valibot'
import { HostnameSchema, isHttpUrl, isValidHostname, parseServiceRef } from '../lib/index.ts'
import { ROUTE_SCOPES, ROUTE_TARGET_TYPES, RouteAuthSchema, type Route, type RouteTargetType } from './model.ts'
import { checkPattern } from './pattern.ts'

/** RFC 9110 §9.1: a method is a token (§5.6.2); "*" alone means any method. */
const METHOD_TOKEN = /^[!#$%&'+.^_`|~0-9A-Za-z-]+$/

export const MethodsSchema = v.pipe(
  v.nullable(
    v.pipe(
      v.array(
        v.pipe(
          v.string('expected a method name'),
          v.check((name) => name === '*' || (METHOD_TOKEN.test(name) && name.length <= 32), 'expected an HTTP method name (RFC 9110 §9.1 token) or "*"'),
          v.toUpperCase(),
        ),
        'expected a list of method names or null',
      ),
      v.maxLength(32, 'at most 32 methods'),
    ),
  ),
  // The original's rule: null, an empty list, or a list holding "*" all mean any method; stored as null.
  v.transform((methods) => (methods === null || methods.length === 0 || methods.includes('*') ? null : [...new Set(methods)])),
)

export const PrioritySchema = v.pipe(
  v.number('expected an integer from 0 to 999'),
  v.integer('expected an integer from 0 to 999'),
  v.minValue(0, 'expected an integer from 0 to 999'),
  v.maxValue(999, 'expected an integer from 0 to 999'),
)

/** Sorted and without repeats, so two spellings of one set are the same route (and the same duplicate key). */
export const ProxyHostnamesSchema = v.pipe(
  v.array(HostnameSchema, 'expected a list of proxy hostnames'),
  v.maxLength(100, 'at most 100 proxy hostnames'),
  v.transform((names) => [...new Set(names)].sort()),
)

const BooleanSchema = v.boolean('expected true or false')

/** Every settable field in its plain form; create adds defaults, update makes each optional. */
const FieldEntries = {
  /** Shape depends on is_regex: checked by checkPattern (pattern.ts), through checkRouteFields. */
  path_pattern: v.string('expected a path prefix or a regular expression'),
  is_regex: BooleanSchema,
  methods: MethodsSchema,
  priority: PrioritySchema,
  target_type: v.picklist(ROUTE_TARGET_TYPES, 'expected url, port, service or hostname'),
  /** Shape depends on target_type: checked and normalised by checkRouteFields. */
  target_value: v.union([v.string(), v.number()], 'expected a string or a number'),
  strip_prefix: BooleanSchema,
  scope: v.picklist(ROUTE_SCOPES, 'expected global or proxy'),
  proxy_hostnames: ProxyHostnamesSchema,
  enabled: BooleanSchema,
  description: v.pipe(v.string('expected text'), v.maxLength(500, 'at most 500 characters')),
  auth: v.nullable(RouteAuthSchema),
}

/** The fields a client sets, as stored. */
export type RouteFields = Pick<
  Route,
  'path_pattern' | 'is_regex' | 'methods' | 'priority' | 'target_type' | 'target_value' | 'strip_prefix' | 'scope' | 'proxy_hostnames' | 'enabled' | 'description' | 'auth'
>

/** Route fields before the target is checked: target_value may still be a number or lack a URL scheme. */
export type RawRouteFields = Omit<RouteFields, 'target_value'> & { target_value: string | number }

export interface FieldProblem {
  readonly field: keyof RouteFields
  readonly message: string
}

/** The cross-field rules, in a fixed order; returns the fields with target_value normalised, or the first problem. */
export function checkRouteFields(fields: RawRouteFields): { ok: true; fields: RouteFields } | ({ ok: false } & FieldProblem) {
  const patternProblem = checkPattern(fields.path_pattern, fields.is_regex)
  if (patternProblem !== null) return { ok: false, field: 'path_pattern', message: patternProblem }
  const target = normaliseTarget(fields.target_type, fields.target_value)
  if (!target.ok) return { ok: false, field: 'target_value', message: target.message }
  if (fields.scope === 'proxy' && fields.proxy_hostnames.length === 0) {
    return { ok: false, field: 'proxy_hostnames', message: 'a route with scope proxy needs at least one proxy hostname' }
  }
  if (fields.scope === 'global' && fields.proxy_hostnames.length > 0) {
    return { ok: false, field: 'proxy_hostnames', message: 'must be empty when scope is global' }
  }
  return { ok: true, fields: { ...fields, target_value: target.value } }
}

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//

/** The stored text of a target: a URL (http:// prepended when it has no scheme, as the original did), a port, a service or a proxy name. */
export function normaliseTarget(type: RouteTargetType, value: string | number): { ok: true; value: string } | { ok: false; message: string } {
  switch (type) {
    case 'port': {
      const port = typeof value === 'number' ? value : /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN
      return Number.isInteger(port) && port >= 1 && port <= 65_535 ? { ok: true, value: String(port) } : { ok: false, message: 'expected a port number from 1 to 65535' }
    }
    case 'url': {
      const text = typeof value === 'string' ? value.trim() : ''
      const url = URL_SCHEME.test(text) ? text : `http://${text}`
      // Whitespace or controls inside would be silently percent-encoded by the URL parser; refuse them instead.
      const ok = text !== '' && text.length <= 2048 && !/[\s\x00-\x1f\x7f]/.test(text) && isHttpUrl(url)
      return ok ? { ok: true, value: url } : { ok: false, message: 'expected an http(s) URL with a host (no credentials, no fragment)' }
    }
    case 'service':
      return typeof value === 'string' && parseServiceRef(value) !== null
        ? { ok: true, value }
        : { ok: false, message: 'expected a service name (lower-case letters, digits, "_" and "-", at most 63), or <service>:<port name> for a port of a Docker service' }
    case 'hostname': {
      const name = typeof value === 'string' ? value.trim().toLowerCase() : ''
      // A wildcard names many hosts; a request must be sent to one.
      return isValidHostname(name) && !name.startsWith('*.') ? { ok: true, value: name } : { ok: false, message: 'expected the hostname of a proxy (no wildcard)' }
    }
  }
}

export const CreateRouteSchema = v.pipe(
  v.strictObject(
    {
      path_pattern: FieldEntries.path_pattern,
      is_regex: v.optional(BooleanSchema, false),
      methods: v.optional(MethodsSchema, null),
      priority: v.optional(PrioritySchema, 50),
      target_type: FieldEntries.target_type,
      target_value: FieldEntries.target_value,
      strip_prefix: v.optional(BooleanSchema, false),
      scope: v.optional(FieldEntries.scope, 'global'),
      proxy_hostnames: v.optional(ProxyHostnamesSchema, []),
      enabled: v.optional(BooleanSchema, true),
      description: v.optional(FieldEntries.description, ''),
      auth: v.optional(FieldEntries.auth, null),
    },
    'unknown field',
  ),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const checked = checkRouteFields(dataset.value)
    if (checked.ok) return checked.fields
    const input = dataset.value as Record<string, unknown>
    addIssue({ message: checked.message, path: [{ type: 'object', origin: 'value', input, key: checked.field, value: input[checked.field] }] })
    return NEVER
  }),
)

export type CreateRoute = v.InferOutput<typeof CreateRouteSchema>

/** PUT applies every field it is given and keeps the others; no defaults are filled in. */
export const UpdateRouteSchema = v.strictObject(
  Object.fromEntries(Object.entries(FieldEntries).map(([name, schema]) => [name, v.optional(schema)])) as {
    [K in keyof typeof FieldEntries]: v.OptionalSchema<(typeof FieldEntries)[K], undefined>
  },
  'unknown field',
)

export type UpdateRoute = v.InferOutput<typeof UpdateRouteSchema>

/** Route ids are generated as `<path slug>-<8 hex>`; anything else in a URL path is refused before the store is asked. */
export const RouteIdSchema = v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,100}$/, 'expected a route id (lower-case letters, digits and "-", at most 100)'))

export const ListRoutesQuerySchema = v.strictObject(
  {
    /** true: only enabled routes; false: only disabled ones; absent: all. */
    enabled: v.optional(v.pipe(v.picklist(['true', 'false'], 'expected true or false'), v.transform((text) => text === 'true'))),
  },
  'unknown query parameter',
)
