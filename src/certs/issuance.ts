/**
 * @module Runs certificate orders in the background, one name at a time per cluster: an order runs only
 * under the store lock `certs-order/<name>`, so of many nodes exactly one orders a name, and every node
 * serves the stored result. Names never wait for each other (up to a small number run at once per node).
 */
import type { EventBus } from '../events/index.ts'
import type { Clock, Logger } from '../lib/index.ts'
import { tryLock, type Store } from '../store/index.ts'
import type { AcmeAccounts, AcmeSession } from './acme-account.ts'
import { runAcmeOrder } from './acme-order.ts'
import { readCertificateInfo } from './certificate-info.ts'
import type { CertificateRecord, CertificateStatus } from './certificate-record.ts'
import type { CertificateRecords } from './certificate-records.ts'
import type { ChallengeStore } from './challenges.ts'
import { needsOrder, retryDelayMs } from './due.ts'

export interface IssuanceTiming {
  /** Wait after publishing challenges, so every node has the `acme_challenge` event before the CA asks. */
  readonly propagationDelayMs: number
  /** An order that takes longer fails (and is retried with backoff); the lock outlives it by LOCK_MARGIN_MS. */
  readonly orderTimeoutMs: number
  /** Orders this node runs at once; further names wait for a slot. */
  readonly maxConcurrentOrders: number
  /** Of those, orders against one directory: a CA that hangs (until each request's timeout) cannot take every slot. */
  readonly maxConcurrentOrdersPerDirectory: number
}

export interface IssuanceDeps {
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly nodeId: string
  readonly challenges: ChallengeStore
  readonly accounts: AcmeAccounts
  readonly records: CertificateRecords
  readonly renewalThresholdDays: number
  readonly timing: IssuanceTiming
}

export interface Issuance {
  /**
   * Makes sure `name` is ordered if it needs it, without waiting for the order: here, or on the node that
   * holds its lock (which checks again for new requests before it lets go).
   */
  kick(name: string): void
  /** Lets kick() run orders (again). Orders may be kicked before resume() is ever called. */
  resume(): void
  /** Stops timers and new orders, and waits a moment for running ones; their locks expire by themselves. */
  stop(): Promise<void>
}

const LOCK_MARGIN_MS = 5 * 60_000
const STOP_WAIT_MS = 5_000
/** Failure text is shown in the API and events: one line, bounded. */
const MAX_ERROR_CHARS = 1_000

export const orderLockName = (name: string) => `certs-order/${name}`

