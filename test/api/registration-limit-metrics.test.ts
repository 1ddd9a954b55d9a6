/**
 * The registration limit's refusals (OAUTH_REGISTRATIONS_PER_HOUR, RFC 7591 §5 abuse limits) are rate
 * limiting like the others: each 429 counts in ohp_rate_limited_total{scope="registration"} on
 * /metrics, beside oauth, api_address, api_token and proxy. Real server; clients are 127.0.0.x source
 * addresses (the test's own calls, from 127.0.0.1, are exempt), the general authorization-server limit
 * is off, so only the registration limit refuses.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { httpFrom } from '../support/http-from.ts'

const PER_HOUR = 2
const HOUR_MS = 3_600_000
const CLIENT = JSON.stringify({ client_name: 'App', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' })

let edge: TestEdge
let apiPort: number

beforeAll(async () => {
  edge = await startTestEdge({ RATE_LIMIT_EXEMPT: '127.0.0.1', RATE_LIMIT_OAUTH: 'off', OAUTH_REGISTRATIONS_PER_HOUR: String(PER_HOUR) })
  apiPort = Number(new URL(edge.server.apiUrl).port)
})
afterAll(async () => {
  await edge?.stop()
})

const register = (from: string) => httpFrom(from, apiPort, { method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: CLIENT })

async function refusals(): Promise<Record<string, number>> {
  const metrics = await (await edge.api('GET', '/metrics')).text()
  return Object.fromEntries([...metrics.matchAll(/^ohp_rate_limited_total\{scope="([a-z_]+)"\} (\d+)$/gm)].map(([, scope, value]) => [scope!, Number(value)]))
}

describe('ohp_rate_limited_total{scope="registration"}', () => {
  test('every 429 of the hourly registration limit is counted, per refusal; admitted registrations and exempt addresses are not', async () => {
    // The count is per clock hour: the requests below must not straddle one.
    const leftMs = HOUR_MS - (Date.now() % HOUR_MS)
    if (leftMs < 10_000) await Bun.sleep(leftMs + 500)
    expect(await refusals()).toEqual({ oauth: 0, registration: 0, api_address: 0, api_token: 0, proxy: 0 })

    const first: number[] = []
    for (let i = 0; i < PER_HOUR + 1; i++) first.push((await register('127.0.0.81')).status)
    expect(first).toEqual([201, 201, 429])
    expect(await refusals()).toMatchObject({ registration: 1, oauth: 0 })

    const second: number[] = []
    for (let i = 0; i < PER_HOUR + 2; i++) second.push((await register('127.0.0.82')).status)
    expect(second).toEqual([201, 201, 429, 429])
    expect(await refusals()).toMatchObject({ registration: 3, oauth: 0 })

    // RATE_LIMIT_EXEMPT (127.0.0.1): never refused, never counted.
    for (let i = 0; i < PER_HOUR + 1; i++) expect((await register('127.0.0.1')).status).toBe(201)
    expect(await refusals()).toEqual({ oauth: 0, registration: 3, api_address: 0, api_token: 0, proxy: 0 })
  })

  test('the metric names the scope in its help text', async () => {
    const metrics = await (await edge.api('GET', '/metrics')).text()
    expect(metrics).toMatch(/^# HELP ohp_rate_limited_total .*registration \(/m)
  })
})
