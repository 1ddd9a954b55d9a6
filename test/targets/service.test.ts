/** The targets service: documents written before the auth fields existed, and the write-only GitHub secret. */
import { afterEach, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { COLLECTIONS, createEmbeddedStore, keys } from '../../src/store/index.ts'
import { createProxyTargets, CreateProxyTargetSchema } from '../../src/targets/index.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const targets = createProxyTargets(store, createMemoryBus(createLogger('silent')), clock)
afterEach(async () => {
  for (const target of await targets.list()) await targets.remove(target.proxy_hostname)
})

test('a document stored before the auth fields existed reads with their defaults, and updates keep it valid', async () => {
  const old = { proxy_hostname: 'old.example.com', target_url: 'http://127.0.0.1:9', created_by: 'x', created_at: 't', updated_at: 't', config_version: 3 }
  await store.put(keys.inCollection(COLLECTIONS.proxyTargets, 'old.example.com'), JSON.stringify(old))
  expect(await targets.get('old.example.com')).toMatchObject({
    auth_enabled: false,
    auth_mode: 'forward',
    auth_required_users: null,
    auth_excluded_paths: [],
    oauth_admin_users: null,
    oauth_user_users: null,
    oauth_mcp_users: null,
    github_client_id: null,
    github_client_secret_set: false,
  })
  expect(await targets.update('old.example.com', { oauth_mcp_users: ['carol'] })).toMatchObject({ oauth_mcp_users: ['carol'], config_version: 4 })
})

test('list and get never carry the GitHub secret; gitHubApp is the one read of it', async () => {
  await targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: 'app.example.com', target_url: 'http://127.0.0.1:9' }), 'test')
  await targets.setGitHubApp('app.example.com', { clientId: 'id', clientSecret: 'the-secret' })
  for (const target of [await targets.get('app.example.com'), ...(await targets.list())]) {
    expect(JSON.stringify(target)).not.toContain('the-secret')
    expect(target).toMatchObject({ github_client_id: 'id', github_client_secret_set: true })
  }
  expect(await targets.gitHubApp('app.example.com')).toEqual({ clientId: 'id', clientSecret: 'the-secret' })
  expect(await targets.gitHubApp('missing.example.com')).toBeNull()
  await targets.setGitHubApp('app.example.com', null)
  expect(await targets.gitHubApp('app.example.com')).toBeNull()
  await expect(targets.setGitHubApp('missing.example.com', null)).rejects.toMatchObject({ kind: 'not_found' })
})
