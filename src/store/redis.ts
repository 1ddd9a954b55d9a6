/**
 * @module The Redis Store adapter (ioredis). Documents are hashes {v: value, n: version}; versions
 * come from one INCR counter, so they never repeat; conditional writes are Lua scripts, atomic on
 * the server. Logs are sorted sets scored by time, with a capped second set in append order for tails.
 */
import Redis from 'ioredis'
import { rowTexts } from './log-rows.ts'
import {
  clampLimit,
  logIdNumber,
  StoreUnavailableError,
  type LogEntry,
  type LogQuery,
  type LogTailQuery,
  type NewLogEntry,
  type Store,
  type StoredDocument,
} from './store.ts'

export interface RedisStoreOptions {
  readonly url: string
  /** Prefix of every Redis key this store touches, so several deployments or tests can share a server. */
  readonly namespace?: string
  /** A command that gets no answer within this time fails instead of waiting for a reconnect. */
  readonly commandTimeoutMs?: number
  /** How many of the last appended entries of each log stream tail() can return (default 10,000). */
  readonly tailCapacity?: number
}

const DEFAULT_TAIL_CAPACITY = 10_000
/** Entries removed per script call by trim and trimToCount, so one call never blocks Redis for long. */
const TRIM_CHUNK = 1_000

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
// equal timestamps in append order. The same members also go into a tail set scored by the sequence
// (append order, which a time-ordered set cannot give), capped to the last ARGV[1] entries.
// KEYS[1] log, KEYS[2] sequence, KEYS[3] tail; ARGV tailCapacity, then timeMs, data pairs.
const APPEND_SCRIPT = `
local n = (#ARGV - 1) / 2
local last = redis.call('INCRBY', KEYS[2], n)
for i = 1, n do
  local seq = last - n + i
  local member = string.format('%016d', seq) .. '|' .. ARGV[2 * i + 1]
  redis.call('ZADD', KEYS[1], ARGV[2 * i], member)
  redis.call('ZADD', KEYS[3], seq, member)
end
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[1]) + 1))
return last`

// Entries of the tail set after ARGV[1] (or the last ARGV[2] when it is ''), with their time from the
// log; an entry trimmed from the log is skipped. KEYS[1] log, KEYS[2] tail; ARGV afterId|'', limit.
const TAIL_SCRIPT = `
local members
if ARGV[1] == '' then
  members = redis.call('ZRANGE', KEYS[2], -tonumber(ARGV[2]), -1)
else
  members = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
end
local out = {}
for _, member in ipairs(members) do
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score then
    out[#out + 1] = member
    out[#out + 1] = score
  end
end
return out`

// One chunk of retention by age. KEYS[1] log, KEYS[2] tail; ARGV beforeMs (exclusive), chunk size.
const TRIM_BEFORE_SCRIPT = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, ARGV[2])
if #gone > 0 then
  redis.call('ZREM', KEYS[1], unpack(gone))
  redis.call('ZREM', KEYS[2], unpack(gone))
end
return #gone`

// One chunk of retention by count: the oldest entries beyond ARGV[1]. KEYS[1] log, KEYS[2] tail.
const TRIM_COUNT_SCRIPT = `
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local gone = redis.call('ZRANGE', KEYS[1], 0, math.min(excess, tonumber(ARGV[2])) - 1)
redis.call('ZREM', KEYS[1], unpack(gone))
redis.call('ZREM', KEYS[2], unpack(gone))
return #gone`

interface ScriptedRedis extends Redis {
  storePut(doc: string, counter: string, value: string, ttlMs: string, ifAbsent: string, ifVersion: string): Promise<number | null>
  storeDel(doc: string, ifVersion: string): Promise<number>
  storeTake(doc: string): Promise<string | null>
  storeAppend(stream: string, sequence: string, tail: string, tailCapacity: string, ...timeAndData: string[]): Promise<number>
  storeTail(stream: string, tail: string, afterId: string, limit: string): Promise<string[]>
  storeTrimBefore(stream: string, tail: string, beforeMs: string, chunk: string): Promise<number>
  storeTrimCount(stream: string, tail: string, keep: string, chunk: string): Promise<number>
}

