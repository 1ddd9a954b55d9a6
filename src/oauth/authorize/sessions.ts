/**
 * @module What the authorization flow keeps between requests, all bound to one browser (the SHA-256
 * of its cookie, so a store reader cannot forge the cookie): remembered consent decisions, consent
 * CSRF tickets and GitHub login states. Tickets and states are random, stored only as hashes, short
 * lived and taken exactly once.
 */
import * as v from 'valibot'
import { randomToken, sha256Hex, type Clock } from '../../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../../store/index.ts'
import { SCOPES, type Scope } from '../tokens/scopes.ts'
import { PendingAuthorizationSchema, type PendingAuthorization } from './model.ts'

/** MCP security best practices: `state` short-lived, about 10 minutes. The consent page gets as long. */
export const LOGIN_STATE_TTL_SEC = 600
export const DEFAULT_CONSENT_TTL_SEC = 30 * 86_400
const SECRET_BYTES = 32

const ConsentSchema = v.object({ scopes: v.array(v.picklist(SCOPES)), approvedAtMs: v.number() })

export interface FlowSessions {
  /** Whether this browser already approved this client for this resource with at least these scopes. */
  hasConsent(pending: PendingAuthorization): Promise<boolean>
  rememberConsent(pending: PendingAuthorization): Promise<void>
  /** A CSRF ticket for the consent page, holding the request it approves. */
  createTicket(pending: PendingAuthorization): Promise<string>
  /**
   * The ticket's request, consumed, when it exists and belongs to this browser; null otherwise. A ticket
   * shown with another browser's cookie is left in place, so nobody can burn someone else's ticket.
   */
  takeTicket(ticket: string, browserHash: string): Promise<PendingAuthorization | null>
  /** The single-use `state` sent to GitHub. */
  createLoginState(pending: PendingAuthorization): Promise<string>
  /** As takeTicket, for the state GitHub sends back to /callback. */
  takeLoginState(state: string, browserHash: string): Promise<PendingAuthorization | null>
}

/** Everything "all" when no scope was named, so a later request naming fewer scopes is covered. */
const scopesOf = (pending: PendingAuthorization): readonly Scope[] => pending.scopes ?? SCOPES

export function createFlowSessions(store: Store, clock: Clock, consentTtlSec = DEFAULT_CONSENT_TTL_SEC): FlowSessions {
  const consents = createCollection(store, COLLECTIONS.oauthConsents, ConsentSchema)
  const tickets = createCollection(store, COLLECTIONS.oauthConsentTickets, PendingAuthorizationSchema)
  const states = createCollection(store, COLLECTIONS.oauthLoginStates, PendingAuthorizationSchema)
  const consentId = (p: PendingAuthorization) => `${p.browserHash}.${sha256Hex(p.clientId)}.${sha256Hex(p.resource)}`

  async function create(collection: typeof tickets, pending: PendingAuthorization): Promise<string> {
    const secret = randomToken(SECRET_BYTES)
    await collection.put(sha256Hex(secret), pending, { ttlMs: LOGIN_STATE_TTL_SEC * 1000 })
    return secret
  }

  async function take(collection: typeof tickets, secret: string, browserHash: string): Promise<PendingAuthorization | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null
    const id = sha256Hex(secret)
    const found = await collection.get(id)
    if (!found || found.value.browserHash !== browserHash) return null
    // Of two racing requests with the same secret, only one gets it.
    return collection.take(id)
  }

  return {
    async hasConsent(pending) {
      const found = await consents.get(consentId(pending))
      return !!found && scopesOf(pending).every((scope) => found.value.scopes.includes(scope))
    },
    async rememberConsent(pending) {
      const previous = (await consents.get(consentId(pending)))?.value.scopes ?? []
      const scopes = SCOPES.filter((scope) => previous.includes(scope) || scopesOf(pending).includes(scope))
      await consents.put(consentId(pending), { scopes, approvedAtMs: clock.nowMs() }, { ttlMs: consentTtlSec * 1000 })
    },
    createTicket: (pending) => create(tickets, pending),
    takeTicket: (ticket, browserHash) => take(tickets, ticket, browserHash),
    createLoginState: (pending) => create(states, pending),
    takeLoginState: (state, browserHash) => take(states, state, browserHash),
  }
}
