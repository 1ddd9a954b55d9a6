/** The client registry on the embedded store: server-chosen ids, hashed secrets, authentication, RFC 7592 update and delete. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createManualClock } from '../../src/lib/index.ts'
import { createClientRegistry, parseClientMetadata, type ClientMetadata, type ClientRegistry } from '../../src/oauth/index.ts'
import { COLLECTIONS, createEmbeddedStore, type Store } from '../../src/store/index.ts'

const metadata = (input: Record<string, unknown>): ClientMetadata => {
  const result = parseClientMetadata(input)
  if (!result.ok) throw new Error(result.description)
  return result.metadata
}
const PUBLIC = metadata({ client_name: 'CLI', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] })
const CONFIDENTIAL = metadata({ client_name: 'Web app', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_post' })

let store: Store
let clock: ReturnType<typeof createManualClock>
let registry: ClientRegistry
beforeEach(() => {
  clock = createManualClock(Date.UTC(2026, 10, 27, 12))
  store = createEmbeddedStore({ dataDir: ':memory:', clock })
  registry = createClientRegistry(store, clock)
})
afterEach(() => store.close())

/** Every document in the store, as raw text. */
async function everythingStored(): Promise<string> {
  const texts: string[] = []
  for (const key of await store.list('')) texts.push(key, (await store.get(key))?.value ?? '')
  return texts.join('\n')
}

describe('register', () => {
  test('RFC 7591 §3.2.1: a public client gets a random id, no secret, a registration access token and its metadata echoed', async () => {
    const registered = await registry.register(PUBLIC)
    expect(registered.client.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(registered.clientSecret).toBeUndefined()
    expect(registered.registrationAccessToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(registered.client).toEqual({ ...PUBLIC, client_id: registered.client.client_id, client_id_issued_at: Math.floor(clock.nowMs() / 1000) })
    expect(registered.client).not.toHaveProperty('client_secret_expires_at')
  })

  test('RFC 7591 §3.2.1: a confidential client gets a secret once, with client_secret_expires_at 0', async () => {
    const registered = await registry.register(CONFIDENTIAL)
    expect(registered.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(registered.client.client_secret_expires_at).toBe(0)
    expect(await registry.get(registered.client.client_id)).toEqual(registered.client)
  })

  test('every registration gets a distinct id, secret and token', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => registry.register(CONFIDENTIAL)))
    expect(new Set(all.map((r) => r.client.client_id)).size).toBe(20)
    expect(new Set(all.map((r) => r.clientSecret)).size).toBe(20)
    expect(new Set(all.map((r) => r.registrationAccessToken)).size).toBe(20)
  })

  test('OA-13: the secret and the registration access token are stored only as SHA-256 hashes', async () => {
    const registered = await registry.register(CONFIDENTIAL)
    const stored = await everythingStored()
    expect(stored).toContain(registered.client.client_id)
    expect(stored).not.toContain(registered.clientSecret!)
    expect(stored).not.toContain(registered.registrationAccessToken)
    expect(stored).toContain(new Bun.CryptoHasher('sha256').update(registered.clientSecret!).digest('hex'))
    expect(await store.list(COLLECTIONS.oauthClients)).toEqual([`${COLLECTIONS.oauthClients}${registered.client.client_id}`])
  })

  test('get and list never return a secret or a hash', async () => {
    const registered = await registry.register(CONFIDENTIAL)
    await registry.register(PUBLIC)
    const listed = JSON.stringify(await registry.list())
    const got = JSON.stringify(await registry.get(registered.client.client_id))
    for (const text of [listed, got]) {
      expect(text).not.toContain('hash')
      expect(text).not.toContain(registered.clientSecret!)
      expect(text).not.toMatch(/[0-9a-f]{64}/)
    }
    expect(await registry.list()).toHaveLength(2)
  })

  test('only metadata keys reach the document: a caller object carrying an id or a hash cannot plant them', async () => {
    const sneaky = { ...PUBLIC, client_id: 'chosen', client_secret_hash: 'a'.repeat(64), registration_access_token_hash: 'b'.repeat(64) } as ClientMetadata
    const registered = await registry.register(sneaky)
    expect(registered.client.client_id).not.toBe('chosen')
    expect(await everythingStored()).not.toContain('a'.repeat(64))
    expect(await registry.verifyRegistrationToken(registered.client.client_id, registered.registrationAccessToken)).not.toBeNull()
  })

  test('a stored registration stays readable when the registration policy later tightens', async () => {
    const { client } = await registry.register(PUBLIC)
    const key = `${COLLECTIONS.oauthClients}${client.client_id}`
    const document = JSON.parse((await store.get(key))!.value) as Record<string, unknown>
    await store.put(key, JSON.stringify({ ...document, redirect_uris: ['myapp://legacy'] }))
    expect((await registry.get(client.client_id))?.redirect_uris).toEqual(['myapp://legacy'])
  })

  test('unknown, empty and malformed ids read as null, never as an error', async () => {
    for (const id of ['', 'nope', '..', '.', 'a/b', '%2e%2e', 'x'.repeat(10_000), 'https://client.example/meta.json']) {
      expect(await registry.get(id)).toBeNull()
      expect(await registry.delete(id)).toBe(false)
      expect(await registry.verifyRegistrationToken(id, 'token')).toBeNull()
    }
  })
})

