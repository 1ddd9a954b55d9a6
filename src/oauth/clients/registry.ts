/**
 * @module The client registry (RFC 7591 registration, RFC 7592 management): server-chosen client
 * ids, secrets and registration access tokens handed out once and stored only as SHA-256 hashes,
 * constant-time checks. Every read returns an OAuthClient view; the hashes leave this file only
 * through exportClients, for the admin's configuration export with secrets.
 *
 * A registered client that never completes an authorization is deleted OAUTH_UNUSED_CLIENT_TTL after
 * registration (RFC 7591 §5: open registration must not fill the store for good): its document carries
 * that TTL until the first token is issued to it (recordUse), which makes it permanent. So a client
 * with a grant never expires silently; only an admin, or the client itself (RFC 7592 §2.3), deletes it.
 */
import * as v from 'valibot'
import type { Clock } from '../../lib/index.ts'
import { randomToken, secretsEqual, sha256Hex } from '../../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../../store/index.ts'
import { ignoreActivity, type RecordActivity } from '../activity.ts'
import {
  CLIENT_ID_SYNTAX,
  ClientMetadataSchema,
  isConfidentialMethod,
  StoredClientSchema,
  toClientView,
  type ClientMetadata,
  type OAuthClient,
  type PortableClient,
  type StoredClient,
  type TokenEndpointAuthMethod,
} from './model.ts'

/** 128 bits: ids are not secrets, only unguessable enough that nobody can pick a colliding one. */
const CLIENT_ID_BYTES = 16
/** 256 bits for the two bearer secrets. */
const SECRET_BYTES = 32
const MAX_WRITE_ATTEMPTS = 5
/** Compared against when the client is unknown, so an unknown id costs the same as a wrong secret. */
const UNKNOWN_CLIENT_HASH = '0'.repeat(64)
/** last_used_at is written at most this often per client: a busy client refreshing every second costs one write a minute. */
const LAST_USED_RESOLUTION_SEC = 60

export interface RegisteredClient {
  readonly client: OAuthClient
  /** The plaintext secret, for confidential clients; returned once, never stored. */
  readonly clientSecret?: string
  /** The plaintext RFC 7592 registration access token; returned once, never stored. */
  readonly registrationAccessToken: string
}

export interface UpdatedClient {
  readonly client: OAuthClient
  /** Set only when a new secret was issued (rotation, or a public client becoming confidential). */
  readonly clientSecret?: string
}

export type ClientAuthFailure = 'unknown_client' | 'method_mismatch' | 'missing_secret' | 'unexpected_secret' | 'wrong_secret'

/** Every failure becomes invalid_client on the wire (RFC 6749 §5.2); the reason is for the log. */
export type ClientAuthResult = { readonly ok: true; readonly client: OAuthClient } | { readonly ok: false; readonly reason: ClientAuthFailure }

