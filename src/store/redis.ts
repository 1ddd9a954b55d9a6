/**
 * @module The Redis Store adapter (ioredis). Documents are hashes {v: value, n: version}; versions
 * come from one INCR counter, so they never repeat; conditional writes are Lua scripts, atomic on
 * the server. Logs are sorted sets scored by time.
 */
import Redis from 'ioredis'
import {
  clampLimit,
  StoreUnavailableError,
  type LogEntry,
  type LogQuery,
  type Store,
  type StoredDocument,
} from './store.ts'

export interface RedisStoreOptions {
  readonly url: string
  /** Prefix of every Redis key this store touches, so several deployments or tests can share a server. */
  readonly namespace?: string
  /** A command that gets no answer within this time fails instead of waiting for a reconnect. */
  readonly commandTimeoutMs?: number
}

// KEYS[1] doc, KEYS[2] version counter; ARGV value, ttlMs|'', ifAbsent '1'|'0', ifVersion|''
const PUT_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'n')
if ARGV[3] == '1' and current then return false end
if ARGV[4] ~= '' and current ~= ARGV[4] then return false end
if redis.call('EXISTS', KEYS[2]) == 0 then
  -- A Redis without persistence forgets the counter on restart; seeding it from the server clock
  -- (microseconds) keeps versions from repeating, so a stale lock holder cannot free a new lock.
  local now = redis.call('TIME')
  redis.call('SET', KEYS[2], now[1] * 1000000 + now[2])
end
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'n', version)
if ARGV[2] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('PERSIST', KEYS[1]) end
return version`

// KEYS[1] doc; ARGV ifVersion|''
const DEL_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'n')
if not current then return 0 end
if ARGV[1] ~= '' and current ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`

const TAKE_SCRIPT = `
local value = redis.call('HGET', KEYS[1], 'v')
if value then redis.call('DEL', KEYS[1]) end
return value`

// A log is a sorted set scored by timeMs, so late entries are indexed at their own time exactly as in
// SQLite. Members are "<seq>|<data>" with a zero-padded sequence, which keeps them unique and keeps
// equal timestamps in append order. KEYS[1] log, KEYS[2] sequence; ARGV timeMs, data.
const APPEND_SCRIPT = `
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], ARGV[1], string.format('%016d', seq) .. '|' .. ARGV[2])
return seq`

interface ScriptedRedis extends Redis {
  storePut(doc: string, counter: string, value: string, ttlMs: string, ifAbsent: string, ifVersion: string): Promise<number | null>
  storeDel(doc: string, ifVersion: string): Promise<number>
  storeTake(doc: string): Promise<string | null>
  storeAppend(stream: string, sequence: string, timeMs: string, data: string): Promise<number>
}

export function createRedisStore(options: RedisStoreOptions): Store {
  const ns = options.namespace ?? 'ohp:'
  const docKey = (key: string) => `${ns}d:${key}`
  const logKey = (stream: string) => `${ns}l:${stream}`
  const versionKey = `${ns}sys:version`
  const logSequenceKey = `${ns}sys:log-seq`

  const redis = new Redis(options.url, {
    lazyConnect: false,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs ?? 3_000,
    maxRetriesPerRequest: 1,
    // Keep reconnecting forever, at most every 2 s: the store recovers by itself when Redis is back.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  }) as ScriptedRedis
  // Connection errors surface through the commands that fail; without a listener ioredis prints them.
  redis.on('error', () => {})
  redis.defineCommand('storePut', { numberOfKeys: 2, lua: PUT_SCRIPT })
  redis.defineCommand('storeDel', { numberOfKeys: 1, lua: DEL_SCRIPT })
  redis.defineCommand('storeTake', { numberOfKeys: 1, lua: TAKE_SCRIPT })
  redis.defineCommand('storeAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT })

  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw new StoreUnavailableError('redis', error)
    }
  }

  return {
    kind: 'redis',
    get: (key) =>
      guard(async () => {
        const [value, version] = await redis.hmget(docKey(key), 'v', 'n')
        return value == null || version == null ? null : ({ value, version: Number(version) } satisfies StoredDocument)
      }),
    put: (key, value, opts = {}) =>
      guard(async () => {
        const version = await redis.storePut(
          docKey(key),
          versionKey,
          value,
          opts.ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(opts.ttlMs))),
          opts.ifAbsent ? '1' : '0',
          opts.ifVersion === undefined ? '' : String(opts.ifVersion),
        )
        return version === null ? null : Number(version)
      }),
    del: (key, opts = {}) =>
      guard(async () => (await redis.storeDel(docKey(key), opts.ifVersion === undefined ? '' : String(opts.ifVersion))) === 1),
    take: (key) => guard(() => redis.storeTake(docKey(key))),
    list: (prefix) =>
      guard(async () => {
        const keys = new Set<string>()
        const pattern = escapeGlob(docKey(prefix)) + '*'
        let cursor = '0'
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
          cursor = next
          for (const key of batch) keys.add(key.slice(docKey('').length))
        } while (cursor !== '0')
        return [...keys].sort()
      }),
    append: (stream, timeMs, data) => guard(async () => void (await redis.storeAppend(logKey(stream), logSequenceKey, String(timeMs), data))),
    query: (stream, query: LogQuery = {}) =>
      guard(async () => {
        const from = String(query.fromMs ?? '-inf')
        const to = query.toMs === undefined ? '+inf' : String(query.toMs)
        const count = clampLimit(query.limit)
        const flat =
          query.order === 'oldest'
            ? await redis.zrangebyscore(logKey(stream), from, to, 'WITHSCORES', 'LIMIT', 0, count)
            : await redis.zrevrangebyscore(logKey(stream), to, from, 'WITHSCORES', 'LIMIT', 0, count)
        const entries: LogEntry[] = []
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const member = flat[i]!
          const split = member.indexOf('|')
          entries.push({ id: String(Number(member.slice(0, split))), timeMs: Number(flat[i + 1]), data: member.slice(split + 1) })
        }
        return entries
      }),
    trim: (stream, beforeMs) => guard(() => redis.zremrangebyscore(logKey(stream), '-inf', `(${beforeMs}`)),
    ping: () => guard(async () => void (await redis.ping())),
    close: async () => {
      try {
        await redis.quit()
      } catch {
        redis.disconnect()
      }
    },
  }
}

/** SCAN MATCH treats * ? [ ] \ as glob syntax; a prefix must match literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
