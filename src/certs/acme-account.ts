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
  /** A client signed in to the directory under the stored account (registering it, or finding it again: RFC 8555 §7.3.1). */
  open(directoryUrl: string, email: string | null): Promise<AcmeSession>
}

export function createAcmeAccounts(deps: { store: Store; clock: Clock; poll: PollTiming }): AcmeAccounts {
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
    async open(directoryUrl, email) {
      const client = new Client({
        directoryUrl,
        accountKey: await accountKey(directoryUrl, email),
        backoffMin: deps.poll.minMs,
        backoffMax: deps.poll.maxMs,
        backoffAttempts: deps.poll.attempts,
      })
      let retryNotBeforeMs: number | null = null
      observeResponses(client, (status, type, retryAfter) => {
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
interface ObservableHttp {
  request(...args: unknown[]): Promise<{ status: number; headers?: Record<string, string | undefined>; data?: { type?: unknown } }>
}

/**
 * acme-client (5.x) keeps its HTTP answers to itself and, after its own retries, reports a 429 only as text.
 * This wraps the one client's transport (not the library's shared axios instance) to see the status and
 * Retry-After header; if a later version renames the transport, rate limits fall back to plain backoff.
 */
function observeResponses(client: Client, observe: Observer): void {
  const http = (client as unknown as { http?: Partial<ObservableHttp> }).http
  if (!http || typeof http.request !== 'function') return
  const request = http.request.bind(http)
  http.request = async (...args: unknown[]) => {
    const response = await request(...args)
    const type = typeof response.data?.type === 'string' ? response.data.type : undefined
    observe(response.status, type, response.headers?.['retry-after'])
    return response
  }
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