describe('authenticate', () => {
  test('RFC 6749 §2.3.1: a confidential client authenticates with its secret and its registered method only', async () => {
    const { client, clientSecret } = await registry.register(CONFIDENTIAL)
    expect(await registry.authenticate(client.client_id, clientSecret, 'client_secret_post')).toEqual({ ok: true, client })
    expect(await registry.authenticate(client.client_id, clientSecret, 'client_secret_basic')).toEqual({ ok: false, reason: 'method_mismatch' })
    expect(await registry.authenticate(client.client_id, `${clientSecret}x`, 'client_secret_post')).toEqual({ ok: false, reason: 'wrong_secret' })
    expect(await registry.authenticate(client.client_id, '', 'client_secret_post')).toEqual({ ok: false, reason: 'wrong_secret' })
  })

  test('original §12.1 item 4: omitting the secret never skips authentication of a confidential client', async () => {
    const { client } = await registry.register(CONFIDENTIAL)
    expect(await registry.authenticate(client.client_id, undefined, 'none')).toEqual({ ok: false, reason: 'method_mismatch' })
    expect(await registry.authenticate(client.client_id, undefined, 'client_secret_post')).toEqual({ ok: false, reason: 'missing_secret' })
  })

  test('a public client authenticates with none, and a secret it never had is refused', async () => {
    const { client } = await registry.register(PUBLIC)
    expect(await registry.authenticate(client.client_id, undefined, 'none')).toEqual({ ok: true, client })
    expect(await registry.authenticate(client.client_id, 'guess', 'none')).toEqual({ ok: false, reason: 'unexpected_secret' })
    expect(await registry.authenticate(client.client_id, 'guess', 'client_secret_basic')).toEqual({ ok: false, reason: 'method_mismatch' })
  })

  test('an unknown client is refused whatever it presents', async () => {
    for (const method of ['none', 'client_secret_basic', 'client_secret_post'] as const) {
      expect(await registry.authenticate('unknown', method === 'none' ? undefined : 'secret', method)).toEqual({ ok: false, reason: 'unknown_client' })
    }
  })
})

describe('registration access token (RFC 7592 §2)', () => {
  test('only the client\'s own token opens it', async () => {
    const a = await registry.register(PUBLIC)
    const b = await registry.register(PUBLIC)
    expect(await registry.verifyRegistrationToken(a.client.client_id, a.registrationAccessToken)).toEqual(a.client)
    expect(await registry.verifyRegistrationToken(a.client.client_id, b.registrationAccessToken)).toBeNull()
    expect(await registry.verifyRegistrationToken(a.client.client_id, '')).toBeNull()
    expect(await registry.verifyRegistrationToken(a.client.client_id, a.registrationAccessToken.slice(0, -1))).toBeNull()
  })
})