export function createIssuance(deps: IssuanceDeps): Issuance {
  const { records, logger, clock } = deps
  const running = new Map<string, { again: boolean }>()
  const inflight = new Set<Promise<void>>()
  const retryTimers = new Map<string, ReturnType<typeof setTimeout>>()
  const slots = createSlots(deps.timing.maxConcurrentOrders)
  const directorySlots = new Map<string, Slots>()
  const slotsOf = (directoryUrl: string) => {
    let found = directorySlots.get(directoryUrl)
    if (!found) directorySlots.set(directoryUrl, (found = createSlots(deps.timing.maxConcurrentOrdersPerDirectory)))
    return found
  }
  let isStopped = false
  const lockTtlMs = deps.timing.orderTimeoutMs + LOCK_MARGIN_MS
  const iso = (ms: number) => new Date(ms).toISOString()

  function kick(name: string): void {
    if (isStopped) return
    const current = running.get(name)
    if (current) {
      current.again = true
      return
    }
    const state = { again: false }
    running.set(name, state)
    const job: Promise<void> = drain(name, state)
      .catch((error) => logger.error('certificate order stopped unexpectedly', { cert_name: name, error: describeFailure(error) }))
      .finally(() => {
        running.delete(name)
        inflight.delete(job)
      })
    inflight.add(job)
  }

  async function drain(name: string, state: { again: boolean }): Promise<void> {
    let isHolder: boolean
    do {
      state.again = false
      // The directory's slot first, so an order waiting for its directory holds none of the node's slots.
      const directoryUrl = (await records.get(name).catch(() => null))?.directory_url ?? ''
      const releaseDirectory = await slotsOf(directoryUrl).acquire()
      const release = await slots.acquire()
      try {
        isHolder = await orderUnderLock(name)
      } finally {
        release()
        releaseDirectory()
      }
      // A request that came while the lock was held may have found it taken: look again once it is free.
    } while (!isStopped && isHolder && (state.again || (await hasUnstartedRequest(name))))
  }

  /** Runs at most one order for `name`; false when another holder has the lock. */
  async function orderUnderLock(name: string): Promise<boolean> {
    const lock = await tryLock(deps.store, orderLockName(name), lockTtlMs)
    if (!lock) {
      logger.debug('certificate order left to the node that holds its lock', { cert_name: name })
      // Should that node die mid-order, its lock expires: look again then rather than at the next check.
      scheduleRetry(name, lockTtlMs)
      return false
    }
    try {
      // Re-check under the lock: another node may just have done the work.
      const record = await records.get(name)
      if (record && !isStopped && needsOrder(record, clock.nowMs(), deps.renewalThresholdDays)) await runOrder(record)
    } catch (error) {
      // The store itself failed: try again later rather than spin.
      logger.warn('certificate order could not be recorded', { cert_name: name, error: describeFailure(error) })
      scheduleRetry(name, 60_000)
    } finally {
      await lock.release().catch(() => {})
    }
    return true
  }

  async function hasUnstartedRequest(name: string): Promise<boolean> {
    const record = await records.get(name)
    return record?.status === 'pending'
  }

  async function runOrder(record: CertificateRecord): Promise<void> {
    const name = record.cert_name
    const { generation } = record
    const startedMs = clock.nowMs()
    logger.info('certificate order started', { cert_name: name, domains: record.domains.join(','), directory_url: record.directory_url, node: deps.nodeId })
    await setStatus(name, generation, 'pending')
    let session: AcmeSession | null = null
    try {
      const pems = await withDeadline(deps.timing.orderTimeoutMs, async (signal) => {
        session = await deps.accounts.open(record.directory_url, record.email, signal)
        return runAcmeOrder({
          client: session.client,
          domains: record.domains,
          challenges: deps.challenges,
          propagationDelayMs: deps.timing.propagationDelayMs,
          onValidating: () => setStatus(name, generation, 'validating'),
        })
      })
      const info = await readCertificateInfo(pems.chainPem)
      const saved = await records.update(name, (current) =>
        current.generation !== generation
          ? null
          : {
              ...current,
              status: 'issued',
              error: null,
              attempts: 0,
              next_attempt_at: null,
              updated_at: iso(clock.nowMs()),
              issued: { chain_pem: pems.chainPem, key_pem: pems.keyPem, ...info },
            },
      )
      if (!saved) {
        logger.info('certificate order superseded; its result is not used', { cert_name: name })
        return
      }
      logger.info('certificate issued', { cert_name: name, serial: info.serial, issuer: info.issuer, not_after: info.not_after, duration_ms: clock.nowMs() - startedMs })
      await deps.bus.publish({ type: 'certificate_ready', certName: name, domains: info.domains })
    } catch (error) {
      await recordFailure(record, describeFailure(error), (session as AcmeSession | null)?.retryNotBeforeMs() ?? null)
    }
  }

  async function recordFailure(record: CertificateRecord, reason: string, retryNotBeforeMs: number | null): Promise<void> {
    const name = record.cert_name
    const nowMs = clock.nowMs()
    const saved = await records.update(name, (current) => {
      if (current.generation !== record.generation) return null
      const attempts = current.attempts + 1
      const nextMs = nowMs + retryDelayMs(attempts, retryNotBeforeMs, nowMs)
      return { ...current, status: 'failed', error: reason, attempts, next_attempt_at: iso(nextMs), updated_at: iso(nowMs) }
    })
    if (!saved?.next_attempt_at) return
    logger.warn('certificate order failed', { cert_name: name, error: reason, attempts: saved.attempts, next_attempt_at: saved.next_attempt_at })
    await deps.bus.publish({ type: 'certificate_failed', certName: name, error: reason })
    scheduleRetry(name, Date.parse(saved.next_attempt_at) - nowMs)
  }

  async function setStatus(name: string, generation: string, status: CertificateStatus): Promise<void> {
    await records.update(name, (current) =>
      current.generation !== generation || current.status === status ? null : { ...current, status, updated_at: iso(clock.nowMs()) },
    )
  }

  /** This node retries when the backoff ends; if it is gone by then, another node's periodic check does. */
  function scheduleRetry(name: string, delayMs: number): void {
    if (isStopped) return
    clearTimeout(retryTimers.get(name))
    const timer = setTimeout(() => {
      retryTimers.delete(name)
      kick(name)
    }, Math.max(0, delayMs) + 1_000)
    timer.unref?.()
    retryTimers.set(name, timer)
  }

  return {
    kick,
    resume: () => {
      isStopped = false
    },
    async stop() {
      isStopped = true
      for (const timer of retryTimers.values()) clearTimeout(timer)
      retryTimers.clear()
      let timeout: ReturnType<typeof setTimeout> | undefined
      await Promise.race([Promise.allSettled([...inflight]), new Promise((resolve) => (timeout = setTimeout(resolve, STOP_WAIT_MS)))])
      clearTimeout(timeout)
    },
  }
}

/** The error's message as one bounded line, with anything PEM-shaped cut out (defence in depth: no key material ever). */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const text = message
    .replace(/-----BEGIN [^-]+-----[\s\S]*?(-----END [^-]+-----|$)/g, '[PEM removed]')
    .replace(/\s+/g, ' ')
    .trim()
  return (text || 'the order failed without a reason').slice(0, MAX_ERROR_CHARS)
}

/** Runs `run` with a signal that aborts at the deadline (its requests to the CA then fail at once), and rejects then. */
async function withDeadline<T>(timeoutMs: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`the order did not complete within ${Math.round(timeoutMs / 1000)} s`)
      controller.abort(error)
      reject(error)
    }, timeoutMs)
  })
  try {
    return await Promise.race([run(controller.signal), deadline])
  } finally {
    clearTimeout(timer)
  }
}

interface Slots {
  acquire(): Promise<() => void>
}

/** A counting semaphore: acquire() resolves to its release function. */
function createSlots(size: number): Slots {
  let free = Math.max(1, size)
  const waiting: (() => void)[] = []
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else free++
  }
  return {
    async acquire() {
      if (free > 0) free--
      else await new Promise<void>((resolve) => waiting.push(resolve))
      return release
    },
  }
}
