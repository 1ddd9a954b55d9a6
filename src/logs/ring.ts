/**
 * @module A fixed-size FIFO of request records between the data plane and the store writer, kept as
 * columns (record-row.ts): push copies a record's fields into preallocated slots, so the record object
 * is garbage as soon as the request is done, and take hands the writer a RowBatch the store writes as
 * it is. push is O(1), never throws and never waits: when the ring is full the new record is dropped
 * and counted, so back-pressure costs a record, never a request.
 *
 * The fields whose values repeat (node, host, method, backend, outcome, user agent…) are kept as
 * numbers: each distinct value is given an index in the ring's dictionary the first time it is seen,
 * and a slot holds that index. The other string cells (request id, path, client address, and a
 * repeating value the full dictionary could not take) are copied at push, as UTF-16 units, into a ring
 * of characters beside the slots. So no string of a record outlives its request (they die young, where
 * the garbage collector is cheapest), and take copies numbers and characters, where it used to join
 * three strings a record: some 0.5 µs a record, 2-4 ms of the serving thread at once every 250 ms at
 * 15,000 requests/s, which showed in p99.
 * The dictionary holds at most DICTIONARY_MAX values (a value seen after that is kept as text) and
 * starts again when a take empties the ring past DICTIONARY_RESET values, so values no longer seen do
 * not stay forever.
 */
import { dictionaryCell, NULL_CELL, type RowBatch } from '../store/index.ts'
import type { RequestRecord } from './record.ts'
import { NUMBER_COLUMNS, STRING_COLUMNS } from './record-row.ts'

export interface RecordRing {
  /** Adds a record; returns false (and counts a drop) when the ring is full. */
  push(record: RequestRecord): boolean
  /** Removes up to max records (fewer if their text passes TAKE_CHARS), oldest first, as rows (record-row.ts). */
  take(max: number): RowBatch
  readonly size: number
  readonly capacity: number
  /** Half the ring's characters are taken: long paths fill it before its slots are (the writer flushes early). */
  readonly isTextHalfFull: boolean
  /** Records refused because the ring was full, since it was made. */
  readonly dropped: number
  /**
   * Hands back a batch from take once nothing reads it any more (the store has written it): a later
   * take copies into its memory instead of allocating a new one.
   */
  recycle(batch: RowBatch): void
}

const DICTIONARY_MAX = 4_096
const DICTIONARY_RESET = 1_024
/**
 * Characters of text cells the ring holds: 48 a slot on average (a request id is 16, an address 9 to
 * 39, a path what it is), and at least MIN_CHARS so that one long path always fits. Long paths in
 * numbers (a head may be 16 KiB) grow it, doubling, up to MAX_CHARS (32 MB), and it is made small
 * again once a take has emptied it: a record is dropped for its text only past that, so a burst of
 * long URLs costs memory for a moment, as it did when the ring kept their strings, not log records.
 */
const CHARS_PER_SLOT = 48
const MIN_CHARS = 262_144
const MAX_CHARS = 16 * 1024 * 1024
/** Text shorter than this is copied by a loop, longer text by Buffer.write (see copyChars). */
const SHORT_TEXT = 48
/** Characters of text a take hands over at most (4 MB): every usual batch whole, 256 records of 8 KB paths. */
const TAKE_CHARS = 2 * 1024 * 1024
/**
 * Batch buffers kept for reuse, and the smallest one made. A take used to allocate its batch's
 * SharedArrayBuffer (some 1.5 MB for 8,192 records) and the garbage collector to free it: fresh pages
 * each time, some 400 page faults a batch on the thread serving requests, and the allocator's
 * scavenger busy returning them. The writer awaits one batch at a time, so two buffers go round.
 * The largest are kept, up to MAX_SPARE_BYTES each: the first spares were those of the small batches
 * of a quiet start (64 and 512 KB), and once they filled the list, every batch under load (1-2 MB)
 * got fresh memory again, 200-300 page faults a take.
 */
const SPARE_BUFFERS = 2
const MIN_BATCH_BYTES = 64 * 1024
const MAX_SPARE_BYTES = 8 * 1024 * 1024