export interface ClientRegistry {
  /** RFC 7591 §3.2.1: a new client with a server-chosen client_id. */
  register(metadata: ClientMetadata): Promise<RegisteredClient>
  /** Null when unknown (or deleted). */
  get(clientId: string): Promise<OAuthClient | null>
  /**
   * Token-endpoint client authentication (RFC 6749 §2.3.1). `method` is how the request presented
   * credentials; it must be the client's registered method (a public client must present none).
   */
  authenticate(clientId: string, secret: string | undefined, method: TokenEndpointAuthMethod): Promise<ClientAuthResult>
  /** RFC 7592 §2: the client when the registration access token is its own, else null (unknown client included). */
  verifyRegistrationToken(clientId: string, token: string): Promise<OAuthClient | null>
  /**
   * RFC 7592 §2.2: replaces all metadata; client_id, client_id_issued_at and the registration access
   * token stay. The secret stays unless rotateSecret, is issued when the client becomes confidential,
   * and is dropped when it becomes public. Null when unknown.
   */
  update(clientId: string, metadata: ClientMetadata, options?: { readonly rotateSecret?: boolean }): Promise<UpdatedClient | null>
  /** RFC 7592 §2.3. Returns whether the client existed. */
  delete(clientId: string): Promise<boolean>
  /**
   * A token was just issued to this client (a code exchanged, a refresh, a device grant): last_used_at
   * is set, at most once a minute (`client` is the view the request authenticated, so a recent one costs
   * no store access), and an unused client's expiry is lifted for good. False when the client no
   * longer exists: it expired or was deleted after it authenticated.
   */
  recordUse(client: OAuthClient): Promise<boolean>
  /** An admin marks a client as a resource server (RFC 7662: it may introspect every client's tokens), or unmarks it. Null when unknown. */
  setResourceServer(clientId: string, resourceServer: boolean): Promise<OAuthClient | null>
  /** Every client, as views: never a secret or a hash. */
  list(): Promise<OAuthClient[]>
  /** Every client with its two hashes (never plaintext, which is not stored): for the admin's configuration export only. */
  exportClients(): Promise<PortableClient[]>
  /**
   * Creates or replaces a client under its own client_id and client_id_issued_at (configuration import).
   * A hash the input lacks is kept from the stored client; a new client without one gets the hash of a
   * random secret nobody knows (it cannot authenticate, or manage itself, until an admin re-registers it).
   */
  importClient(client: PortableClient): Promise<OAuthClient>
}

export interface ClientRegistryOptions {
  /** The OAuth activity log: registrations (RFC 7591), updates and deletions (RFC 7592). */
  readonly recordActivity?: RecordActivity
  /** OAUTH_UNUSED_CLIENT_TTL: a new client that completes no authorization within this is deleted. Absent: new clients never expire. */
  readonly unusedClientTtlSec?: number
}

/** The server's own state of a client, which neither an RFC 7592 update nor a re-import may reset. */
function stateOf(stored: StoredClient): Pick<StoredClient, 'last_used_at' | 'expires_at' | 'resource_server'> {
  return {
    ...(stored.last_used_at === undefined ? {} : { last_used_at: stored.last_used_at }),
    ...(stored.expires_at === undefined ? {} : { expires_at: stored.expires_at }),
    ...(stored.resource_server === true ? { resource_server: true } : {}),
  }
}

/** The view without this store's own bookkeeping (last use, expiry), for the configuration export. */
function portableView(stored: StoredClient): OAuthClient {
  const { last_used_at: _lastUsed, expires_at: _expires, ...view } = toClientView(stored)
  return view
}

