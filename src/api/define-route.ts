/**
 * @module One way to add an API route: a RouteSpec names its method, path, required scope and
 * valibot schemas for its path parameters, query and body. The same spec mounts the handler (auth,
 * then input validation) and feeds the OpenAPI document, so documentation cannot drift from what is
 * enforced.
 */
import type { Context, Hono } from 'hono'
import * as v from 'valibot'
import { fieldPath, type Logger } from '../lib/index.ts'
import { authenticate, type RouteScope, type SessionCredential, type VerifyApiToken } from './auth.ts'
import { ApiError } from './errors.ts'

type AnySchema = v.GenericSchema

/** A path-parameter schema: an object with one string entry per `:name` in the path. */
type ParamsSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>

export interface RouteSpec<
  B extends AnySchema | undefined = AnySchema | undefined,
  Q extends AnySchema | undefined = AnySchema | undefined,
  P extends ParamsSchema | undefined = ParamsSchema | undefined,
> {
  /** 'options' is for CORS preflight answers (public routes only). */
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete' | 'options'
  /** Hono syntax: /proxy/targets/:hostname */
  readonly path: string
  readonly scope: RouteScope
  /** A 'public' route that checks a credential of its own (RFC 7592's registration access token), for the OpenAPI document. */
  readonly ownCredential?: 'registrationAccessToken'
  /**
   * Callers this route admits without a token (by their connection's address: METRICS_TRUSTED); the
   * others need the scope as usual. The handler then has no principal, so it must not read one.
   */
  readonly admitsWithoutToken?: (c: Context) => boolean
  readonly tag: string
  readonly summary: string
  /** Validated before the query and the body; a failure is a 400 `path parameter <name>: …`. */
  readonly params?: P
  readonly body?: B
  /** The body may be left out (no Content-Type, nothing sent): it is then validated as `{}`, so its defaults apply. */
  readonly isBodyOptional?: boolean
  readonly query?: Q
  readonly responses: Readonly<Record<number, { description: string; schema?: AnySchema }>>
  readonly handler: (c: Context, input: { body: Infer<B>; query: Infer<Q>; params: Infer<P> }) => Response | Promise<Response>
}

type Infer<S> = S extends AnySchema ? v.InferOutput<S> : undefined

/** Keeps each spec's generic parameters when specs are collected into one list. */
export function defineRoute<B extends AnySchema | undefined = undefined, Q extends AnySchema | undefined = undefined, P extends ParamsSchema | undefined = undefined>(
  spec: RouteSpec<B, Q, P>,
): RouteSpec {
  return spec as unknown as RouteSpec
}

export interface MountDeps {
  readonly verifyToken: VerifyApiToken
  readonly logger: Logger
  /** The web UI's session cookie as a credential (src/ui); absent: Bearer tokens only. */
  readonly sessionCredential?: SessionCredential
}

export function mountRoutes(app: Hono, routes: readonly RouteSpec[], deps: MountDeps): void {
  for (const route of routes) {
    app.on(route.method.toUpperCase(), route.path, async (c) => {
      if (route.scope !== 'public' && !route.admitsWithoutToken?.(c)) c.set('principal', await authenticate(c, route.scope, deps.verifyToken, deps.logger, deps.sessionCredential))
      const params = route.params ? validate(route.params, c.req.param(), 'path parameter') : undefined
      const query = route.query ? validate(route.query, c.req.query(), 'query parameter') : undefined
      const body = route.body ? validate(route.body, route.isBodyOptional && !hasBody(c) ? {} : await readJson(c), 'field') : undefined
      return route.handler(c, { body, query, params })
    })
  }
}

/** RFC 9110 §8.6: a request without Content-Length or Transfer-Encoding has no content. */
export function hasBody(c: Context): boolean {
  const length = c.req.header('content-length')
  return c.req.header('transfer-encoding') !== undefined || (length !== undefined && length !== '0')
}

async function readJson(c: Context): Promise<unknown> {
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(415, 'unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)')
  }
  try {
    return await c.req.json()
  } catch {
    throw new ApiError(400, 'invalid_request', 'the request body is not valid JSON')
  }
}

/** Names the first offending field and what it expected: `target_url: expected an http(s) URL`. */
function validate<S extends AnySchema>(schema: S, input: unknown, noun: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input)
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = fieldPath(issue.path)
  // valibot reports a missing key as an "Invalid key" issue; say it plainly.
  const message = issue.kind === 'schema' && issue.input === undefined && path ? 'is required' : issue.message
  throw new ApiError(400, 'invalid_request', path ? `${noun} ${path}: ${message}` : message)
}
