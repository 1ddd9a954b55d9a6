/** @module Persistence: the Store port, its adapters, typed collections, locks and log collections. */
export { createCollection, type Collection, type Versioned } from './collection.ts'
export { createEmbeddedStore, EMBEDDED_STORE_FILES, type EmbeddedStoreOptions } from './embedded.ts'
export { COLLECTIONS, keys, safe, STREAMS } from './keys.ts'
export { acquireLock, LockTimeoutError, tryLock, type Lock, type LockOptions } from './lock.ts'
export { createLogCollection, type LogCollection } from './log-collection.ts'
export { rowBatchOf, stringCellsOf } from './log-rows.ts'
export { createNodeHeartbeats, HEARTBEAT_INTERVAL_MS, NodeHeartbeatSchema, type NodeHeartbeat, type NodeHeartbeatOptions, type NodeHeartbeats } from './node-heartbeats.ts'
export { openStore } from './open.ts'
export { createRedisStore, type RedisStoreOptions } from './redis.ts'
export { createServiceNames, type NameClaim, type ServiceKind, type ServiceNames } from './service-names.ts'
export {
  dictionaryCell,
  NULL_CELL,
  StoreCorruptionError,
  StoreUnavailableError,
  type DeleteOptions,
  type LogEntry,
  type LogPosition,
  type LogQuery,
  type LogTailQuery,
  type NewLogEntry,
  type PutOptions,
  type RowBatch,
  type Store,
  type StoreKind,
  type StoredDocument,
} from './store.ts'
