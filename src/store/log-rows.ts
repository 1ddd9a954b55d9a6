/**
 * @module Log entries appended as rows (Store.appendRows, RowBatch): their text, and the embedded
 * store's columnar chunk for them. A row's data is the JSON array of its cells; the embedded store
 * does not make that text when it writes (a string per entry cost more than the rest of the write),
 * it keeps the cells of up to ROWS_CHUNK_ENTRIES rows in one binary chunk and makes the text when an entry
 * is read. Strings are kept as UTF-8 text: a dictionary entry of the batch (a host, a backend, a user
 * agent: values that repeat on every row) once per chunk, a text cell (a request id, a path, an
 * address) as it comes. The chunk is stored compressed (compressRows), so a string is not found in the
 * file as it was given: grep the decompressed chunks, or ask /logs.
 *
 * The chunk (little-endian): a header of six u32 (ROWS_MAGIC, rows, number columns, string columns,
 * distinct strings, text bytes), the numbers as f64 row after row, each string cell as u16 (0 = null,
 * k = the k-th distinct string), padding to 4 bytes, each distinct string's length in UTF-16 units
 * as u32, then the distinct strings' UTF-8 text, concatenated.
 */
import { dictionaryCell, dictionaryIndex, NULL_CELL, type RowBatch } from './store.ts'

/** "ROW1": a chunk of rows, first version. */
export const ROWS_MAGIC = 0x31574f52
/** A zstd frame's first bytes (RFC 8878 §3.1.1: the magic number 0xFD2FB528, little-endian). */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const
/** zstd's fastest level: the chunk shrinks 5-6 times for 0.15 µs a row (bench/log-cost.ts). */
const ZSTD_LEVEL = 1
const HEADER_BYTES = 24
/** Distinct strings a chunk can hold: u16 references, 0 being null. */
const MAX_DISTINCT = 0xffff
const encoder = new TextEncoder()

/** The batch's text cells concatenated, as one string (Buffer's decoder: TextDecoder's utf-16le took 6-8 times as long). */
export function batchText(batch: RowBatch): string {
  const units = batch.textUnits
  return Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le')
}

/** The string cells of a batch as strings (null for a null cell), row after row. */
export function stringCellsOf(batch: RowBatch): (string | null)[] {
  const { stringCells, dictionary } = batch
  const text = batchText(batch)
  const strings = new Array<string | null>(stringCells.length)
  let at = 0
  for (let i = 0; i < stringCells.length; i++) {
    const cell = stringCells[i]!
    if (cell >= 0) strings[i] = text.slice(at, (at += cell))
    else strings[i] = cell === NULL_CELL ? null : dictionary[dictionaryIndex(cell)]!
  }
  return strings
}

/**
 * A batch from plain cells: count × stringColumns string cells, row after row (tests, tools); the
 * strings in `repeated` go in its dictionary.
 */
export function rowBatchOf(timesMs: readonly number[], numberColumns: number, numbers: readonly number[], stringColumns: number, strings: readonly (string | null)[], repeated: readonly string[] = []): RowBatch {
  const texts: string[] = []
  const stringCells = Int32Array.from(strings, (value) => {
    if (value === null) return NULL_CELL
    const k = repeated.indexOf(value)
    if (k !== -1) return dictionaryCell(k)
    texts.push(value)
    return value.length
  })
  const text = texts.join('')
  const textUnits = new Uint16Array(text.length)
  for (let i = 0; i < text.length; i++) textUnits[i] = text.charCodeAt(i)
  return { count: timesMs.length, timesMs: Float64Array.from(timesMs), numberColumns, numbers: Float64Array.from(numbers), stringColumns, stringCells, textUnits, dictionary: repeated }
}

/** The entry text of every row (what every store returns as its data), in order. */
export function rowTexts(batch: RowBatch): string[] {
  const strings = stringCellsOf(batch)
  const { numberColumns, stringColumns } = batch
  return Array.from({ length: batch.count }, (_, row) => {
    const cells: (number | string | null)[] = []
    for (let c = 0; c < numberColumns; c++) cells.push(batch.numbers[row * numberColumns + c]!)
    for (let c = 0; c < stringColumns; c++) cells.push(strings[row * stringColumns + c]!)
    return JSON.stringify(cells)
  })
}

/**
 * Encodes rows [start, end) of a batch as one chunk. text is batchText(batch), textAt where their first
 * text cell starts in it; textEnd, where the next row's does (chunks are encoded in order). The chunk's distinct
 * strings are its text cells, in order (so their UTF-8 is one piece of the batch's text, encoded at
 * once), then the dictionary entries its cells name, each once.
 *
 * The chunk is a view of memory this module reuses: it is valid until the next call (packRows
 * compresses it at once). A chunk is some 120 KB; allocating it, its parts and its text afresh for
 * each one made the writer thread fault in new pages and the allocator's scavenger hand them back,
 * some 1.5 MB a batch.
 */