describe('update (RFC 7592 §2.2)', () => {
  test('replaces all metadata; client_id, issued_at, secret and registration token stay', async () => {
    const { client, clientSecret, registrationAccessToken } = await registry.register(CONFIDENTIAL)
    clock.advanceMs(60_000)
    const replacement = metadata({ redirect_uris: ['https://app.example/other'], token_endpoint_auth_method: 'client_secret_post' })
    const updated = await registry.update(client.client_id, replacement)
    expect(updated?.clientSecret).toBeUndefined()
    expect(updated?.client).toEqual({ ...replacement, client_id: client.client_id, client_id_issued_at: client.client_id_issued_at, client_secret_expires_at: 0 })
    // The omitted client_name is gone: full replacement, not a merge.
    expect(updated?.client.client_name).toBeUndefined()
    expect((await registry.authenticate(client.client_id, clientSecret, 'client_secret_post')).ok).toBe(true)
    expect(await registry.verifyRegistrationToken(client.client_id, registrationAccessToken)).toEqual(updated!.client)
  })

  test('rotateSecret issues a new secret and the old one stops working', async () => {
    const { client, clientSecret } = await registry.register(CONFIDENTIAL)
    const updated = await registry.update(client.client_id, CONFIDENTIAL, { rotateSecret: true })
    expect(updated?.clientSecret).toBeString()
    expect(updated?.clientSecret).not.toBe(clientSecret)
    expect(await registry.authenticate(client.client_id, clientSecret, 'client_secret_post')).toEqual({ ok: false, reason: 'wrong_secret' })
    expect((await registry.authenticate(client.client_id, updated?.clientSecret, 'client_secret_post')).ok).toBe(true)
    expect(await everythingStored()).not.toContain(updated!.clientSecret!)
  })

  test('becoming confidential issues a secret; becoming public drops it', async () => {
    const { client } = await registry.register(PUBLIC)
    const confidential = await registry.update(client.client_id, { ...PUBLIC, token_endpoint_auth_method: 'client_secret_basic' })
    expect(confidential?.clientSecret).toBeString()
    expect(confidential?.client.client_secret_expires_at).toBe(0)
    expect((await registry.authenticate(client.client_id, confidential?.clientSecret, 'client_secret_basic')).ok).toBe(true)
    const publicAgain = await registry.update(client.client_id, PUBLIC)
    expect(publicAgain?.clientSecret).toBeUndefined()
    expect(publicAgain?.client).not.toHaveProperty('client_secret_expires_at')
    expect(await everythingStored()).not.toContain('client_secret_hash')
    expect((await registry.authenticate(client.client_id, undefined, 'none')).ok).toBe(true)
  })

  test('concurrent updates both land in some order, never a mix', async () => {
    const { client } = await registry.register(PUBLIC)
    const names = Array.from({ length: 5 }, (_, i) => `name ${i}`)
    await Promise.all(names.map((client_name) => registry.update(client.client_id, { ...PUBLIC, client_name })))
    expect(names).toContain((await registry.get(client.client_id))?.client_name ?? '')
  })

  test('an unknown client → null', async () => {
    expect(await registry.update('unknown', PUBLIC)).toBeNull()
  })
})

describe('delete (RFC 7592 §2.3)', () => {
  test('a deleted client can no longer be read, authenticated or managed', async () => {
    const { client, registrationAccessToken } = await registry.register(PUBLIC)
    expect(await registry.delete(client.client_id)).toBe(true)
    expect(await registry.get(client.client_id)).toBeNull()
    expect(await registry.authenticate(client.client_id, undefined, 'none')).toEqual({ ok: false, reason: 'unknown_client' })
    expect(await registry.verifyRegistrationToken(client.client_id, registrationAccessToken)).toBeNull()
    expect(await registry.update(client.client_id, PUBLIC)).toBeNull()
    expect(await registry.delete(client.client_id)).toBe(false)
    expect(await registry.list()).toEqual([])
  })
})
