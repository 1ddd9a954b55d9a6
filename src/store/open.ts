/** @module Chooses the Store adapter from the configuration: Redis when REDIS_URL is set, else embedded. */
import type { Config } from '../config/index.ts'
import { createEmbeddedStore } from './embedded.ts'
import { createRedisStore } from './redis.ts'
import type { Store } from './store.ts'

export function openStore(config: Pick<Config, 'redisUrl' | 'dataDir'>): Store {
  return config.redisUrl ? createRedisStore({ url: config.redisUrl }) : createEmbeddedStore({ dataDir: config.dataDir })
}
