/**
 * Adversarial review 2: a CA that never answers. An https "directory" on loopback that accepts TCP and
 * never completes the TLS handshake (a black-holed CA, or one behind a dead load balancer) must not stall
 * the API, nor orders from other CAs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Socket, TCPSocketListener } from 'bun'
import { startCertificateServer, type CertificateServer } from '../support/certificate-server.ts'
import { cleanupSpawned } from '../support/serve.ts'

let edge: CertificateServer
let tarpit: TCPSocketListener<undefined>
const held: Socket<undefined>[] = []

beforeAll(async () => {
  edge = await startCertificateServer()
  tarpit = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { open: (socket) => void held.push(socket), data() {} } })
}, 60_000)
afterAll(async () => {
  for (const socket of held) socket.terminate()
  tarpit?.stop(true)
  await edge?.stop()
  await cleanupSpawned()
}, 20_000)

async function json<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await edge.api(method, path, body === undefined ? {} : { body })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T }
}

describe('a CA that hangs', () => {
  test('orders against a directory that never answers do not hold up an order from another CA', async () => {
    // Each order takes one of maxConcurrentOrders (4) slots for up to orderTimeoutMs (10 minutes), and
    // acme-client sets no network timeout: four orders against a dead CA (a proxy's default staging CA
    // having an outage will do) stall every other order of the node, production ones included, for 10 minutes.
    const dead = `https://127.0.0.1:${tarpit.port}/dir`
    for (let i = 0; i < 4; i++) {
      const startedMs = Date.now()
      const answer = await json('POST', '/certificates', { cert_name: `dead${i}`, domains: [`dead${i}.test`], acme_directory_url: dead })
      // Held up: the API itself answers at once.
      expect([answer.status, Date.now() - startedMs < 2_000]).toEqual([202, true])
    }
    // Held up: the long poll is bounded by its wait, not by the CA.
    const pollStartedMs = Date.now()
    expect((await json<{ status: string }>('GET', '/certificates/dead0/status?wait=1')).body.status).toBe('pending')
    expect(Date.now() - pollStartedMs).toBeLessThan(3_000)

    expect((await json('POST', '/certificates', { cert_name: 'alive', domains: ['alive.test'] })).status).toBe(202)
    const status = await json<{ status: string }>('GET', '/certificates/alive/status?wait=15')
    expect(status.body.status).toBe('issued')
  }, 30_000)
})
