/** @module Request records for the log's tests: a plausible default, and a seeded generator of varied traffic. */
import type { RequestRecord } from '../../src/logs/index.ts'

let sequence = 0

export function makeRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  sequence++
  return {
    time: Date.UTC(2026, 10, 27, 12),
    request_id: `test-${sequence}`,
    node: 'node-a',
    scheme: 'https',
    host: 'app.example.com',
    proxy: 'app.example.com',
    method: 'GET',
    path: `/items/${sequence}`,
    status: 200,
    duration_ms: 12.5,
    bytes_in: 0,
    bytes_out: 512,
    client_ip: '192.0.2.10',
    user_agent: 'curl/8.5.0',
    user: null,
    client_id: null,
    route_id: null,
    backend: 'http://127.0.0.1:8080',
    outcome: 'forwarded',
    backend_error: null,
    ...overrides,
  }
}

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const HOSTS = ['app.example.com', 'api.example.com', 'mcp.example.com', 'static.example.com']
const PATHS = ['/', '/login', '/api/items', '/api/items?page=2', '/mcp', '/static/app.js']
const STATUSES = [200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 502, 503, 504]
const CLIENTS = [null, null, 'client-one', 'client-two', 'client-three']

/** Varied traffic between startMs and startMs + spanMs. */
export function trafficRecords(count: number, startMs: number, spanMs: number, seed = 1): RequestRecord[] {
  const random = seeded(seed)
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!
  return Array.from({ length: count }, () => {
    const status = pick(STATUSES)
    const isBackendError = status === 502 || status === 504
    const clientId = pick(CLIENTS)
    return makeRecord({
      time: startMs + Math.floor(random() * spanMs),
      host: pick(HOSTS),
      proxy: null,
      path: pick(PATHS),
      method: random() < 0.8 ? 'GET' : 'POST',
      status,
      duration_ms: Math.round(random() * 50_000) / 100,
      bytes_in: Math.floor(random() * 1_000),
      bytes_out: Math.floor(random() * 100_000),
      client_ip: `10.0.${Math.floor(random() * 4)}.${Math.floor(random() * 250)}`,
      client_id: clientId,
      user: clientId ? 'alice' : null,
      outcome: isBackendError ? 'backend_error' : status < 300 ? 'forwarded' : 'answered',
      backend_error: status === 502 ? 'refused' : status === 504 ? 'timeout' : null,
    })
  })
}
