/**
 * @module Opening the store at start-up: a store that cannot be opened, or does not answer within
 * 10 s, stops the start with one line that says what to change (StartupError). Later outages are survived.
 */
import type { Config } from './config/index.ts'
import { StartupError, unwritableReason } from './lib/index.ts'
import { EMBEDDED_STORE_FILES, openStore, type Store } from './store/index.ts'

/** The configured store; one that cannot be opened (a DATA_DIR this process cannot write) is explained. */
export function openStoreOrExplain(config: Config): Store {
  try {
    return openStore(config)
  } catch (error) {
    const reason = config.redisUrl ? null : (EMBEDDED_STORE_FILES.map((file) => unwritableReason(config.dataDir, file)).find((why) => why !== null) ?? null)
    throw new StartupError(`DATA_DIR: cannot open the store in ${config.dataDir} (${reason ?? (error as Error).message})`)
  }
}

/** At start-up the store must answer: nothing can run without keys. Later outages are survived. */
export async function waitForStore(store: Store, config: Config): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      return await store.ping()
    } catch (error) {
      if (Date.now() > deadline) {
        const what = store.kind === 'redis' ? 'REDIS_URL: Redis does not answer' : `DATA_DIR: cannot open the store in ${config.dataDir}`
        throw new StartupError(`${what} (${(error as Error).message})`)
      }
      await Bun.sleep(250)
    }
  }
}
