/**
 * @module An independent FNV-1a 32-bit for the tests: BigInt arithmetic over UTF-8 octets, written
 * from the spec rather than from src/ports, so the two implementations can check each other.
 * @see https://datatracker.ietf.org/doc/html/draft-eastlake-fnv#section-2
 */

const OFFSET_BASIS = 2_166_136_261n
const PRIME = 16_777_619n
const MODULUS = 2n ** 32n

export function referenceFnv1a32(text: string): number {
  let hash = OFFSET_BASIS
  for (const octet of Buffer.from(text, 'utf8')) hash = ((hash ^ BigInt(octet)) * PRIME) % MODULUS
  return Number(hash)
}

/** The port preferredPort must give: first + FNV-1a(lower-cased hostname) mod the range's size. */
export function referencePreferredPort(hostname: string, range: { first: number; last: number }): number {
  return range.first + (referenceFnv1a32(hostname.toLowerCase()) % (range.last - range.first + 1))
}
