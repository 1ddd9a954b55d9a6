/** The registry's configuration path: exportClients (views plus hashes, never plaintext) and importClient (keeps client_id). */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createManualClock } from '../../src/lib/index.ts'
import { createClientRegistry, parseClientMetadata, type ClientMetadata, type ClientRegistry } from '../../src/oauth/index.ts'
import { createEmbeddedStore, type Store } from '../../src/store/index.ts'

const metadata = (input: Record<string, unknown>): ClientMetadata => {
  const result = parseClientMetadata(input)
  if (!result.ok) throw new Error(result.description)
  return result.metadata
}
const PUBLIC = metadata({ client_name: 'CLI', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })
const CONFIDENTIAL = metadata({ client_name: 'Web app', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_post' })

let stores: Store[]
let clock: ReturnType<typeof createManualClock>
const freshRegistry = (): ClientRegistry => {
  const store = createEmbeddedStore({ dataDir: ':memory:', clock })
  stores.push(store)
  return createClientRegistry(store, clock)
}
beforeEach(() => {
  clock = createManualClock(Date.UTC(2026, 10, 27, 12))
  stores = []
})
afterEach(() => {
  for (const store of stores) store.close()
})

describe('exportClients and importClient', () => {
  test('with the hashes, an imported confidential client authenticates with its secret and manages itself with its token, on another server', async () => {
    const source = freshRegistry()
    const registered = await source.register(CONFIDENTIAL)
    const [exported] = await source.exportClients()
    expect(exported).toEqual({ ...registered.client, client_secret_hash: expect.stringMatching(/^[0-9a-f]{64}$/), registration_access_token_hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(JSON.stringify(exported)).not.toContain(registered.clientSecret!)

    const target = freshRegistry()
    clock.advanceMs(60_000)
    expect(await target.importClient(exported!)).toEqual(registered.client)
    expect((await target.authenticate(registered.client.client_id, registered.clientSecret!, 'client_secret_post')).ok).toBe(true)
    expect(await target.verifyRegistrationToken(registered.client.client_id, registered.registrationAccessToken)).toEqual(registered.client)
    expect(await target.exportClients()).toEqual([exported!])
  })

  test('without the hashes: a new client gets secrets nobody knows; an existing one keeps its own', async () => {
    const source = freshRegistry()
    const registered = await source.register(CONFIDENTIAL)
    const { client_secret_hash: _secret, registration_access_token_hash: _token, ...bare } = (await source.exportClients())[0]!

    const target = freshRegistry()
    await target.importClient(bare)
    expect((await target.authenticate(bare.client_id, registered.clientSecret!, 'client_secret_post')).ok).toBe(false)
    expect(await target.verifyRegistrationToken(bare.client_id, registered.registrationAccessToken)).toBeNull()

    // Importing into the source itself, with changed metadata, keeps the secret and the token.
    expect(await source.importClient({ ...bare, client_name: 'Renamed' })).toMatchObject({ client_name: 'Renamed' })
    expect((await source.authenticate(bare.client_id, registered.clientSecret!, 'client_secret_post')).ok).toBe(true)
    expect(await source.verifyRegistrationToken(bare.client_id, registered.registrationAccessToken)).toMatchObject({ client_name: 'Renamed' })
  })

  test('a public client has no secret hash, even when one was stored before', async () => {
    const registry = freshRegistry()
    const registered = await registry.register(CONFIDENTIAL)
    const [exported] = await registry.exportClients()
    await registry.importClient({ ...exported!, ...PUBLIC, client_secret_expires_at: undefined })
    const [after] = await registry.exportClients()
    expect(after).not.toHaveProperty('client_secret_hash')
    expect(after).not.toHaveProperty('client_secret_expires_at')
    expect((await registry.authenticate(registered.client.client_id, undefined, 'none')).ok).toBe(true)
  })
})
