/**
 * @module HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007, "HyperLogLog: the analysis of a
 * near-optimal cardinality estimation algorithm"): distinct values counted in 2^precision bytes.
 * The default precision 14 (16 KiB) has a standard error of 1.04/√16384 ≈ 0.8 %. Small counts use
 * linear counting, as the paper's corrections prescribe.
 */

export interface HyperLogLog {
  add(value: string): void
  /** The estimated number of distinct values added. */
  count(): number
}

const TWO_POW_32 = 2 ** 32

export function createHyperLogLog(precision = 14): HyperLogLog {
  if (!Number.isInteger(precision) || precision < 4 || precision > 16) throw new RangeError(`precision must be 4-16, got ${precision}`)
  const m = 1 << precision
  const registers = new Uint8Array(m)
  const restBits = 32 - precision
  const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m)
  return {
    add(value) {
      const hash = hash32(value)
      const index = hash >>> restBits
      // The rank: the position of the first 1 bit in the remaining bits (restBits + 1 when all are 0).
      const rest = (hash << precision) >>> 0
      const rank = rest === 0 ? restBits + 1 : Math.clz32(rest) + 1
      if (rank > registers[index]!) registers[index] = rank
    },
    count() {
      let sum = 0
      let zeros = 0
      for (const register of registers) {
        sum += 2 ** -register
        if (register === 0) zeros++
      }
      const raw = (alpha * m * m) / sum
      // Small range correction: linear counting while registers are still empty.
      if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros))
      // Large range correction for a 32-bit hash.
      if (raw > TWO_POW_32 / 30) return Math.round(-TWO_POW_32 * Math.log(1 - raw / TWO_POW_32))
      return Math.round(raw)
    },
  }
}

/** FNV-1a over UTF-16 code units, then MurmurHash3's fmix32 finaliser so every input bit reaches every output bit. */
function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
