/**
 * @module A fixed-size FIFO of request records between the data plane and the store writer. push is
 * O(1), allocates nothing, never throws and never waits: when the ring is full the new record is
 * dropped and counted, so back-pressure costs a record, never a request.
 */
import type { RequestRecord } from './record.ts'

export interface RecordRing {
  /** Adds a record; returns false (and counts a drop) when the ring is full. */
  push(record: RequestRecord): boolean
  /** Removes and returns up to max records, oldest first. */
  take(max: number): RequestRecord[]
  readonly size: number
  readonly capacity: number
  /** Records refused because the ring was full, since it was made. */
  readonly dropped: number
}

export function createRecordRing(capacity: number): RecordRing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`)
  const slots: (RequestRecord | undefined)[] = new Array(capacity)
  let head = 0
  let size = 0
  let dropped = 0
  return {
    push(record) {
      if (size === capacity) {
        dropped++
        return false
      }
      slots[(head + size) % capacity] = record
      size++
      return true
    },
    take(max) {
      const count = Math.min(max, size)
      const taken = new Array<RequestRecord>(count)
      for (let i = 0; i < count; i++) {
        taken[i] = slots[head]!
        // Let the record be collected now, not when the slot is reused.
        slots[head] = undefined
        head = (head + 1) % capacity
      }
      size -= count
      return taken
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
