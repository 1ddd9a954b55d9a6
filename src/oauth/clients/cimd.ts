/**
 * @module Client ID metadata documents (CIMD, draft-ietf-oauth-client-id-metadata-document): a
 * client_id that is an https URL names its own metadata, fetched from there. Fetching a URL a stranger
 * chose is an SSRF risk, so: https only, a path, no fragment, credentials or dot segments; every
 * address the host resolves to must be public (unless allowPrivateAddresses, a test setting), and the
 * fetch connects to the address that was checked, resolving the name only once (cimd-address.ts); no
 * redirects; at most 5 KiB within 10 s. The document's client_id must equal the URL, its metadata
 * passes the registration rules (parseClientMetadata), and it is a public client (method "none").
 * Cached per Cache-Control max-age (capped; no-store and no-cache are not cached).
 */
import { isIP } from 'node:net'
import type { Clock, Logger } from '../../lib/index.ts'
import { pinAddress, systemLookup, type LookupAddresses } from './cimd-address.ts'
import { parseClientMetadata } from './client-metadata.ts'
import type { OAuthClient } from './model.ts'

export const CIMD_MAX_BYTES = 5 * 1024
export const CIMD_TIMEOUT_MS = 10_000
const MAX_URL_LENGTH = 2000
const DEFAULT_CACHE_MS = 5 * 60_000
const MAX_CACHE_MS = 24 * 3_600_000
const MAX_CACHE_ENTRIES = 1000

export type CimdFailureReason =
  | 'not_a_url'
  | 'private_address'
  | 'timeout'
  | 'fetch_failed'
  | 'redirect'
  | 'bad_status'
  | 'too_large'
  | 'invalid_document'
  | 'client_id_mismatch'

export type CimdResult = { readonly ok: true; readonly client: OAuthClient } | { readonly ok: false; readonly reason: CimdFailureReason; readonly detail: string }

export interface CimdResolverOptions {
  readonly fetch?: typeof fetch
  /** How the document's host name is resolved (once per fetch); default node:dns lookup. */
  readonly lookup?: LookupAddresses
  readonly clock: Clock
  /** OAUTH_CIMD_ALLOW_PRIVATE: loopback and private addresses allowed; only for tests. */
  readonly allowPrivateAddresses: boolean
  readonly logger: Logger
  /** Deadline for resolving, connecting and reading the body together (default 10 s). */
  readonly timeoutMs?: number
}

export interface CimdResolver {
  resolve(clientId: string): Promise<CimdResult>
}

/** Whether a client_id is meant as a metadata document URL (https:), valid or not. */
export const isCimdClientId = (clientId: string): boolean => /^https:\/\//i.test(clientId)

/** The draft's §3 rules for the URL itself; the failure text, or null when it is acceptable. */
export function cimdUrlProblem(clientId: string): string | null {
  if (clientId.length > MAX_URL_LENGTH || !/^[\x21-\x7e]+$/.test(clientId)) return 'not a printable URL of at most 2000 characters'
  const url = URL.parse(clientId)
  if (url === null || url.protocol !== 'https:') return 'must be an https URL'
  if (clientId.includes('#')) return 'must not contain a fragment'
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  if (url.pathname === '/' || url.pathname === '') return 'must contain a path'
  if (/\/\.{1,2}(?:[/?]|$)/.test(clientId)) return 'must not contain . or .. path segments'
  // The URL must be written as it will be compared: the parser must not have changed it.
  if (url.href !== clientId) return 'must be in canonical form'
  return null
}

/** RFC 9111 §5.2.2: how long a response may be reused; 0 for no-store / no-cache. */
export function cacheLifetimeMs(cacheControl: string | null): number {
  if (cacheControl === null) return DEFAULT_CACHE_MS
  const directives = cacheControl.toLowerCase().split(',').map((part) => part.trim())
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0
  const maxAge = directives.map((d) => /^max-age="?(\d+)"?$/.exec(d)).find((m) => m !== null)
  if (!maxAge) return DEFAULT_CACHE_MS
  return Math.min(Number(maxAge[1]) * 1000, MAX_CACHE_MS)
}

/** The URL with its host replaced by the pinned address, so the connection cannot go anywhere else. */
function pinnedUrl(url: URL, address: string): string {
  const pinned = new URL(url.href)
  pinned.hostname = isIP(address) === 6 ? `[${address}]` : address
  return pinned.href
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) return null
  const reader = response.body?.getReader()
  if (!reader) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

