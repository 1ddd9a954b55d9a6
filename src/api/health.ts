/** @module GET /health: public liveness and store status; 503 naming the store when it does not answer. */
import * as v from 'valibot'
import type { Store } from '../store/index.ts'
import { VERSION } from '../version.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

const HealthSchema = v.object({
  status: v.picklist(['ok', 'unavailable']),
  version: v.string(),
  store: v.object({ kind: v.picklist(['embedded', 'redis']), status: v.picklist(['ok', 'unavailable']) }),
})

/** A store that does not answer in this time counts as down; health must answer fast either way. */
const PING_TIMEOUT_MS = 1_500

export async function checkStore(store: Store): Promise<boolean> {
  let timer: Timer | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)))
  try {
    return await Promise.race([store.ping().then(() => true, () => false), timeout])
  } finally {
    clearTimeout(timer)
  }
}

export function healthRoutes(store: Store): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/health',
      scope: 'public',
      tag: 'system',
      summary: 'Liveness and store status',
      responses: { 200: { description: 'healthy', schema: HealthSchema }, 503: { description: 'the store does not answer', schema: HealthSchema } },
      async handler(c) {
        const storeUp = await checkStore(store)
        const body: v.InferOutput<typeof HealthSchema> = {
          status: storeUp ? 'ok' : 'unavailable',
          version: VERSION,
          store: { kind: store.kind, status: storeUp ? 'ok' : 'unavailable' },
        }
        c.header('Cache-Control', 'no-store')
        return c.json(body, storeUp ? 200 : 503)
      },
    }),
  ]
}