export function encodeRows(batch: RowBatch, text: string, start: number, end: number, textAt: number): { chunk: Uint8Array; textEnd: number } {
  const rows = end - start
  const { numberColumns, stringColumns, stringCells, dictionary } = batch
  const from = start * stringColumns
  const to = end * stringColumns
  let textCells = 0
  let textUnits = 0
  for (let i = from; i < to; i++) {
    const cell = stringCells[i]!
    if (cell >= 0) {
      textCells++
      textUnits += cell
    }
  }
  // A dictionary entry's reference in this chunk (0: not named yet), and the entries named.
  const dictionaryRefs = new Uint16Array(dictionary.length)
  const named: string[] = []
  let namedUnits = 0
  for (let i = from; i < to; i++) {
    const cell = stringCells[i]!
    if (cell >= 0 || cell === NULL_CELL) continue
    const k = dictionaryIndex(cell)
    if (dictionaryRefs[k] === 0) {
      dictionaryRefs[k] = textCells + named.push(dictionary[k]!)
      namedUnits += dictionary[k]!.length
    }
  }
  const distinctCount = textCells + named.length
  if (distinctCount > MAX_DISTINCT) throw new RangeError('too many distinct strings for one chunk')
  const numbersAt = HEADER_BYTES
  const refsAt = numbersAt + rows * numberColumns * 8
  const lengthsAt = align4(refsAt + rows * stringColumns * 2)
  const textStart = lengthsAt + distinctCount * 4
  // UTF-8 takes at most 3 bytes a UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
  const buffer = scratchOf(textStart + (textUnits + namedUnits) * 3)
  const refs = new Uint16Array(buffer.buffer, refsAt, rows * stringColumns)
  const lengths = new Uint32Array(buffer.buffer, lengthsAt, distinctCount)
  let texts = 0
  for (let i = from; i < to; i++) {
    const cell = stringCells[i]!
    if (cell >= 0) {
      lengths[texts] = cell
      refs[i - from] = ++texts
    } else refs[i - from] = cell === NULL_CELL ? 0 : dictionaryRefs[dictionaryIndex(cell)]!
  }
  for (let i = 0; i < named.length; i++) lengths[textCells + i] = named[i]!.length
  new Float64Array(buffer.buffer, numbersAt, rows * numberColumns).set(batch.numbers.subarray(start * numberColumns, end * numberColumns))
  // The alignment's padding, as zeros: the chunk is compressed, and stale bytes would be stored.
  buffer.fill(0, refsAt + refs.byteLength, lengthsAt)
  let textBytes = encoder.encodeInto(text.slice(textAt, textAt + textUnits), buffer.subarray(textStart)).written
  for (const value of named) textBytes += encoder.encodeInto(value, buffer.subarray(textStart + textBytes)).written
  new Uint32Array(buffer.buffer, 0, 6).set([ROWS_MAGIC, rows, numberColumns, stringColumns, distinctCount, textBytes])
  return { chunk: buffer.subarray(0, textStart + textBytes), textEnd: textAt + textUnits }
}

/** Chunk memory kept for reuse at most: what a usual chunk may need (some 190 KB) fits twice; one of long paths gets its own. */
const SCRATCH_MAX_BYTES = 512 * 1024
let scratch = new Uint8Array(0)
/** Memory for a chunk of `bytes`: the reused one, grown (by doubling) up to SCRATCH_MAX_BYTES, or a new one past that. */
function scratchOf(bytes: number): Uint8Array {
  if (bytes > SCRATCH_MAX_BYTES) return new Uint8Array(bytes)
  if (scratch.byteLength < bytes) scratch = new Uint8Array(Math.min(SCRATCH_MAX_BYTES, Math.max(bytes, scratch.byteLength * 2)))
  return scratch
}

/**
 * A chunk of rows as it is stored: a zstd frame of it. A log's rows repeat one another (hosts, paths,
 * addresses, request ids that share a prefix), so in bench/log-cost.ts a record took 21 bytes of the
 * file instead of 120, and the log writer thread handed write() 45 bytes a record instead of 354
 * (WAL frames and checkpoints, with LOG_PAGE_BYTES pages), for the same CPU: an eighth of the work for
 * the kernel's write path and the disk, which writing to ext4 costs the requests served beside it on
 * a small VM more than packing does (bench/README.md, "Fifth step").
 */
export function compressRows(chunk: Uint8Array): Uint8Array {
  return Bun.zstdCompressSync(chunk, { level: ZSTD_LEVEL })
}

const isZstdFrame = (bytes: Uint8Array) => bytes.length >= 4 && ZSTD_MAGIC.every((byte, i) => bytes[i] === byte)

/** A chunk of rows read back: the text of any of its rows. */
export interface DecodedRows {
  readonly rows: number
  rowText(row: number): string
}

/** Reads a chunk of rows as stored: compressed (compressRows), or as earlier versions wrote it. */
export function decodeRows(stored: Uint8Array): DecodedRows {
  const plain = isZstdFrame(stored) ? Bun.zstdDecompressSync(stored) : stored
  // Typed views need aligned offsets; a blob read back may start anywhere in its buffer.
  const chunk = plain.byteOffset % 8 === 0 ? plain : plain.slice()
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
