/**
 * @module ACME accounts (RFC 8555 §7.3): one ES256 key per (directory URL, email), created by whichever
 * node needs it first, kept in the store and reused by every node for every order against that directory.
 */
import { Client, crypto as acmeCrypto } from 'acme-client'
import * as v from 'valibot'
import { sha256Hex, type Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'

const AccountSchema = v.object({
  directory_url: v.string(),
  email: v.nullable(v.string()),
  /** Secret: the account's private key (PEM). Never leaves this module except into acme-client. */
  key_pem: v.string(),
  created_at: v.string(),
})

/** How acme-client polls a challenge or order that is still pending (its exponential backoff). */
export interface PollTiming {
  readonly minMs: number
  readonly maxMs: number
  readonly attempts: number
}

export interface AcmeSession {
  readonly client: Client
  /** Set when the CA answered 429 or rateLimited (RFC 8555 §6.6): when it said to come back, epoch ms. */
  retryNotBeforeMs(): number | null
}

export interface AcmeAccounts {
  /**
   * A client signed in to the directory under the stored account (registering it, or finding it again:
   * RFC 8555 §7.3.1). Each of its requests to the CA fails after requestTimeoutMs without an answer, and
   * every request fails at once when `signal` aborts (the order's deadline), so nothing waits on a CA forever.
   */
  open(directoryUrl: string, email: string | null, signal?: AbortSignal): Promise<AcmeSession>
}

/** acme-client (5.x) sets no network timeout: a CA that accepts the connection and never answers would hold an order for good. */
export const DEFAULT_ACME_REQUEST_TIMEOUT_MS = 30_000

export function createAcmeAccounts(deps: { store: Store; clock: Clock; poll: PollTiming; requestTimeoutMs?: number }): AcmeAccounts {
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_ACME_REQUEST_TIMEOUT_MS
  const accounts = createCollection(deps.store, COLLECTIONS.acmeAccounts, AccountSchema)

  async function accountKey(directoryUrl: string, email: string | null): Promise<string> {
    const id = `${sha256Hex(directoryUrl)}.${sha256Hex(email ?? '')}`
    const existing = await accounts.get(id)
    if (existing) return existing.value.key_pem
    const keyPem = (await acmeCrypto.createPrivateEcdsaKey('P-256')).toString()
    const created = { directory_url: directoryUrl, email, key_pem: keyPem, created_at: new Date(deps.clock.nowMs()).toISOString() }
    // Two nodes may both get here; the first write wins and both use its key.
    if ((await accounts.put(id, created, { ifAbsent: true })) !== null) return keyPem
    const winner = await accounts.get(id)
    if (!winner) throw new Error('the ACME account key vanished while being created')
    return winner.value.key_pem
  }

  return {
    async open(directoryUrl, email, signal) {
      signal?.throwIfAborted()
      const client = new Client({
        directoryUrl,
        accountKey: await accountKey(directoryUrl, email),
        backoffMin: deps.poll.minMs,
        backoffMax: deps.poll.maxMs,
        backoffAttempts: deps.poll.attempts,
      })
      let retryNotBeforeMs: number | null = null
      guardTransport(client, { timeoutMs: requestTimeoutMs, signal }, (status, type, retryAfter) => {
        if (status !== 429 && type !== 'urn:ietf:params:acme:error:rateLimited') return
        retryNotBeforeMs = parseRetryAfter(retryAfter, deps.clock.nowMs())
      })
      await signIn(client, email)
      return { client, retryNotBeforeMs: () => retryNotBeforeMs }
    },
  }
}

/**
 * Finds the key's account (RFC 8555 §7.3.1 onlyReturnExisting), registering it when the CA has none. A plain
 * newAccount for a known key makes acme-client send the same fields again as an account update, which a CA
 * may refuse as empty (Pebble does when there is no contact), so the existing account is always looked up first.
 * Two orders may register the same key at once: the loser finds the winner's account.
 */
async function signIn(client: Client, email: string | null): Promise<void> {
  const findExisting = () => client.createAccount({ onlyReturnExisting: true })
  try {
    await findExisting()
    return
  } catch {
    // No account for this key yet (or the CA forgot it): register it.
  }
  try {
    await client.createAccount({ termsOfServiceAgreed: true, ...(email ? { contact: [`mailto:${email}`] } : {}) })
  } catch (error) {
    await findExisting().catch(() => {
      throw error
    })
  }
}

type Observer = (status: number, problemType: string | undefined, retryAfter: string | undefined) => void
type Transport = (
  url: string,
  method: string,
  options?: Record<string, unknown>,
) => Promise<{ status: number; headers?: Record<string, string | undefined>; data?: { type?: unknown } }>

/**
 * acme-client (5.x) keeps its HTTP answers to itself, reports a 429 only as text after its own retries, and
 * waits for an answer forever. This wraps the one client's transport (not the library's shared axios
 * instance): each request gets axios' `timeout` (a timeout is not among acme-client's retried errors) and
 * fails at once when `signal` aborts; every answer's status and Retry-After header go to `observe`. If a
 * later version renames the transport, the order's deadline still ends a hung order, and rate limits fall back to plain backoff.
 */
function guardTransport(client: Client, limits: { timeoutMs: number; signal: AbortSignal | undefined }, observe: Observer): void {
  const http = (client as unknown as { http?: { request?: Transport } }).http
  if (!http || typeof http.request !== 'function') return
  const request = http.request.bind(http)
  const { timeoutMs, signal } = limits
  http.request = async (url, method, options = {}) => {
    signal?.throwIfAborted()
    const startedMs = performance.now()
    let response: Awaited<ReturnType<Transport>>
    try {
      response = await untilAborted(request(url, method, { ...options, timeout: timeoutMs }), signal)
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      // acme-client's retry interceptor turns an axios timeout into a TypeError: say what happened.
      if (performance.now() - startedMs >= timeoutMs) throw new Error(`the CA did not answer ${method.toUpperCase()} ${url} within ${Math.round(timeoutMs / 1000)} s`)
      throw error
    }
    const type = typeof response.data?.type === 'string' ? response.data.type : undefined
    observe(response.status, type, response.headers?.['retry-after'])
    return response
  }
}

/** `work`, or its rejection with the signal's reason as soon as the signal aborts (the work itself then ends by its own timeout). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. Null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (!value) return null
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return nowMs + Number(trimmed) * 1000
  // An HTTP-date names its weekday and month (IMF-fixdate, or the obsolete RFC 850 / asctime forms).
  if (!/^[A-Za-z]{3}/.test(trimmed)) return null
  const dateMs = Date.parse(trimmed)
  return Number.isNaN(dateMs) ? null : dateMs
}
