/**
 * Registered clients that never complete an authorization expire (issue #13, OAUTH_UNUSED_CLIENT_TTL);
 * the first token issued (recordUse) makes a client permanent; last_used_at at most once a minute; the
 * admin's resource_server flag; what the configuration export carries. The registry on the embedded
 * store, time from a manual clock.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createManualClock } from '../../src/lib/index.ts'
import { createClientRegistry, parseClientMetadata, type ClientRegistry } from '../../src/oauth/index.ts'
import { COLLECTIONS, createEmbeddedStore, type Store } from '../../src/store/index.ts'

const TTL_SEC = 3600
const START_MS = Date.UTC(2026, 10, 27, 12)
let clock: ReturnType<typeof createManualClock>
let store: Store
let registry: ClientRegistry
beforeEach(() => {
  clock = createManualClock(START_MS)
  store = createEmbeddedStore({ dataDir: ':memory:', clock })
  registry = createClientRegistry(store, clock, { unusedClientTtlSec: TTL_SEC })
})
afterEach(() => store.close())

function metadata(method: 'none' | 'client_secret_basic' = 'none', name = 'App') {
  const parsed = parseClientMetadata({ client_name: name, redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: method })
  if (!parsed.ok) throw new Error(parsed.description)
  return parsed.metadata
}
const storedIds = async () => (await store.list(COLLECTIONS.oauthClients)).map((key) => key.slice(COLLECTIONS.oauthClients.length))
const versionOf = async (clientId: string) => (await store.get(COLLECTIONS.oauthClients + clientId))?.version

describe('OAUTH_UNUSED_CLIENT_TTL', () => {
  test('a client never used is gone from get, list and the store once the TTL has passed; expires_at says when', async () => {
    const { client } = await registry.register(metadata())
    expect(client.expires_at).toBe(START_MS / 1000 + TTL_SEC)
    expect(client.last_used_at).toBeUndefined()
    clock.advanceMs(TTL_SEC * 1000 - 1)
    expect(await registry.get(client.client_id)).not.toBeNull()
    clock.advanceMs(1)
    expect(await registry.get(client.client_id)).toBeNull()
    expect((await registry.list()).map((c) => c.client_id)).not.toContain(client.client_id)
    expect(await storedIds()).not.toContain(client.client_id)
    expect((await registry.authenticate(client.client_id, undefined, 'none')).ok).toBe(false)
  })

  test('the first use makes it permanent: expires_at goes, last_used_at comes, the TTL passes without effect', async () => {
    const { client } = await registry.register(metadata())
    clock.advanceMs(60_000)
    expect(await registry.recordUse(client)).toBe(true)
    const used = (await registry.get(client.client_id))!
    expect(used.expires_at).toBeUndefined()
    expect(used.last_used_at).toBe(START_MS / 1000 + 60)
    clock.advanceMs(400 * 86_400_000)
    expect(await registry.get(client.client_id)).toMatchObject({ client_id: client.client_id, last_used_at: START_MS / 1000 + 60 })
  })

  test('last_used_at is written at most once a minute: a use within the minute touches nothing, even the store', async () => {
    const { client } = await registry.register(metadata())
    await registry.recordUse(client)
    const view = (await registry.get(client.client_id))!
    const version = await versionOf(client.client_id)
    clock.advanceMs(59_000)
    expect(await registry.recordUse(view)).toBe(true)
    // A stale view (no last_used_at) still finds the recent one in the store and writes nothing.
    expect(await registry.recordUse(client)).toBe(true)
    expect(await versionOf(client.client_id)).toBe(version)
    clock.advanceMs(1_000)
    expect(await registry.recordUse(view)).toBe(true)
    expect(await versionOf(client.client_id)).not.toBe(version)
    expect((await registry.get(client.client_id))!.last_used_at).toBe(START_MS / 1000 + 60)
  })

  test('recordUse of a client that expired or was deleted since it authenticated → false', async () => {
    const { client } = await registry.register(metadata())
    clock.advanceMs(TTL_SEC * 1000)
    expect(await registry.recordUse(client)).toBe(false)
    expect(await storedIds()).not.toContain(client.client_id)
    const fresh = (await registry.register(metadata())).client
    await registry.delete(fresh.client_id)
    expect(await registry.recordUse(fresh)).toBe(false)
    expect(await storedIds()).not.toContain(fresh.client_id)
  })

  test('RFC 7592 §2.2: the client\'s own update does not extend its life; a rotated secret neither', async () => {
    const { client } = await registry.register(metadata('client_secret_basic'))
    clock.advanceMs(TTL_SEC * 500)
    const updated = await registry.update(client.client_id, metadata('client_secret_basic', 'Renamed'), { rotateSecret: true })
    expect(updated?.client).toMatchObject({ client_name: 'Renamed', expires_at: client.expires_at })
    expect(updated?.clientSecret).toBeString()
    clock.advanceMs(TTL_SEC * 500)
    expect(await registry.get(client.client_id)).toBeNull()
    // Gone: an update is what it is for an unknown client.
    expect(await registry.update(client.client_id, metadata())).toBeNull()
  })

  test('without unusedClientTtlSec nothing expires (and clients stored before #13 have no expires_at)', async () => {
    const forever = createClientRegistry(store, clock)
    const { client } = await forever.register(metadata())
    expect(client.expires_at).toBeUndefined()
    clock.advanceMs(400 * 86_400_000)
    expect(await forever.get(client.client_id)).not.toBeNull()
  })
})

describe('resource_server (an admin\'s flag)', () => {
  test('set and cleared by compare-and-set; an unused client keeps its expiry; unknown → null', async () => {
    const { client } = await registry.register(metadata('client_secret_basic'))
    expect(await registry.setResourceServer(client.client_id, true)).toMatchObject({ resource_server: true, expires_at: client.expires_at })
    expect((await registry.get(client.client_id))!.resource_server).toBe(true)
    // The client's own RFC 7592 update keeps what the admin decided.
    await registry.update(client.client_id, metadata('client_secret_basic', 'Renamed'))
    expect((await registry.get(client.client_id))!.resource_server).toBe(true)
    const cleared = await registry.setResourceServer(client.client_id, false)
    expect(cleared).not.toHaveProperty('resource_server')
    expect(await registry.setResourceServer('AAAAAAAAAAAAAAAAAAAAAA', true)).toBeNull()
    expect(await registry.setResourceServer('not..valid', true)).toBeNull()
    clock.advanceMs(TTL_SEC * 1000)
    expect(await registry.setResourceServer(client.client_id, true)).toBeNull()
  })
})

describe('configuration export and import', () => {
  test('the export carries resource_server but not last_used_at or expires_at; an import makes a client permanent', async () => {
    const { client } = await registry.register(metadata('client_secret_basic'))
    await registry.setResourceServer(client.client_id, true)
    const unused = (await registry.register(metadata())).client
    const exported = await registry.exportClients()
    const mine = exported.find((c) => c.client_id === client.client_id)!
    expect(mine.resource_server).toBe(true)
    for (const entry of exported) {
      expect(entry).not.toHaveProperty('expires_at')
      expect(entry).not.toHaveProperty('last_used_at')
    }
    const reimported = await registry.importClient(exported.find((c) => c.client_id === unused.client_id)!)
    expect(reimported.expires_at).toBeUndefined()
    clock.advanceMs(TTL_SEC * 1000 * 2)
    expect(await registry.get(unused.client_id)).not.toBeNull()
    expect(await registry.get(client.client_id)).toBeNull()
  })
})
