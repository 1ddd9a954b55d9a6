/**
 * GET /metrics on a real listener: a token with the user scope (RFC 6750 §2.1; admin implies it), or
 * a caller whose connection comes from METRICS_TRUSTED. Without either, RFC 6750 §3's challenges: 401
 * with no token or a bad one, 403 insufficient_scope for an mcp-only token. Trust is the socket's
 * address: forwarded headers never grant it, and an in-process call (the edge's localhost proxy)
 * never has it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { metricsRoutes } from '../../src/api/index.ts'
import { ConfigError, loadConfig } from '../../src/config/index.ts'
import { createMetrics, EXPOSITION_CONTENT_TYPE, type Metrics } from '../../src/logs/index.ts'
import { bearer, createTestApi } from '../support/api.ts'
import { parseExposition, sumOf } from '../logs/metrics-text.ts'

interface Scraped {
  readonly api: Awaited<ReturnType<typeof createTestApi>>
  readonly server: ReturnType<typeof Bun.serve>
  readonly metrics: Metrics
  readonly url: string
}

/** The API with /metrics, served by Bun.serve on 127.0.0.1 as server.ts does (so the app sees the peer). */
async function serveWith(trustedScrapers: string): Promise<Scraped> {
  const metrics = createMetrics({ eventLoopSampleIntervalMs: 0, sources: { activeConnections: () => 3 } })
  const api = await createTestApi({ extraRoutes: metricsRoutes({ metrics, trustedScrapers: loadConfig({ METRICS_TRUSTED: trustedScrapers }).metricsTrusted }) })
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: api.app.fetch })
  return { api, server, metrics, url: `http://127.0.0.1:${server.port}/metrics` }
}

let untrusted: Scraped
let trusted: Scraped

beforeAll(async () => {
  // The tests connect from 127.0.0.1: outside the first list, inside the second.
  ;[untrusted, trusted] = await Promise.all([serveWith('10.0.0.0/8, ::1'), serveWith('127.0.0.0/8')])
})
afterAll(async () => {
  for (const scraped of [untrusted, trusted]) {
    await scraped?.server.stop(true)
    scraped?.metrics.close()
    await scraped?.api.close()
  }
})

describe('GET /metrics with a token', () => {
  test('RFC 6750 §3: no token from an untrusted address is 401 with a bare Bearer challenge', async () => {
    const response = await fetch(untrusted.url)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oauth-https-proxy"')
    expect(await response.json()).toEqual({ error: 'invalid_token', error_description: 'a Bearer access token is required' })
  })

  test('RFC 6750 §3.1: a bad or expired token is 401 invalid_token', async () => {
    const expired = await untrusted.api.issue(['user'], { ttlSec: 60 })
    untrusted.api.clock.advanceMs(61_000)
    for (const token of ['not-a-jwt', expired, await untrusted.api.issue(['user'], { audience: 'https://elsewhere.example' })]) {
      const response = await fetch(untrusted.url, { headers: bearer(token) })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
    }
  })

  test('RFC 6750 §3.1: an mcp-only token is 403 insufficient_scope naming user', async () => {
    const response = await fetch(untrusted.url, { headers: bearer(await untrusted.api.issue(['mcp'])) })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="oauth-https-proxy", error="insufficient_scope", scope="user"')
    expect((await response.json()).error).toBe('insufficient_scope')
  })

  test('a user token (or admin, which implies it) is 200: the text format 0.0.4, not cached, parseable', async () => {
    for (const scopes of [['user'], ['admin']] as const) {
      const response = await fetch(untrusted.url, { headers: bearer(await untrusted.api.issue([...scopes])) })
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe(EXPOSITION_CONTENT_TYPE)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(sumOf(parseExposition(await response.text()), 'ohp_active_connections')).toBe(3)
    }
  })

  test('forwarded headers naming a trusted address grant nothing: trust is the connection, not what a client writes', async () => {
    const response = await fetch(untrusted.url, { headers: { 'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3', forwarded: 'for=10.1.2.3' } })
    expect(response.status).toBe(401)
  })
})

describe('GET /metrics from METRICS_TRUSTED', () => {
  test('a caller in the list needs no token', async () => {
    const response = await fetch(trusted.url)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(EXPOSITION_CONTENT_TYPE)
    expect(parseExposition(await response.text()).families.has('ohp_requests_total')).toBe(true)
  })

  test('an in-process call (how the edge reaches the API for the localhost proxy) is never trusted: it needs a token', async () => {
    expect((await trusted.api.app.request('/metrics')).status).toBe(401)
    expect((await trusted.api.app.request('/metrics', { headers: bearer(await trusted.api.issue(['user'])) })).status).toBe(200)
  })
})

describe('METRICS_TRUSTED', () => {
  test('defaults to no one; takes CIDRs and bare addresses; a bad entry stops start-up naming the setting', () => {
    expect(loadConfig({}).metricsTrusted).toEqual([])
    expect(loadConfig({ METRICS_TRUSTED: '10.0.0.0/8, ::1 ,192.168.1.7' }).metricsTrusted).toEqual(['10.0.0.0/8', '::1', '192.168.1.7'])
    for (const bad of ['10.0.0.0/33', 'prometheus.local', '10.0.0.0/8;rm']) {
      let problems: readonly string[] = []
      try {
        loadConfig({ METRICS_TRUSTED: bad })
      } catch (error) {
        if (error instanceof ConfigError) problems = error.problems
      }
      expect(problems).toEqual([`METRICS_TRUSTED: expected CIDRs separated by commas, e.g. 10.0.0.0/8,::1, got ${JSON.stringify(bad)}`])
    }
  })
})