export function createRedisStore(options: RedisStoreOptions): Store {
  const ns = options.namespace ?? 'ohp:'
  const docKey = (key: string) => `${ns}d:${key}`
  const logKey = (stream: string) => `${ns}l:${stream}`
  const tailKey = (stream: string) => `${ns}tail:${stream}`
  const tailCapacity = String(options.tailCapacity ?? DEFAULT_TAIL_CAPACITY)
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
  redis.defineCommand('storeAppend', { numberOfKeys: 3, lua: APPEND_SCRIPT })
  redis.defineCommand('storeTail', { numberOfKeys: 2, lua: TAIL_SCRIPT })
  redis.defineCommand('storeTrimBefore', { numberOfKeys: 2, lua: TRIM_BEFORE_SCRIPT })
  redis.defineCommand('storeTrimCount', { numberOfKeys: 2, lua: TRIM_COUNT_SCRIPT })

  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw new StoreUnavailableError('redis', error)
    }
  }

  const appendMany = (stream: string, entries: readonly NewLogEntry[]): Promise<void> =>
    guard(async () => {
      if (entries.length === 0) return
      const args = entries.flatMap((entry) => [String(entry.timeMs), entry.data])
      await redis.storeAppend(logKey(stream), logSequenceKey, tailKey(stream), tailCapacity, ...args)
    })

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
    append: (stream, timeMs, data) => appendMany(stream, [{ timeMs, data }]),
    appendMany,
    // Redis keeps every entry as a member of its own: each row becomes its text here.
    appendRows: (stream, rows) => appendMany(stream, rowTexts(rows).map((data, row) => ({ timeMs: rows.timesMs[row]!, data }))),
    query: async (stream, query: LogQuery = {}) => {
      if (query.startAfter) logIdNumber(query.startAfter.id)
      return guard(() => queryLog(redis, logKey(stream), query))
    },
    tail: async (stream, query: LogTailQuery = {}) => {
      const afterId = query.afterId === undefined ? '' : String(logIdNumber(query.afterId))
      return guard(async () => entriesOf(await redis.storeTail(logKey(stream), tailKey(stream), afterId, String(clampLimit(query.limit)))))
    },
    trim: (stream, beforeMs) => guard(() => inChunks(() => redis.storeTrimBefore(logKey(stream), tailKey(stream), String(beforeMs), String(TRIM_CHUNK)))),
    trimToCount: (stream, keep) =>
      guard(() => inChunks(() => redis.storeTrimCount(logKey(stream), tailKey(stream), String(Math.max(0, Math.floor(keep))), String(TRIM_CHUNK)))),
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

/** Members are "<16-digit seq>|<data>"; the id is the sequence without its padding. */
function parseMember(member: string, score: string): LogEntry {
  const split = member.indexOf('|')
  return { id: String(Number(member.slice(0, split))), timeMs: Number(score), data: member.slice(split + 1) }
}

/** A flat [member, score, member, score, …] reply. */
function entriesOf(flat: string[]): LogEntry[] {
  const entries: LogEntry[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push(parseMember(flat[i]!, flat[i + 1]!))
  return entries
}

const paddedSeq = (id: string) => id.padStart(16, '0')

/**
 * A window in (timeMs, id) order. With a cursor, the entries at the cursor's own millisecond are read
 * first and filtered by sequence (members at one score are ordered by their padded sequence), then
 * the rest of the window strictly past that millisecond.
 */
async function queryLog(redis: Redis, key: string, query: LogQuery): Promise<LogEntry[]> {
  const count = clampLimit(query.limit)
  const from = query.fromMs ?? -Infinity
  const to = query.toMs ?? Infinity
  const bound = (ms: number, exclusive = false) => (ms === Infinity ? '+inf' : ms === -Infinity ? '-inf' : `${exclusive ? '(' : ''}${ms}`)
  const cursor = query.startAfter
  if (query.order === 'oldest') {
    if (!cursor || cursor.timeMs < from) return entriesOf(await redis.zrangebyscore(key, bound(from), bound(to), 'WITHSCORES', 'LIMIT', 0, count))
    if (cursor.timeMs > to) return []
    const sameMs = entriesOf(await redis.zrangebyscore(key, cursor.timeMs, cursor.timeMs, 'WITHSCORES'))
    const first = sameMs.filter((entry) => paddedSeq(entry.id) > paddedSeq(cursor.id)).slice(0, count)
    if (first.length === count) return first
    return [...first, ...entriesOf(await redis.zrangebyscore(key, bound(cursor.timeMs, true), bound(to), 'WITHSCORES', 'LIMIT', 0, count - first.length))]
  }
  if (!cursor || cursor.timeMs > to) return entriesOf(await redis.zrevrangebyscore(key, bound(to), bound(from), 'WITHSCORES', 'LIMIT', 0, count))
  if (cursor.timeMs < from) return []
  const sameMs = entriesOf(await redis.zrevrangebyscore(key, cursor.timeMs, cursor.timeMs, 'WITHSCORES'))
  const first = sameMs.filter((entry) => paddedSeq(entry.id) < paddedSeq(cursor.id)).slice(0, count)
  if (first.length === count) return first
  return [...first, ...entriesOf(await redis.zrevrangebyscore(key, bound(cursor.timeMs, true), bound(from), 'WITHSCORES', 'LIMIT', 0, count - first.length))]
}

/** Runs a chunked removal until a chunk comes back short; returns the total removed. */
async function inChunks(chunk: () => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const removed = Number(await chunk())
    total += removed
    if (removed < TRIM_CHUNK) return total
  }
}

/** SCAN MATCH treats * ? [ ] \ as glob syntax; a prefix must match literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
