/**
 * @module The faults of the soak run, and the watch on /health: the backend killed for 5 s (its down window
 * goes into the record), Redis stopped and started again, and the proxy's certificate changed through the
 * API (a new cert_name is a new certificate), with the time until a new TLS handshake gets it.
 */
import { connect as tlsConnect } from 'node:tls'
import type { Api } from './our-server.ts'
import type { SoakBackend } from './soak-backend.ts'
import type { SoakRecord } from './soak-record.ts'
import type { SoakRedis } from './soak-redis.ts'

export const BACKEND_DOWN_MS = 5_000
export const REDIS_DOWN_MS = 5_000
const HEALTH_POLL_MS = 500

export async function flapBackend(record: SoakRecord, backend: SoakBackend): Promise<void> {
  const backUp = record.backendGoesDown()
  await backend.stop()
  await Bun.sleep(BACKEND_DOWN_MS)
  await backend.start()
  backUp()
  record.note(`backend down for ${(record.backendDown.at(-1)!.toMs - record.backendDown.at(-1)!.fromMs).toFixed(0)} ms`)
}

export interface RedisRestart {
  readonly stoppedAtMs: number
  readonly startedAtMs: number
}

/** SIGTERM to Redis, 5 s without it, then started again on the same data (its append-only file). */
export async function restartRedis(record: SoakRecord, redis: SoakRedis): Promise<RedisRestart> {
  const stoppedAtMs = record.nowMs()
  await redis.stop()
  record.note('Redis stopped')
  await Bun.sleep(REDIS_DOWN_MS)
  await redis.start()
  const startedAtMs = record.nowMs()
  record.note('Redis answers PING again')
  return { stoppedAtMs, startedAtMs }
}

export interface CertificateSwap {
  readonly before: string
  readonly after: string
  /** From the PUT's answer to the first handshake that got the new certificate. */
  readonly appliedAfterMs: number
  readonly putStatus: number
}

/** PUT /proxy/targets/{host} with a new cert_name, then new handshakes until one gets another certificate. */
export async function swapCertificate(record: SoakRecord, api: Api, httpsPort: number, host: string): Promise<CertificateSwap> {
  const before = await fingerprintOf(httpsPort, host)
  const response = await api.request('PUT', `/proxy/targets/${host}`, { cert_name: 'soak-swapped' })
  const answeredAt = performance.now()
  await response.body?.cancel()
  record.note(`certificate swap: PUT answered ${response.status}`)
  let after = before
  while (after === before && performance.now() - answeredAt < 30_000) {
    await Bun.sleep(20)
    after = await fingerprintOf(httpsPort, host)
  }
  const appliedAfterMs = after === before ? Number.NaN : performance.now() - answeredAt
  record.note(after === before ? 'certificate swap: still the old certificate after 30 s' : `certificate swap: new certificate served ${appliedAfterMs.toFixed(0)} ms after the PUT`)
  return { before, after, appliedAfterMs, putStatus: response.status }
}

/** SHA-256 fingerprint of the certificate a new handshake with this SNI gets ('' if none). */
export function fingerprintOf(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256 ?? ''
      socket.destroy()
      resolve(fingerprint)
    })
    socket.once('error', () => resolve(''))
  })
}

export interface HealthWatch {
  /** Every change of /health's status (0: no answer), with its time. */
  readonly changes: { atMs: number; status: number }[]
  stop(): void
}

/** GET /health every 500 ms. */
export function watchHealth(record: SoakRecord, apiUrl: string): HealthWatch {
  const changes: { atMs: number; status: number }[] = []
  let last = -1
  let isPolling = false
  const timer = setInterval(async () => {
    if (isPolling) return
    isPolling = true
    let status = 0
    try {
      const response = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(2_000) })
      await response.body?.cancel()
      status = response.status
    } catch {
      // no answer: 0
    }
    isPolling = false
    if (status !== last) changes.push({ atMs: record.nowMs(), status })
    last = status
  }, HEALTH_POLL_MS)
  return { changes, stop: () => clearInterval(timer) }
}
