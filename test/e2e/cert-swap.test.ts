/**
 * DESIGN §3.2: a certificate change starts the new TLS server before the old one stops listening, so
 * under continuous load no request fails while the certificate is swapped.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startEchoBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'
import { httpsRequest } from '../support/tls-client.ts'

let edge: TestEdge
let backend: ReturnType<typeof startEchoBackend>
beforeAll(async () => {
  edge = await startTestEdge()
  backend = startEchoBackend()
  await edge.createProxy('swap.test', `http://127.0.0.1:${backend.port}`)
})
afterAll(async () => {
  backend.stop(true)
  await edge.stop()
})

test('certificate swaps under continuous load: every request succeeds and the new certificate takes over', async () => {
  const first = await waitFor(async () => {
    const result = await httpsRequest(edge.httpsPort, 'swap.test')
    return result.status === 200 ? result : null
  }, { what: 'swap.test over HTTPS' })

  const seen = new Set<string>()
  const failures: string[] = []
  let completed = 0
  let running = true
  const worker = async () => {
    while (running) {
      try {
        const result = await httpsRequest(edge.httpsPort, 'swap.test', '/load')
        if (result.status !== 200) failures.push(`status ${result.status}`)
        seen.add(result.fingerprint)
        completed++
      } catch (error) {
        failures.push(String(error))
      }
    }
  }
  const workers = Array.from({ length: 4 }, worker)

  const fingerprints = [first.fingerprint]
  for (let swap = 1; swap <= 3; swap++) {
    await waitFor(() => completed >= swap * 40, { what: `${swap * 40} requests under load` })
    const response = await edge.api('PUT', '/proxy/targets/swap.test', { cert_name: `swap-cert-${swap}` })
    expect(response.status).toBe(200)
    const next = await waitFor(async () => {
      const result = await httpsRequest(edge.httpsPort, 'swap.test')
      return result.fingerprint !== fingerprints.at(-1) ? result : null
    }, { what: `certificate ${swap} to be served` })
    fingerprints.push(next.fingerprint)
  }
  await waitFor(() => completed >= 160, { what: 'load after the last swap' })
  running = false
  await Promise.all(workers)

  expect(failures).toEqual([])
  expect(new Set(fingerprints).size).toBe(4)
  // The load itself saw the certificates change, so it really ran across the swaps.
  expect(seen.size).toBeGreaterThanOrEqual(2)
}, 60_000)
