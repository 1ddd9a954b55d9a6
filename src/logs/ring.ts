/**
 * @module A fixed-size FIFO of request records between the data plane and the store writer, kept as
 * columns (record-row.ts): push copies a record's fields into preallocated slots, so the record object
 * is garbage as soon as the request is done, and take hands the writer a RowBatch the store writes as
 * it is. push is O(1), never throws and never waits: when the ring is full the new record is dropped
 * and counted, so back-pressure costs a record, never a request.
 *
 * The fields whose values repeat (node, host, method, backend, outcome, user agent…) are kept as
 * numbers: each distinct value is given an index in the ring's dictionary the first time it is seen,
 * and a slot holds that index. Only the request id, path and client address are kept as strings. So
 * take copies numbers and joins three strings a record (a batch: typed arrays, one text and the
 * dictionary), where joining or cloning fifteen cost more than the rest of the log on this thread.
 * The dictionary holds at most DICTIONARY_MAX values (a value seen after that is kept as a string)
 * and starts again when a take empties the ring past DICTIONARY_RESET values, so values no longer
 * seen do not stay forever.
 */
import { dictionaryCell, NULL_CELL, type RowBatch } from '../store/index.ts'
import type { RequestRecord } from './record.ts'
import { NUMBER_COLUMNS, STRING_COLUMNS } from './record-row.ts'

export interface RecordRing {
  /** Adds a record; returns false (and counts a drop) when the ring is full. */
  push(record: RequestRecord): boolean
  /** Removes up to max records, oldest first, as rows (record-row.ts). */
  take(max: number): RowBatch
  readonly size: number
  readonly capacity: number
  /** Records refused because the ring was full, since it was made. */
  readonly dropped: number
}

/** The string fields kept as strings (request_id, path, client_ip), in STRING_FIELDS' order. */
const TEXT_COLUMNS = [0, 6, 7]
const DICTIONARY_MAX = 4_096
const DICTIONARY_RESET = 1_024

export function createRecordRing(capacity: number): RecordRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`)
  const times = new Float64Array(capacity)
  const slotNumbers = new Float64Array(capacity * NUMBER_COLUMNS)
  // A slot's string cells as in RowBatch.stringCells. The strings of its TEXT_COLUMNS are in texts
  // (TEXT_COLUMNS.length a slot); a repeating field's value kept as a string (the dictionary was full)
  // is in overflow, by its cell's index.
  const cells = new Int32Array(capacity * STRING_COLUMNS)
  const texts: (string | null)[] = new Array(capacity * TEXT_COLUMNS.length).fill(null)
  const overflow = new Map<number, string>()
  let dictionary: string[] = []
  let indexes = new Map<string, number>()
  // Per column, the last value and its cell: most records repeat their predecessor's node, backend, outcome.
  const lastValue: (string | null)[] = new Array(STRING_COLUMNS).fill(null)
  const lastCell = new Int32Array(STRING_COLUMNS)
  let head = 0
  let size = 0
  let dropped = 0

  const text = (cell: number, textAt: number, value: string | null) => {
    cells[cell] = value === null ? NULL_CELL : value.length
    texts[textAt] = value
  }
  const repeating = (cell: number, column: number, value: string | null) => {
    if (value === null) cells[cell] = NULL_CELL
    else if (value === lastValue[column]) cells[cell] = lastCell[column]!
    else {
      let index = indexes.get(value)
      if (index === undefined) {
        if (dictionary.length === DICTIONARY_MAX) {
          cells[cell] = value.length
          overflow.set(cell, value)
          return
        }
        index = dictionary.push(value) - 1
        indexes.set(value, index)
      }
      lastValue[column] = value
      cells[cell] = lastCell[column] = dictionaryCell(index)
    }
  }

  /** The strings of slots' text cells in cell order (TEXT_COLUMNS are in that order), freed. */
  const takeTexts = (from: number, to: number, parts: string[]) => {
    for (let i = from; i < to; i++) {
      const value = texts[i]!
      if (value === null) continue
      parts.push(value)
      // Let the string be collected once it is written, not when the slot is reused.
      texts[i] = null
    }
  }
  /** The same for slots with cells [from, to) when some repeating field is kept as a string. */
  const takeAllTexts = (from: number, to: number, parts: string[]) => {
    for (let i = from; i < to; i++) {
      if (cells[i]! < 0) continue
      const column = i % STRING_COLUMNS
      const textAt = TEXT_COLUMNS.indexOf(column)
      if (textAt === -1) {
        parts.push(overflow.get(i)!)
        overflow.delete(i)
      } else {
        const at = ((i - column) / STRING_COLUMNS) * TEXT_COLUMNS.length + textAt
        parts.push(texts[at]!)
        texts[at] = null
      }
    }
  }

  return {
    push(record) {
      if (size === capacity) {
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
      const t = slot * TEXT_COLUMNS.length
      text(s, t, record.request_id)
      repeating(s + 1, 1, record.node)
      repeating(s + 2, 2, record.scheme)
      repeating(s + 3, 3, record.host)
      repeating(s + 4, 4, record.proxy)
      repeating(s + 5, 5, record.method)
      text(s + 6, t + 1, record.path)
      text(s + 7, t + 2, record.client_ip)
      repeating(s + 8, 8, record.user_agent)
      repeating(s + 9, 9, record.user)
      repeating(s + 10, 10, record.client_id)
      repeating(s + 11, 11, record.route_id)
      repeating(s + 12, 12, record.backend)
      repeating(s + 13, 13, record.outcome)
      repeating(s + 14, 14, record.backend_error)
      size++
      return true
    },
    take(max) {
      const count = Math.min(max, size)
      // The batch's arrays share one SharedArrayBuffer: the store's writer thread (log-append-thread.ts)
      // reads them where they are, where posting three ordinary arrays copied them, at some 0.1 µs a record.
      const shared = new SharedArrayBuffer(count * (8 + NUMBER_COLUMNS * 8 + STRING_COLUMNS * 4))
      const timesMs = new Float64Array(shared, 0, count)
      const numbers = new Float64Array(shared, count * 8, count * NUMBER_COLUMNS)
      const stringCells = new Int32Array(shared, count * 8 * (1 + NUMBER_COLUMNS), count * STRING_COLUMNS)
      const parts: string[] = []
      // At most two runs: from head to the end of the slots, then from their start.
      let taken = 0
      while (taken < count) {
        const run = Math.min(count - taken, capacity - head)
        timesMs.set(times.subarray(head, head + run), taken)
        numbers.set(slotNumbers.subarray(head * NUMBER_COLUMNS, (head + run) * NUMBER_COLUMNS), taken * NUMBER_COLUMNS)
        const from = head * STRING_COLUMNS
        const to = from + run * STRING_COLUMNS
        stringCells.set(cells.subarray(from, to), taken * STRING_COLUMNS)
        if (overflow.size === 0) takeTexts(head * TEXT_COLUMNS.length, (head + run) * TEXT_COLUMNS.length, parts)
        else takeAllTexts(from, to, parts)
        taken += run
        head = (head + run) % capacity
      }
      size -= count
      const batch = { count, timesMs, numberColumns: NUMBER_COLUMNS, numbers, stringColumns: STRING_COLUMNS, stringCells, text: parts.join(''), dictionary }
      // No slot refers to the dictionary any more: start a new one (the batch keeps the old one).
      if (size === 0 && dictionary.length > DICTIONARY_RESET) {
        dictionary = []
        indexes = new Map()
        lastValue.fill(null)
      }
      return batch
    },
    get size() {
      return size
    },
    capacity,
    get dropped() {
      return dropped
    },
  }
}
