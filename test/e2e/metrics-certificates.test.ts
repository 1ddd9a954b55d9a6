/**
 * Certificate metrics of a real server process: a certificate issued by Pebble shows its notAfter as
 * ohp_certificate_expiry_timestamp_seconds and status issued; an order a CA refuses shows status
 * failed and no expiry — the two conditions examples/prometheus-alerts.yml alerts on.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startCertificateServer, type CertificateServer } from '../support/certificate-server.ts'
import { cleanupSpawned } from '../support/serve.ts'
import { parseExposition, samplesOf } from '../logs/metrics-text.ts'

let edge: CertificateServer

beforeAll(async () => {
  edge = await startCertificateServer()
}, 60_000)
afterAll(async () => {
  await edge?.stop()
  await cleanupSpawned()
})

interface Status {
  readonly status: string
  readonly not_after: string | null
}

/** Long-polls until the order is issued or failed. */
async function settled(name: string): Promise<Status> {
  for (let round = 0; round < 4; round++) {
    const status = (await (await edge.api('GET', `/certificates/${name}/status?wait=30`)).json()) as Status
    if (status.status === 'issued' || status.status === 'failed') return status
  }
  throw new Error(`${name} did not settle`)
}

test('an issued certificate has its expiry in seconds since the epoch and status issued; a refused order has status failed and no expiry', async () => {
  expect((await edge.api('POST', '/certificates', { body: { domains: ['metrics.test'] } })).status).toBe(202)
  expect((await edge.api('POST', '/certificates', { body: { domain: 'refused.test', staging: true } })).status).toBe(202)
  const [issued, refused] = await Promise.all([settled('metrics.test'), settled('refused.test')])
  expect([issued.status, refused.status]).toEqual(['issued', 'failed'])

  const response = await edge.api('GET', '/metrics', { token: edge.userToken })
  expect(response.status).toBe(200)
  const exposition = parseExposition(await response.text())
  expect(samplesOf(exposition, 'ohp_certificate_expiry_timestamp_seconds').map((s) => [s.labels.name, s.value])).toEqual([['metrics.test', Date.parse(issued.not_after!) / 1000]])
  const statusOf = (name: string) =>
    Object.fromEntries(samplesOf(exposition, 'ohp_certificate_status', { name }).map((s) => [s.labels.status, s.value]))
  expect(statusOf('metrics.test')).toEqual({ pending: 0, validating: 0, issued: 1, failed: 0 })
  expect(statusOf('refused.test')).toEqual({ pending: 0, validating: 0, issued: 0, failed: 1 })
}, 120_000)
