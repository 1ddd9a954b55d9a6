import { describe, expect, test } from 'bun:test'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { createPortAllocator, DEFAULT_PORT_RANGES, preferredPort } from '../../src/ports/index.ts'
import { referenceFnv1a32, referencePreferredPort } from './fnv1a.ts'

describe('preferredPort', () => {
  test('the reference FNV-1a matches the published 32-bit test vectors', () => {
    // draft-eastlake-fnv test vectors for FNV-1a 32.
    expect(referenceFnv1a32('')).toBe(0x811c9dc5)
    expect(referenceFnv1a32('a')).toBe(0xe40c292c)
    expect(referenceFnv1a32('foobar')).toBe(0xbf9cf968)
  })

  test('is fixed across processes and versions: hard-coded values for the default ranges', () => {
    // Computed once with the reference implementation; a change here moves every hostname's port.
    expect(preferredPort('example.com', DEFAULT_PORT_RANGES.http)).toBe(12_678)
    expect(preferredPort('API.Example.com', DEFAULT_PORT_RANGES.https)).toBe(13_540)
    expect(preferredPort('localhost', DEFAULT_PORT_RANGES.http)).toBe(12_618)
    expect(preferredPort('bücher.example', DEFAULT_PORT_RANGES.http)).toBe(12_722)
  })

  test('ignores case and agrees with the reference for many hostnames and range sizes', () => {
    for (let i = 0; i < 500; i++) {
      const hostname = `Host-${i}.Example.ORG`
      const range = { first: 20_000 + i, last: 20_000 + i + (i % 37) }
      expect(preferredPort(hostname, range)).toBe(referencePreferredPort(hostname, range))
      expect(preferredPort(hostname, range)).toBe(preferredPort(hostname.toLowerCase(), range))
    }
  })

  test('a one-port range always prefers its only port', () => {
    expect(preferredPort('anything.example', { first: 15_000, last: 15_000 })).toBe(15_000)
  })
})

describe('port ranges', () => {
  test('the defaults are 12000-12999 for http and 13000-13999 for https', () => {
    expect(DEFAULT_PORT_RANGES).toEqual({ http: { first: 12_000, last: 12_999 }, https: { first: 13_000, last: 13_999 } })
  })

  test('createPortAllocator rejects empty, non-port and overlapping ranges at build time', async () => {
    const store = createEmbeddedStore({ dataDir: ':memory:' })
    const https = { first: 13_000, last: 13_999 }
    const bad = [
      { http: { first: 12_999, last: 12_000 }, https },
      { http: { first: 0, last: 10 }, https },
      { http: { first: 65_000, last: 65_536 }, https },
      { http: { first: 12_000.5, last: 12_999 }, https },
      { http: { first: 12_000, last: 13_000 }, https },
      { http: https, https },
    ]
    for (const ranges of bad) expect(() => createPortAllocator(store, ranges)).toThrow(RangeError)
    expect(() => createPortAllocator(store, DEFAULT_PORT_RANGES)).not.toThrow()
    await store.close()
  })
})
