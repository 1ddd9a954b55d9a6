/**
 * @module Composes the management API: request ids, every module's routes (each declaring its
 * scope), the OpenAPI document, the offline docs page, the web UI, and one error renderer.
 */
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { getPath } from 'hono/utils/url'
import type { Config } from '../config/index.ts'
import type { Clock, Logger } from '../lib/index.ts'
import type { KeyRing } from '../oauth/index.ts'
import type { Store } from '../store/index.ts'
import type { SessionCredential, VerifyApiToken } from './auth.ts'
import { mountRoutes, type RouteSpec } from './define-route.ts'
import { mountDocs } from './docs.ts'
import { createErrorHandler, notFound } from './errors.ts'
import { healthRoutes } from './health.ts'
import { keyRoutes } from './keys.ts'
import { mountMovedPaths } from './moved-paths.ts'
import { apiRateLimit, type ApiRateLimits } from './rate-limit.ts'
import { buildOpenApiDocument } from './openapi.ts'
import { systemRoutes } from './system.ts'

export interface ApiDeps {
  readonly config: Config
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  readonly keyRing: KeyRing
  readonly verifyToken: VerifyApiToken
  readonly startedAtMs: number
  /** Routes contributed by feature modules, mounted beside the built-in ones. */
  readonly extraRoutes?: readonly RouteSpec[]
  /** Rate limits (#13) before every route; absent: none (handler-level tests). */
  readonly rateLimits?: ApiRateLimits
  /** The web UI's session cookie as a credential for the routes above (src/ui); absent: Bearer tokens only. */
  readonly sessionCredential?: SessionCredential
  /** Mounts the web UI (src/ui): its pages, files and sign-in, which are no part of the OpenAPI document. */
  readonly mountUi?: (app: Hono) => void
}

/**
 * Scripts written for the original call collection paths with a trailing slash (`/proxy/targets/`,
 * `/routes/`), so one trailing slash is ignored when routing. Not under /.well-known/: there the path
 * after the well-known name is an issuer's or resource's path (RFC 8414 §3.1, RFC 9728 §3.1), slash included.
 */
function routingPath(request: Request): string {
  const path = getPath(request)
  return path.length > 1 && path.endsWith('/') && !path.startsWith('/.well-known/') ? path.slice(0, -1) : path
}

export function createApiApp(deps: ApiDeps): Hono {
  const app = new Hono({ getPath: routingPath })
  app.use(requestId())
  if (deps.rateLimits) app.use(apiRateLimit(deps.rateLimits, deps.verifyToken))
  app.onError(createErrorHandler(deps.logger))
  app.notFound(notFound)
  mountMovedPaths(app)

  const routes: RouteSpec[] = [...healthRoutes(deps.store), ...systemRoutes(deps), ...keyRoutes(deps.keyRing), ...(deps.extraRoutes ?? [])]
  mountRoutes(app, routes, deps)

  // Kept as one string, not an object graph of thousands of objects that every garbage collection would visit.
  const openApiJson = JSON.stringify(buildOpenApiDocument(routes, deps.config.publicUrl))
  app.get('/openapi.json', (c) => c.body(openApiJson, 200, { 'content-type': 'application/json' }))
  mountDocs(app)
  deps.mountUi?.(app)
  return app
}
