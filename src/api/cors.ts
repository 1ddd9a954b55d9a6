/**
 * @module CORS for the OAuth endpoints that browser-based clients call from their own page (the MCP
 * Inspector registers from http://localhost:6274): any origin, never credentials. `*` is safe here
 * because these endpoints take no cookies: a caller proves itself with a bearer token in the
 * Authorization header, which a browser never attaches on its own. The authorization endpoint must
 * never use this (OAuth 2.1 §3.1: it is navigated to, not fetched).
 */
import type { Context } from 'hono'
import { defineRoute, type RouteSpec } from './define-route.ts'

/** What an MCP client sends on these endpoints (peers-and-specs RS-09). */
const ALLOWED_REQUEST_HEADERS = 'Authorization, Content-Type, MCP-Protocol-Version'
const PREFLIGHT_MAX_AGE_SEC = 86_400

/** Marks a response readable from any origin; WWW-Authenticate is exposed so a page can read its 401 challenge. */
export function allowAnyOrigin(c: Context): void {
  c.header('Access-Control-Allow-Origin', '*')
  c.header('Access-Control-Expose-Headers', 'WWW-Authenticate')
}

/** Answers the CORS preflight (OPTIONS) for one path. */
export function corsPreflightRoute(path: string, methods: readonly string[], tag: string): RouteSpec {
  return defineRoute({
    method: 'options',
    path,
    scope: 'public',
    tag,
    summary: 'CORS preflight',
    responses: { 204: { description: 'the methods and headers a cross-origin page may use' } },
    handler(c) {
      allowAnyOrigin(c)
      c.header('Access-Control-Allow-Methods', [...methods, 'OPTIONS'].join(', '))
      c.header('Access-Control-Allow-Headers', ALLOWED_REQUEST_HEADERS)
      c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SEC))
      return c.body(null, 204)
    },
  })
}