/** `baseChars` and `maxChars` (tests): the characters of text cells held at first and at most. */
export function createRecordRing(capacity: number, baseChars = Math.max(capacity * CHARS_PER_SLOT, MIN_CHARS), maxChars = Math.max(MAX_CHARS, baseChars)): RecordRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`)
  if (!Number.isInteger(baseChars) || baseChars < 1 || !Number.isInteger(maxChars) || maxChars < baseChars) throw new RangeError(`ring character capacity must be a positive integer no larger than its maximum, got ${baseChars} and ${maxChars}`)
  const times = new Float64Array(capacity)
  const slotNumbers = new Float64Array(capacity * NUMBER_COLUMNS)
  // A slot's string cells as in RowBatch.stringCells.
  const cells = new Int32Array(capacity * STRING_COLUMNS)
  // The text cells' UTF-16 units, slot after slot, in cell order; slotChars[slot] says how many are a slot's.
  let charCapacity = baseChars
  let chars = new Uint16Array(charCapacity)
  const slotChars = new Int32Array(capacity)
  let charHead = 0
  let charCount = 0
  let charTail = 0
  let dictionary: string[] = []
  let indexes = new Map<string, number>()
  // Per column, the last value and its cell: most records repeat their predecessor's node, backend, outcome.
  const lastValue: (string | null)[] = new Array(STRING_COLUMNS).fill(null)
  const lastCell = new Int32Array(STRING_COLUMNS)
  let head = 0
  let size = 0
  let dropped = 0
  // Largest first.
  const spareBuffers: SharedArrayBuffer[] = []
  /** A buffer of at least `bytes`: the smallest spare that fits, or a new one (a power of two, so that it fits the batches that come after). */
  const batchBuffer = (bytes: number) => {
    const fits = spareBuffers.findLastIndex((buffer) => buffer.byteLength >= bytes)
    if (fits !== -1) return spareBuffers.splice(fits, 1)[0]!
    return new SharedArrayBuffer(Math.max(MIN_BATCH_BYTES, 2 ** Math.ceil(Math.log2(bytes))))
  }

  // The characters the record being pushed has copied so far.
  let pushedChars = 0
  // Buffer.write copies a string's UTF-16 units natively: a JS loop over charCodeAt took 22 µs for an
  // 8,000-character path (1.2 µs this way). But the call costs some 150 ns whatever the length, and
  // the loop some 3 ns a character: a request id or an address (under SHORT_TEXT) goes by the loop.
  let charView = Buffer.from(chars.buffer)
  const copyChars = (value: string) => {
    const length = value.length
    const at = charTail
    if (length < SHORT_TEXT && at + length <= charCapacity) {
      const units = chars
      for (let i = 0; i < length; i++) units[at + i] = value.charCodeAt(i)
    } else {
      const first = Math.min(length, charCapacity - at)
      charView.write(first === length ? value : value.slice(0, first), at * 2, first * 2, 'utf16le')
      if (first < length) charView.write(value.slice(first), 0, (length - first) * 2, 'utf16le')
    }
    charTail = (at + length) % charCapacity
    pushedChars += length
    return length
  }
  const text = (cell: number, value: string | null) => {
    cells[cell] = value === null ? NULL_CELL : copyChars(value)
  }
  const repeating = (cell: number, column: number, value: string | null) => {
    if (value === null) cells[cell] = NULL_CELL
    else if (value === lastValue[column]) cells[cell] = lastCell[column]!
    else {
      let index = indexes.get(value)
      if (index === undefined) {
        if (dictionary.length === DICTIONARY_MAX) {
          cells[cell] = copyChars(value)
          return
        }
        index = dictionary.push(value) - 1
        indexes.set(value, index)
      }
      lastValue[column] = value
      cells[cell] = lastCell[column] = dictionaryCell(index)
    }
  }
  /** Characters the record's text cells can take at most (every repeating value, if the dictionary is full). */
  const textLength = (record: RequestRecord) => {
    let length = record.request_id.length + record.path.length + record.client_ip.length
    if (dictionary.length === DICTIONARY_MAX) {
      for (const value of [record.node, record.scheme, record.host, record.proxy, record.method, record.user_agent, record.user, record.client_id, record.route_id, record.backend, record.outcome, record.backend_error]) length += value?.length ?? 0
    }
    return length
  }

  /** A ring of `next` characters holding the same ones, oldest first from 0. */
  const resize = (next: number) => {
    const resized = new Uint16Array(next)
    const firstRun = Math.min(charCount, charCapacity - charHead)
    resized.set(chars.subarray(charHead, charHead + firstRun))
    resized.set(chars.subarray(0, charCount - firstRun), firstRun)
    chars = resized
    charView = Buffer.from(chars.buffer)
    charCapacity = next
    charHead = 0
    charTail = charCount === next ? 0 : charCount
  }
  /** Whether `length` more characters fit, growing the ring (up to maxChars) if they would not. */
  const hasRoomFor = (length: number) => {
    const needed = charCount + length
    if (needed <= charCapacity) return true
    if (needed > maxChars) return false
    let next = charCapacity * 2
    while (next < needed) next *= 2
    resize(Math.min(next, maxChars))
    return true
  }

  return {
    push(record) {
      if (size === capacity || !hasRoomFor(textLength(record))) {
        dropped++
        return false
      }
      let slot = head + size
      if (slot >= capacity) slot -= capacity
      times[slot] = record.time
      const n = slot * NUMBER_COLUMNS
      slotNumbers[n] = record.status
      slotNumbers[n + 1] = record.duration_ms
      slotNumbers[n + 2] = record.bytes_in
      slotNumbers[n + 3] = record.bytes_out
      // In STRING_FIELDS' order (record-row.ts).
      const s = slot * STRING_COLUMNS
      pushedChars = 0
      text(s, record.request_id)
      repeating(s + 1, 1, record.node)
      repeating(s + 2, 2, record.scheme)
      repeating(s + 3, 3, record.host)
      repeating(s + 4, 4, record.proxy)
      repeating(s + 5, 5, record.method)
      text(s + 6, record.path)
      text(s + 7, record.client_ip)
      repeating(s + 8, 8, record.user_agent)
      repeating(s + 9, 9, record.user)
      repeating(s + 10, 10, record.client_id)
      repeating(s + 11, 11, record.route_id)
      repeating(s + 12, 12, record.backend)
      repeating(s + 13, 13, record.outcome)
      repeating(s + 14, 14, record.backend_error)
      slotChars[slot] = pushedChars
      charCount += pushedChars
      size++
      return true
    },
    take(max) {
      // Up to max records, and no more than TAKE_CHARS of text unless the first record alone has more:
      // a batch of long paths is written in pieces rather than copied whole (8,192 × 8 KB is 128 MB).
      let count = 0
      let textUnits = 0
      for (let slot = head; count < Math.min(max, size); count++, slot = slot + 1 === capacity ? 0 : slot + 1) {
        if (count > 0 && textUnits + slotChars[slot]! > TAKE_CHARS) break
        textUnits += slotChars[slot]!
      }
      // The batch's arrays share one SharedArrayBuffer: the store's writer thread (log-append-thread.ts)
      // reads them where they are, where posting ordinary arrays copied them, at some 0.1 µs a record.
      // It may be larger than the batch (a recycled one): the views say where each array ends.
      const numbersAt = count * 8
      const cellsAt = numbersAt + count * NUMBER_COLUMNS * 8
      const charsAt = cellsAt + count * STRING_COLUMNS * 4
      const shared = batchBuffer(charsAt + textUnits * 2)
      const timesMs = new Float64Array(shared, 0, count)
      const numbers = new Float64Array(shared, numbersAt, count * NUMBER_COLUMNS)
      const stringCells = new Int32Array(shared, cellsAt, count * STRING_COLUMNS)
      const batchChars = new Uint16Array(shared, charsAt, textUnits)
      // At most two runs of slots (and of characters): to the end of the ring, then from its start.
      let taken = 0
      while (taken < count) {
        const run = Math.min(count - taken, capacity - head)
        timesMs.set(times.subarray(head, head + run), taken)
        numbers.set(slotNumbers.subarray(head * NUMBER_COLUMNS, (head + run) * NUMBER_COLUMNS), taken * NUMBER_COLUMNS)
        stringCells.set(cells.subarray(head * STRING_COLUMNS, (head + run) * STRING_COLUMNS), taken * STRING_COLUMNS)
        taken += run
        head = (head + run) % capacity
      }
      const firstRun = Math.min(textUnits, charCapacity - charHead)
      batchChars.set(chars.subarray(charHead, charHead + firstRun))
      batchChars.set(chars.subarray(0, textUnits - firstRun), firstRun)
      charHead = (charHead + textUnits) % charCapacity
      charCount -= textUnits
      size -= count
      // Grown for a burst of long paths and now empty: back to the usual size.
      if (size === 0 && charCapacity > baseChars) resize(baseChars)
      const batch: RowBatch = { count, timesMs, numberColumns: NUMBER_COLUMNS, numbers, stringColumns: STRING_COLUMNS, stringCells, textUnits: batchChars, dictionary }
      // No slot refers to the dictionary any more: start a new one (the batch keeps the old one).
      if (size === 0 && dictionary.length > DICTIONARY_RESET) {
        dictionary = []
        indexes = new Map()
        lastValue.fill(null)
      }
      return batch
    },
    recycle(batch) {
      const buffer = batch.timesMs.buffer
      if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength > MAX_SPARE_BYTES || spareBuffers.includes(buffer)) return
      spareBuffers.push(buffer)
      spareBuffers.sort((a, b) => b.byteLength - a.byteLength)
      spareBuffers.length = Math.min(spareBuffers.length, SPARE_BUFFERS)
    },
    get size() {
      return size
    },
    get isTextHalfFull() {
      return charCount * 2 >= charCapacity
    },
    capacity,
    get dropped() {
      return dropped
    },
  }
}
