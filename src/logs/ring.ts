/**
 * @module A fixed-size FIFO of request records between the data plane and the store writer, kept as
 * columns (record-row.ts): push copies a record's fields into preallocated slots (typed arrays for
 * the numbers, one array for the strings), so the record object is garbage as soon as the request is
 * done, and take hands the writer a RowBatch the store writes as it is. push is O(1), allocates
 * nothing, never throws and never waits: when the ring is full the new record is dropped and counted,
 * so back-pressure costs a record, never a request.
 */
import type { RowBatch } from '../store/index.ts'
import type { RequestRecord } from './record.ts'
import { fillRow, NUMBER_COLUMNS, STRING_COLUMNS } from './record-row.ts'

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

export function createRecordRing(capacity: number): RecordRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`)
  const times = new Float64Array(capacity)
  const numbers = new Float64Array(capacity * NUMBER_COLUMNS)
  const strings: (string | null)[] = new Array(capacity * STRING_COLUMNS).fill(null)
  let head = 0
  let size = 0
  let dropped = 0
  return {
    push(record) {
      if (size === capacity) {
        dropped++
        return false
      }
      let slot = head + size
      if (slot >= capacity) slot -= capacity
      fillRow(record, slot, times, numbers, strings)
      size++
      return true
    },
    take(max) {
      const count = Math.min(max, size)
      const batch = {
        count,
        timesMs: new Float64Array(count),
        numberColumns: NUMBER_COLUMNS,
        numbers: new Float64Array(count * NUMBER_COLUMNS),
        stringColumns: STRING_COLUMNS,
        strings: new Array<string | null>(count * STRING_COLUMNS),
      }
      // At most two runs: from head to the end of the slots, then from their start.
      let taken = 0
      while (taken < count) {
        const run = Math.min(count - taken, capacity - head)
        batch.timesMs.set(times.subarray(head, head + run), taken)
        batch.numbers.set(numbers.subarray(head * NUMBER_COLUMNS, (head + run) * NUMBER_COLUMNS), taken * NUMBER_COLUMNS)
        const from = head * STRING_COLUMNS
        const to = taken * STRING_COLUMNS
        for (let i = 0; i < run * STRING_COLUMNS; i++) {
          batch.strings[to + i] = strings[from + i]!
          // Let the strings be collected now, not when the slot is reused.
          strings[from + i] = null
        }
        taken += run
        head = (head + run) % capacity
      }
      size -= count
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
