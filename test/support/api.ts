/** @module An in-process management API on the embedded store, for handler-level tests (app.request). */
import { createApiApp } from '../../src/api/index.ts'
import type { RouteSpec } from '../../src/api/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { apiResource, createKeyRing, issueAccessToken, verifyAccessToken, type Scope } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'

export async function createTestApi(options: { extraRoutes?: RouteSpec[]; env?: Record<string, string> } = {}) {
  const config = loadConfig({ DATA_DIR: ':memory:', API_PORT: '9000', LOG_LEVEL: 'silent', ...options.env })
  const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
  const store = createEmbeddedStore({ dataDir: ':memory:', clock })
  const keyRing = createKeyRing(store, clock, { retireAfterSec: config.oauth.accessTokenLifetimeSec })
  await keyRing.ensureActive()
  const audience = apiResource(config)
  const app = createApiApp({
    config,
    store,
    clock,
    keyRing,
    logger: createLogger('silent'),
    startedAtMs: clock.nowMs(),
    verifyToken: (token) => verifyAccessToken(keyRing, clock, token, { issuers: [config.publicUrl], audience }),
    extraRoutes: options.extraRoutes,
  })
  const issue = (scopes: Scope[], overrides: { ttlSec?: number; audience?: string; issuer?: string } = {}) =>
    issueAccessToken(keyRing, clock, {
      issuer: overrides.issuer ?? config.publicUrl,
      audience: overrides.audience ?? audience,
      subject: 'local:alice',
      username: 'alice',
      scopes,
      clientId: 'test',
      ttlSec: overrides.ttlSec ?? 3600,
    })
  return { app, config, clock, store, keyRing, issue, close: () => store.close() }
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
