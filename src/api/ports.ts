/** @module GET /ports: which loopback ports each proxy's instances use. */
import * as v from 'valibot'
import type { PortAllocator } from '../ports/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

const AssignmentSchema = v.object({ hostname: v.string(), http: v.optional(v.number()), https: v.optional(v.number()) })

export function portRoutes(ports: PortAllocator): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/ports',
      scope: 'user',
      tag: 'proxies',
      summary: 'Loopback ports assigned to proxy instances',
      responses: { 200: { description: 'assignments', schema: v.array(AssignmentSchema) } },
      handler: async (c) => c.json(await ports.list()),
    }),
  ]
}