export function createCimdResolver(options: CimdResolverOptions): CimdResolver {
  const doFetch = options.fetch ?? fetch
  const lookup = options.lookup ?? systemLookup
  const timeoutMs = options.timeoutMs ?? CIMD_TIMEOUT_MS
  const { clock, logger } = options
  const cache = new Map<string, { client: OAuthClient; expiresAtMs: number }>()
  const fail = (reason: CimdFailureReason, detail: string): CimdResult => ({ ok: false, reason, detail })

  function remember(clientId: string, client: OAuthClient, lifetimeMs: number): void {
    if (lifetimeMs <= 0) return
    cache.delete(clientId)
    // Oldest first: Map keeps insertion order.
    if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!)
    cache.set(clientId, { client, expiresAtMs: clock.nowMs() + lifetimeMs })
  }

  async function fetchDocument(clientId: string, signal: AbortSignal): Promise<CimdResult> {
    const url = new URL(clientId)
    const pinned = await pinAddress(url.hostname, { lookup, allowPrivate: options.allowPrivateAddresses })
    if (!pinned.ok) return fail(pinned.reason === 'private_address' ? 'private_address' : 'fetch_failed', pinned.detail)
    let response: Response
    try {
      response = await doFetch(pinnedUrl(url, pinned.address), {
        redirect: 'manual',
        signal,
        // The name the document was asked for, in Host and in TLS (SNI, and the name the certificate must carry).
        headers: { accept: 'application/json', host: url.host },
        ...(isIP(url.hostname) === 0 && !url.hostname.startsWith('[') ? { tls: { serverName: url.hostname } } : {}),
      } as RequestInit)
    } catch (error) {
      return signal.aborted ? fail('timeout', `no answer within ${timeoutMs} ms`) : fail('fetch_failed', (error as Error).message)
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {})
      return fail('redirect', `HTTP ${response.status}: redirects are not followed`)
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {})
      return fail('bad_status', `HTTP ${response.status}`)
    }
    let bytes: Uint8Array | null
    try {
      bytes = await readCapped(response, CIMD_MAX_BYTES)
    } catch (error) {
      return signal.aborted ? fail('timeout', `no complete answer within ${timeoutMs} ms`) : fail('fetch_failed', (error as Error).message)
    }
    if (bytes === null) return fail('too_large', `the document exceeds ${CIMD_MAX_BYTES} bytes`)
    let document: unknown
    try {
      document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
    } catch {
      return fail('invalid_document', 'the document is not UTF-8 JSON')
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) return fail('invalid_document', 'the document is not a JSON object')
    const fields = document as Record<string, unknown>
    if (fields.client_id !== clientId) return fail('client_id_mismatch', 'the document\'s client_id is not the URL it was fetched from')
    // CIMD §4.1: no shared secret can be published in a public document.
    if ('client_secret' in fields || 'client_secret_expires_at' in fields) return fail('invalid_document', 'the document must not contain a client secret')
    const method = fields.token_endpoint_auth_method ?? 'none'
    if (method !== 'none') return fail('invalid_document', 'token_endpoint_auth_method must be "none" (only public clients are supported)')
    const parsed = parseClientMetadata({ ...fields, token_endpoint_auth_method: 'none' })
    if (!parsed.ok) return fail('invalid_document', `${parsed.error}: ${parsed.description}`)
    const client: OAuthClient = { ...parsed.metadata, client_id: clientId, client_id_issued_at: Math.floor(clock.nowMs() / 1000) }
    remember(clientId, client, cacheLifetimeMs(response.headers.get('cache-control')))
    return { ok: true, client }
  }

  return {
    async resolve(clientId) {
      const problem = cimdUrlProblem(clientId)
      if (problem !== null) return fail('not_a_url', `client_id ${problem}`)
      const cached = cache.get(clientId)
      if (cached && cached.expiresAtMs > clock.nowMs()) return { ok: true, client: cached.client }
      cache.delete(clientId)
      const controller = new AbortController()
      const timer = setTimeout(() => controller.abort(), timeoutMs)
      try {
        // The deadline covers the DNS lookup too, which fetch's signal does not.
        const deadline = new Promise<CimdResult>((resolve) => controller.signal.addEventListener('abort', () => resolve(fail('timeout', `no answer within ${timeoutMs} ms`))))
        const result = await Promise.race([fetchDocument(clientId, controller.signal), deadline])
        if (!result.ok) logger.info('client metadata document refused', { clientId, reason: result.reason, detail: result.detail })
        return result
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
