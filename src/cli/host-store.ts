/**
 * @module For commands run on the server's host (`token issue`, `keys …`): they open the server's own
 * store, found from the same DATA_DIR / REDIS_URL (or flags), rather than calling the API, because
 * they are how an admin gets in before any token exists.
 */
import { loadConfig, type Config } from '../config/index.ts'
import { StartupError } from '../lib/index.ts'
import { openStore, type Store } from '../store/index.ts'

export const HOST_STORE_ARGS = {
  'data-dir': { type: 'string', description: 'store directory of the server [env DATA_DIR]' },
  'redis-url': { type: 'string', description: 'Redis of the server [env REDIS_URL]' },
} as const

/** Loads the config from the environment and the given flags, opens the store, runs work, and closes the store. */
export async function withHostStore<T>(flags: Partial<Record<string, string>>, work: (config: Config, store: Store) => Promise<T>): Promise<T> {
  const given = Object.fromEntries(Object.entries(flags).filter(([, value]) => value)) as Record<string, string>
  const config = loadConfig(process.env, given)
  const store = openStore(config)
  try {
    await store.ping().catch((error) => {
      throw new StartupError(`cannot reach the ${store.kind} store: ${(error as Error).message}`)
    })
    return await work(config, store)
  } finally {
    await store.close()
  }
}
