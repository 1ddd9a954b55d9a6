/**
 * @module Paths of the original's API that this one deliberately does not serve, each with the form that
 * replaces it. A script written for the original gets a 404 that names the new form instead of a bare
 * "no such endpoint". Mounted before every route: a path listed here shadows any route with the same path,
 * so an entry goes when its path gets a real route.
 */
import type { Hono } from 'hono'
import { ApiError } from './errors.ts'

interface MovedPath {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly path: string
  readonly instead: string
}

const MOVED_PATHS: readonly MovedPath[] = [
  // The original rendered text tables and CSV (?format=table|csv); this API answers JSON only.
  { method: 'GET', path: '/proxy/targets/formatted', instead: 'use GET /proxy/targets, which answers JSON (this API renders no tables or CSV)' },
  { method: 'GET', path: '/routes/formatted', instead: 'use GET /routes, which answers JSON (this API renders no tables or CSV)' },
]

export function mountMovedPaths(app: Hono): void {
  for (const { method, path, instead } of MOVED_PATHS) {
    app.on(method, path, () => {
      throw new ApiError(404, 'not_found', `${method} ${path} is not served: ${instead}`)
    })
  }
}
