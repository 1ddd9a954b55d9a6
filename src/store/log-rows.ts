/**
 * @module Log entries appended as rows (Store.appendRows, RowBatch): their text, and the embedded
 * store's columnar chunk for them. A row's data is the JSON array of its cells; the embedded store
 * does not make that text when it writes (a string per entry cost more than the rest of the write),
 * it keeps the cells of up to ROWS_CHUNK_ENTRIES rows in one binary chunk and makes the text when an entry
 * is read. Strings are kept once per chunk (a host, a backend or a user agent repeats on every row),
 * as UTF-8 text, so a string written is found in the file as it was given. ("Once" as far as a
 * column's last few values go: see CACHED.)
 *
 * The chunk (little-endian): a header of six u32 (ROWS_MAGIC, rows, number columns, string columns,
 * distinct strings, text bytes), the numbers as f64 row after row, each string cell as u16 (0 = null,
 * k = the k-th distinct string), padding to 4 bytes, each distinct string's length in UTF-16 units
 * as u32, then the distinct strings' UTF-8 text, concatenated.
 */
import type { RowBatch } from './store.ts'

/** "ROW1": a chunk of rows, first version. */
export const ROWS_MAGIC = 0x31574f52
const HEADER_BYTES = 24
/** Distinct strings a chunk can hold: u16 references, 0 being null. */
const MAX_DISTINCT = 0xffff
/** Strings remembered per column while a chunk is encoded (a string seen longer ago is stored again). */
const CACHED = 4

/** A row's cells: numbers first, then strings (null for a null string). */
export function rowCells(batch: RowBatch, row: number): (number | string | null)[] {
  const cells: (number | string | null)[] = []
  for (let c = 0; c < batch.numberColumns; c++) cells.push(batch.numbers[row * batch.numberColumns + c]!)
  for (let c = 0; c < batch.stringColumns; c++) cells.push(batch.strings[row * batch.stringColumns + c] ?? null)
  return cells
}

/** The entry text of one row (what every store returns as its data). */
export function rowText(batch: RowBatch, row: number): string {
  return JSON.stringify(rowCells(batch, row))
}

/** Encodes rows [start, end) of a batch as one chunk. */
export function encodeRows(batch: RowBatch, start: number, end: number): Uint8Array {
  const rows = end - start
  const { numberColumns, stringColumns } = batch
  const refs = new Uint16Array(rows * stringColumns)
  const distinct: string[] = []
  // Each column remembers its last CACHED strings: a column's value usually repeats within a few
  // rows (one host, node, backend, user agent per client), and comparing a few strings costs less
  // than hashing every one into a Map (most of the time a batch took, for request ids that never repeat).
  const cached: (string | null)[] = new Array(stringColumns * CACHED).fill(null)
  const cachedRef = new Uint16Array(stringColumns * CACHED)
  const nextSlot = new Uint8Array(stringColumns)
  for (let r = 0; r < rows; r++) {
    const base = (start + r) * stringColumns
    for (let c = 0; c < stringColumns; c++) {
      const value = batch.strings[base + c] ?? null
      if (value === null) continue
      const slots = c * CACHED
      let ref = 0
      for (let k = slots; k < slots + CACHED; k++) {
        if (cached[k] === value) {
          ref = cachedRef[k]!
          break
        }
      }
      if (ref === 0) {
        if (distinct.length === MAX_DISTINCT) throw new RangeError('too many distinct strings for one chunk')
        distinct.push(value)
        ref = distinct.length
        const slot = slots + nextSlot[c]!
        cached[slot] = value
        cachedRef[slot] = ref
        nextSlot[c] = (nextSlot[c]! + 1) % CACHED
      }
      refs[r * stringColumns + c] = ref
    }
  }
  const text = new TextEncoder().encode(distinct.join(''))
  const numbersAt = HEADER_BYTES
  const refsAt = numbersAt + rows * numberColumns * 8
  const lengthsAt = align4(refsAt + refs.byteLength)
  const textAt = lengthsAt + distinct.length * 4
  const chunk = new Uint8Array(textAt + text.byteLength)
  new Uint32Array(chunk.buffer, 0, 6).set([ROWS_MAGIC, rows, numberColumns, stringColumns, distinct.length, text.byteLength])
  new Float64Array(chunk.buffer, numbersAt, rows * numberColumns).set(batch.numbers.subarray(start * numberColumns, end * numberColumns))
  new Uint8Array(chunk.buffer, refsAt, refs.byteLength).set(new Uint8Array(refs.buffer))
  const lengths = new Uint32Array(chunk.buffer, lengthsAt, distinct.length)
  for (let i = 0; i < distinct.length; i++) lengths[i] = distinct[i]!.length
  chunk.set(text, textAt)
  return chunk
}

/** A chunk of rows read back: the text of any of its rows. */
export interface DecodedRows {
  readonly rows: number
  rowText(row: number): string
}

export function decodeRows(stored: Uint8Array): DecodedRows {
  // Typed views need aligned offsets; a blob read back may start anywhere in its buffer.
  const chunk = stored.byteOffset % 8 === 0 ? stored : stored.slice()
  const header = new Uint32Array(chunk.buffer, chunk.byteOffset, 6)
  if (header[0] !== ROWS_MAGIC) throw new Error('not a chunk of rows')
  const [, rows, numberColumns, stringColumns, distinctCount, textBytes] = header as unknown as number[]
  const numbersAt = chunk.byteOffset + HEADER_BYTES
  const numbers = new Float64Array(chunk.buffer, numbersAt, rows! * numberColumns!)
  const refsAt = numbersAt + numbers.byteLength
  const refs = new Uint16Array(chunk.buffer, refsAt, rows! * stringColumns!)
  const lengthsAt = align4(refsAt - chunk.byteOffset + refs.byteLength) + chunk.byteOffset
  const lengths = new Uint32Array(chunk.buffer, lengthsAt, distinctCount!)
  const text = new TextDecoder().decode(new Uint8Array(chunk.buffer, lengthsAt + lengths.byteLength, textBytes!))
  const distinct: string[] = []
  let at = 0
  for (const length of lengths) {
    distinct.push(text.slice(at, at + length))
    at += length
  }
  return {
    rows: rows!,
    rowText(row) {
      const cells: (number | string | null)[] = []
      for (let c = 0; c < numberColumns!; c++) cells.push(numbers[row * numberColumns! + c]!)
      for (let c = 0; c < stringColumns!; c++) {
        const ref = refs[row * stringColumns! + c]!
        cells.push(ref === 0 ? null : distinct[ref - 1]!)
      }
      return JSON.stringify(cells)
    },
  }
}

const align4 = (offset: number) => (offset + 3) & ~3
