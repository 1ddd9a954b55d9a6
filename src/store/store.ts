/**
 * @module The Store port: documents with versions and TTLs, atomic take, prefix listing and a
 * time-indexed append-only log. Two adapters implement it (embedded SQLite, Redis); one contract
 * suite (test/store/contract.ts) holds them to the same behaviour.
 *
 * Every method is safe for concurrent use from any number of Store instances that share a backing
 * store (processes on one SQLite file, nodes on one Redis). A method that cannot reach its backing
 * store rejects with StoreUnavailableError; callers never see driver errors.
 */

export interface StoredDocument {
  readonly value: string
  /** Unique across the whole store and increasing: a deleted-then-recreated key never repeats a version. */
  readonly version: number
}

export interface PutOptions {
  /** Expire the document this many milliseconds after the write. */
  readonly ttlMs?: number
  /** Write only when the key does not exist (or has expired). */
  readonly ifAbsent?: boolean
  /** Write only when the key's current version equals this (compare-and-set). */
  readonly ifVersion?: number
}

export interface DeleteOptions {
  /** Delete only when the key's current version equals this. */
  readonly ifVersion?: number
}

export interface LogEntry {
  /**
   * Unique across the store, increasing in append order (decimal digits): an entry appended after
   * another, on any instance sharing the backing store, has a larger id.
   */
  readonly id: string
  readonly timeMs: number
  readonly data: string
}

/** An entry's place in its stream's order (timeMs, then id): a page cursor. */
export interface LogPosition {
  readonly timeMs: number
  readonly id: string
}

export interface NewLogEntry {
  readonly timeMs: number
  readonly data: string
}

/**
 * Log entries given as rows of cells, column by column in flat arrays (what a ring of records holds
 * without an object or a string per entry). Each row becomes one entry whose data is the JSON array
 * of its cells, numbers first: `[n0, …, s0, …]` (a null string is null). The embedded store keeps
 * rows in that columnar form and makes the text only when an entry is read (log-rows.ts). A batch
 * is a few typed arrays and a short list of strings, which cross to another thread as a
 * copy of their bytes, where thousands of strings would be cloned one by one (rowBatchOf makes one
 * from plain cells).
 */
export interface RowBatch {
  readonly count: number
  /** Each row's timeMs. */
  readonly timesMs: Float64Array
  readonly numberColumns: number
  /** count × numberColumns finite numbers, row after row. */
  readonly numbers: Float64Array
  readonly stringColumns: number
  /**
   * count × stringColumns string cells, row after row: n ≥ 0 is the next n UTF-16 units of `text`,
   * -1 is null, and -2 - k is dictionary[k] (a value that repeats, such as a host, given once).
   */
  readonly stringCells: Int32Array
  /** The text cells' strings concatenated, in cell order, as UTF-16 units (batchText makes the string). */
  readonly textUnits: Uint16Array
  readonly dictionary: readonly string[]
}

/** A null string cell (RowBatch.stringCells). */
export const NULL_CELL = -1
/** The string cell of dictionary entry k, and back (RowBatch.stringCells). */
export const dictionaryCell = (k: number): number => -2 - k
export const dictionaryIndex = (cell: number): number => -2 - cell

export interface LogTailQuery {
  /** Only entries appended after the entry with this id; without it, the last `limit` entries appended. */
  readonly afterId?: string
  /** At most this many entries (default 100, at most 10,000). */
  readonly limit?: number
}

export interface LogQuery {
  /** Inclusive lower bound on timeMs. */
  readonly fromMs?: number
  /** Inclusive upper bound on timeMs. */
  readonly toMs?: number
  /** At most this many entries (default 100, at most 10,000). */
  readonly limit?: number
  /** newest first (default) or oldest first. */
  readonly order?: 'newest' | 'oldest'
  /**
   * Continue a scan: only entries strictly past this position in the query's order (older ones for
   * 'newest', newer ones for 'oldest'). Entries appended later at a newer time never shift a page.
   */
  readonly startAfter?: LogPosition
}

export type StoreKind = 'embedded' | 'redis'

export interface Store {
  readonly kind: StoreKind
  /** Returns null when missing or expired. */
  get(key: string): Promise<StoredDocument | null>
  /** Returns the new version, or null when a condition (ifAbsent, ifVersion) did not hold. */
  put(key: string, value: string, options?: PutOptions): Promise<number | null>
  /** Returns whether a document was deleted. */
  del(key: string, options?: DeleteOptions): Promise<boolean>
  /** Atomic get-and-delete: of many concurrent callers exactly one receives the value (RFC 6749 §4.1.2 single-use codes). */
  take(key: string): Promise<string | null>
  /** Keys starting with prefix, in lexical order. */
  list(prefix: string): Promise<string[]>
  /** Appends to a log stream; entries are indexed by timeMs. */
  append(stream: string, timeMs: number, data: string): Promise<void>
  /** Appends a batch in one round trip, in the given order (ids increase along the batch); all or none. */
  appendMany(stream: string, entries: readonly NewLogEntry[]): Promise<void>
  /**
   * appendMany for entries given as rows (RowBatch): each row's data is the JSON array of its cells.
   * Nothing reads the batch once the promise has resolved: its caller may reuse its memory.
   */
  appendRows(stream: string, rows: RowBatch): Promise<void>
  /** Entries in a time window, ordered by (timeMs, id). */
  query(stream: string, query?: LogQuery): Promise<LogEntry[]>
  /**
   * Entries in append order (by id, oldest first), whatever their timeMs: what a live tail polls, so
   * an entry stamped earlier than ones already seen (a long request, another node's late batch) is
   * still found. Redis keeps this order for the last appends only (RedisStoreOptions.tailCapacity).
   */
  tail(stream: string, query?: LogTailQuery): Promise<LogEntry[]>
  /** Deletes every entry of the stream older than beforeMs; returns how many went. */
  trim(stream: string, beforeMs: number): Promise<number>
  /** Deletes the oldest entries (by timeMs, then id) until at most `keep` remain; returns how many went. */
  trimToCount(stream: string, keep: number): Promise<number>
  /** Rejects with StoreUnavailableError when the backing store does not answer. */
  ping(): Promise<void>
  /** Completes pending writes and releases connections. */
  close(): Promise<void>
}

/** The backing store could not be reached; the operation may be retried later. */
export class StoreUnavailableError extends Error {
  constructor(
    readonly kind: StoreKind,
    cause: unknown,
  ) {
    super(`${kind} store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'StoreUnavailableError'
  }
}

/** A stored document failed its schema: the store holds something this version cannot read. */
export class StoreCorruptionError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`stored document ${key} is invalid: ${detail}`)
    this.name = 'StoreCorruptionError'
  }
}

export const DEFAULT_QUERY_LIMIT = 100
export const MAX_QUERY_LIMIT = 10_000

export function clampLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(MAX_QUERY_LIMIT, Math.floor(limit ?? DEFAULT_QUERY_LIMIT)))
}

/** A log entry id as a number; ids are decimal digits, anything else is a caller's bug. */
export function logIdNumber(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw new TypeError(`invalid log entry id ${JSON.stringify(id)}`)
  return Number(id)
}