export function createClientRegistry(store: Store, clock: Clock, options: ClientRegistryOptions = {}): ClientRegistry {
  const recordActivity = options.recordActivity ?? ignoreActivity
  const clients = createCollection(store, COLLECTIONS.oauthClients, StoredClientSchema)
  const nowSec = () => Math.floor(clock.nowMs() / 1000)
  const load = async (clientId: string) => (CLIENT_ID_SYNTAX.test(clientId) ? await clients.get(clientId) : null)
  const hashMatches = (candidate: string, storedHash: string | undefined) => secretsEqual(sha256Hex(candidate), storedHash ?? UNKNOWN_CLIENT_HASH)

  /** Only metadata keys, so nothing else a caller's object carries (a hash, an id) can reach the document. */
  const metadataOnly = (metadata: ClientMetadata): ClientMetadata => v.parse(ClientMetadataSchema, metadata)

  /** The secret fields of a client under `method`: a fresh secret, the kept hash, or none. */
  function secretFields(method: TokenEndpointAuthMethod, keptHash: string | undefined, rotate: boolean) {
    if (!isConfidentialMethod(method)) return { fields: {} }
    if (keptHash !== undefined && !rotate) return { fields: { client_secret_hash: keptHash, client_secret_expires_at: 0 as const } }
    const secret = randomToken(SECRET_BYTES)
    // RFC 7591 §3.2.1: client_secret_expires_at is REQUIRED with a secret; 0 means it does not expire.
    return { secret, fields: { client_secret_hash: sha256Hex(secret), client_secret_expires_at: 0 as const } }
  }

  /**
   * The store TTL a rewrite of this client keeps: an unused client still expires when it was going to.
   * Null when that moment has passed (the document is gone, or about to be).
   */
  function keptTtl(stored: StoredClient): { ttlMs?: number } | null {
    if (stored.expires_at === undefined) return {}
    const ttlMs = stored.expires_at * 1000 - clock.nowMs()
    return ttlMs > 0 ? { ttlMs } : null
  }

  /** Compare-and-set of one client's document; `change` returns the new document, or null to leave it. Null when unknown. */
  async function rewrite(clientId: string, change: (current: StoredClient) => StoredClient | null): Promise<StoredClient | null> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await load(clientId)
      const ttl = current && keptTtl(current.value)
      if (current === null || ttl === null) return null
      const next = change(current.value)
      if (next === null) return current.value
      // Without ttlMs a put makes the document permanent (store.ts): how recordUse lifts an unused client's expiry.
      const ttlOptions = next.expires_at === undefined ? {} : ttl
      if ((await clients.put(clientId, next, { ifVersion: current.version, ...ttlOptions })) !== null) return next
    }
    throw new Error(`client ${clientId} is being changed concurrently; retry`)
  }

  const unusedTtlSec = options.unusedClientTtlSec

  return {
    async register(metadata) {
      const registrationAccessToken = randomToken(SECRET_BYTES)
      const { secret, fields } = secretFields(metadata.token_endpoint_auth_method, undefined, true)
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const now = nowSec()
        // The id is always ours: any client_id in the request was dropped by the parser (original §12.1 item 4).
        const stored: StoredClient = {
          ...metadataOnly(metadata),
          client_id: randomToken(CLIENT_ID_BYTES),
          client_id_issued_at: now,
          ...fields,
          registration_access_token_hash: sha256Hex(registrationAccessToken),
          updated_at: now,
          ...(unusedTtlSec === undefined ? {} : { expires_at: now + unusedTtlSec }),
        }
        const ttl = unusedTtlSec === undefined ? {} : { ttlMs: unusedTtlSec * 1000 }
        if ((await clients.put(stored.client_id, stored, { ifAbsent: true, ...ttl })) !== null) {
          recordActivity({ type: 'client_registered', client_id: stored.client_id })
          return { client: toClientView(stored), registrationAccessToken, ...(secret === undefined ? {} : { clientSecret: secret }) }
        }
      }
      throw new Error('could not allocate a unique client_id')
    },

    async get(clientId) {
      const found = await load(clientId)
      return found && toClientView(found.value)
    },

    async authenticate(clientId, secret, method) {
      const found = await load(clientId)
      const stored = found?.value
      if (secret === undefined || method === 'none') {
        if (stored === undefined) return { ok: false, reason: 'unknown_client' }
        if (secret !== undefined) return { ok: false, reason: 'unexpected_secret' }
        if (method !== 'none') return { ok: false, reason: 'missing_secret' }
        // RFC 6749 §2.3.1 / original §12.1 item 4: omitting the secret never skips authentication.
        if (stored.token_endpoint_auth_method !== 'none') return { ok: false, reason: 'method_mismatch' }
        return { ok: true, client: toClientView(stored) }
      }
      // Hash and compare before looking at anything else, so timing does not say which check failed.
      const secretOk = hashMatches(secret, stored?.client_secret_hash)
      if (stored === undefined) return { ok: false, reason: 'unknown_client' }
      if (stored.token_endpoint_auth_method !== method) return { ok: false, reason: 'method_mismatch' }
      if (!secretOk) return { ok: false, reason: 'wrong_secret' }
      return { ok: true, client: toClientView(stored) }
    },

    async verifyRegistrationToken(clientId, token) {
      const found = await load(clientId)
      const tokenOk = hashMatches(token, found?.value.registration_access_token_hash)
      return found && tokenOk ? toClientView(found.value) : null
    },

    async update(clientId, metadata, options = {}) {
      let secret: string | undefined
      const next = await rewrite(clientId, (current) => {
        const issued = secretFields(metadata.token_endpoint_auth_method, current.client_secret_hash, options.rotateSecret === true)
        secret = issued.secret
        return {
          ...metadataOnly(metadata),
          client_id: current.client_id,
          client_id_issued_at: current.client_id_issued_at,
          ...issued.fields,
          registration_access_token_hash: current.registration_access_token_hash,
          // The client's own update never touches what the server keeps: an unused client keeps its expiry.
          ...stateOf(current),
          updated_at: nowSec(),
        }
      })
      if (next === null) return null
      recordActivity({ type: 'client_updated', client_id: clientId, ...(secret === undefined ? {} : { reason: 'secret_issued' }) })
      return { client: toClientView(next), ...(secret === undefined ? {} : { clientSecret: secret }) }
    },

    async delete(clientId) {
      const deleted = CLIENT_ID_SYNTAX.test(clientId) && (await clients.del(clientId))
      if (deleted) recordActivity({ type: 'client_deleted', client_id: clientId })
      return deleted
    },

    async recordUse(client) {
      const nowS = nowSec()
      const isRecent = (state: Pick<StoredClient, 'last_used_at' | 'expires_at'>) =>
        state.expires_at === undefined && state.last_used_at !== undefined && nowS - state.last_used_at < LAST_USED_RESOLUTION_SEC
      if (isRecent(client)) return true
      const written = await rewrite(client.client_id, (current) => {
        if (isRecent(current)) return null
        const { expires_at: _lifted, ...kept } = current
        return { ...kept, last_used_at: nowS }
      })
      return written !== null
    },

    async setResourceServer(clientId, resourceServer) {
      if (!CLIENT_ID_SYNTAX.test(clientId)) return null
      const next = await rewrite(clientId, (current) => {
        if ((current.resource_server === true) === resourceServer) return null
        const { resource_server: _old, ...kept } = current
        return resourceServer ? { ...kept, resource_server: true } : kept
      })
      if (next !== null) recordActivity({ type: 'client_updated', client_id: clientId, reason: resourceServer ? 'marked_resource_server' : 'unmarked_resource_server' })
      return next && toClientView(next)
    },

    async list() {
      return (await clients.list()).map(({ value }) => toClientView(value))
    },

    async exportClients() {
      return (await clients.list()).map(({ value }) => {
        const hashes = value.client_secret_hash === undefined ? {} : { client_secret_hash: value.client_secret_hash }
        return { ...portableView(value), ...hashes, registration_access_token_hash: value.registration_access_token_hash }
      })
    },

    async importClient(client) {
      const unknownSecretHash = () => sha256Hex(randomToken(SECRET_BYTES))
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const current = await load(client.client_id)
        const secretHash = client.client_secret_hash ?? current?.value.client_secret_hash ?? unknownSecretHash()
        const next: StoredClient = {
          ...metadataOnly(client),
          client_id: client.client_id,
          client_id_issued_at: client.client_id_issued_at,
          ...(isConfidentialMethod(client.token_endpoint_auth_method) ? { client_secret_hash: secretHash, client_secret_expires_at: 0 as const } : {}),
          registration_access_token_hash: client.registration_access_token_hash ?? current?.value.registration_access_token_hash ?? unknownSecretHash(),
          // An admin's import is deliberate: the client is permanent (no expires_at) and a resource server only if the document says so.
          ...(current?.value.last_used_at === undefined ? {} : { last_used_at: current.value.last_used_at }),
          ...(client.resource_server === true ? { resource_server: true } : {}),
          updated_at: nowSec(),
        }
        const written = await clients.put(client.client_id, next, current === null ? { ifAbsent: true } : { ifVersion: current.version })
        if (written !== null) return toClientView(next)
      }
      throw new Error(`client ${client.client_id} is being changed concurrently; retry`)
    },
  }
}
