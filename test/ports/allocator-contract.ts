/**
 * @module The port allocator's behaviour, run against every Store adapter. Each test gets a fresh
 * backing store and opens several Store instances on it, so races between allocators are races
 * between processes (SQLite) or nodes (Redis), not between promises on one connection.
 */
import { describe, expect, test } from 'bun:test'
import { createPortAllocator, PortsExhaustedError, preferredPort, type PortRange } from '../../src/ports/index.ts'
import { keys, type Store } from '../../src/store/index.ts'
import { referencePreferredPort } from './fnv1a.ts'

export interface Backend {
  /** Another Store instance on this test's backing store; dispose() closes whatever is still open. */
  open(): Store
  dispose(): Promise<void>
}

/** Small ranges, so exhaustion and collisions are cheap to reach. */
const SMALL = { http: { first: 20_000, last: 20_199 }, https: { first: 20_200, last: 20_399 } }
const TINY = { http: { first: 21_000, last: 21_009 }, https: { first: 21_010, last: 21_019 } }

/** Every claim of a kind as {port: hostname}. */
async function claims(store: Store, kind: string): Promise<Record<number, string>> {
  const found: Record<number, string> = {}
  const prefix = keys.portClaims(kind)
  for (const key of await store.list(prefix)) found[Number(key.slice(prefix.length))] = (await store.get(key))!.value
  return found
}

/** The first `count` hostnames whose preferred port (by the reference hash) is `port`. */
function hostsPreferring(port: number, range: PortRange, count: number): string[] {
  const found: string[] = []
  for (let i = 0; found.length < count; i++) if (referencePreferredPort(`c${i}.example`, range) === port) found.push(`c${i}.example`)
  return found
}

/**
 * The same Store with every call held back a random number of event-loop turns (a few microtask
 * turns mostly, now and then a few macrotask turns), so concurrent allocations interleave their reads
 * and writes as they would over a network instead of in lockstep. No timers: nothing waits on a clock.
 */
function jittered(store: Store): Store {
  const turn = async () => {
    if (Math.random() < 0.2) {
      for (let n = 1 + Math.floor(Math.random() * 3); n > 0; n--) await new Promise<void>((resolve) => setImmediate(resolve))
    } else {
      for (let n = Math.floor(Math.random() * 4); n > 0; n--) await null
    }
  }
  const delay =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await turn()
      return method(...args)
    }
  return { ...store, get: delay(store.get), put: delay(store.put), del: delay(store.del), list: delay(store.list) }
}

export function allocatorContract(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`port allocator: ${name}`, () => {
    async function withBackend(work: (backend: Backend, a: Store, b: Store) => Promise<void>): Promise<void> {
      const backend = await makeBackend()
      try {
        await work(backend, jittered(backend.open()), jittered(backend.open()))
      } finally {
        await backend.dispose()
      }
    }

    test('a hostname keeps its ports across calls, case, allocator re-creation and restarts', () =>
      withBackend(async (backend, a, b) => {
        const before = createPortAllocator(a, SMALL)
        const first = await before.portFor('one.example', 'http')
        // On an empty store nothing collides, so the hostname gets its preferred port.
        expect(first).toBe(preferredPort('one.example', SMALL.http))
        const assigned = {
          one: { http: first, https: await before.portFor('one.example', 'https') },
          two: { http: await before.portFor('two.example', 'http'), https: await before.portFor('two.example', 'https') },
        }
        expect(await before.portFor('ONE.Example', 'http')).toBe(first)
        await a.close()
        // A new process (or node) with a new Store instance on the same data.
        const restarted = backend.open()
        for (const allocator of [createPortAllocator(restarted, SMALL), createPortAllocator(b, SMALL)]) {
          expect(await allocator.portFor('one.example', 'http')).toBe(assigned.one.http)
          expect(await allocator.portFor('one.example', 'https')).toBe(assigned.one.https)
          expect(await allocator.portFor('two.example', 'http')).toBe(assigned.two.http)
          expect(await allocator.portFor('two.example', 'https')).toBe(assigned.two.https)
        }
        expect(await createPortAllocator(b, SMALL).list()).toEqual([
          { hostname: 'one.example', ...assigned.one },
          { hostname: 'two.example', ...assigned.two },
        ])
        expect(Object.keys(await claims(b, 'http'))).toHaveLength(2)
        expect(Object.keys(await claims(b, 'https'))).toHaveLength(2)
      }))

    test('200 hostnames at once on 200 ports get 200 distinct ports in range; a 201st gets PortsExhaustedError', () =>
      withBackend(async (_backend, a, b) => {
        const allocators = [createPortAllocator(a, SMALL), createPortAllocator(b, SMALL)]
        const hosts = Array.from({ length: 200 }, (_, i) => `host-${i}.example`)
        const ports = await Promise.all(hosts.map((host, i) => allocators[i % 2]!.portFor(host, 'http')))
        expect(new Set(ports).size).toBe(200)
        for (const port of ports) expect(port >= SMALL.http.first && port <= SMALL.http.last).toBe(true)
        // Each claim names the hostname that was given its port.
        expect(await claims(a, 'http')).toEqual(Object.fromEntries(ports.map((port, i) => [port, hosts[i]!])))
        const error = await allocators[0]!.portFor('one-too-many.example', 'http').catch((e: unknown) => e)
        expect(error).toBeInstanceOf(PortsExhaustedError)
        expect((error as PortsExhaustedError).kind).toBe('http')
        // A full http range leaves the https range alone, and the failed call left nothing behind.
        expect(await allocators[1]!.portFor('one-too-many.example', 'https')).toBeGreaterThanOrEqual(SMALL.https.first)
        expect((await allocators[0]!.list()).find((entry) => entry.hostname === 'one-too-many.example')).toEqual({
          hostname: 'one-too-many.example',
          https: expect.any(Number),
        })
        expect(Object.keys(await claims(a, 'http'))).toHaveLength(200)
      }))

    test('hostnames that all prefer one port, asked at once through two stores, still get distinct ports', () =>
      withBackend(async (_backend, a, b) => {
        const range = { first: 22_000, last: 22_039 }
        const ranges = { http: range, https: { first: 22_040, last: 22_079 } }
        const allocators = [createPortAllocator(a, ranges), createPortAllocator(b, ranges)]
        const hosts = hostsPreferring(22_007, range, 40)
        const ports = await Promise.all(hosts.map((host, i) => allocators[i % 2]!.portFor(host, 'http')))
        expect(new Set(ports).size).toBe(40)
        expect(await claims(a, 'http')).toEqual(Object.fromEntries(ports.map((port, i) => [port, hosts[i]!])))
        expect(await allocators[0]!.list()).toEqual(hosts.map((hostname, i) => ({ hostname, http: ports[i]! })).sort((x, y) => (x.hostname < y.hostname ? -1 : 1)))
      }))

    test('the same hostname asked 50 times at once through two stores gets one port and one claim', () =>
      withBackend(async (_backend, a, b) => {
        const allocators = [createPortAllocator(a, SMALL), createPortAllocator(b, SMALL)]
        const ports = await Promise.all(Array.from({ length: 50 }, (_, i) => allocators[i % 2]!.portFor('busy.example', 'http')))
        expect(new Set(ports).size).toBe(1)
        expect(await claims(a, 'http')).toEqual({ [ports[0]!]: 'busy.example' })
      }))

    test('30 hostnames asking for http and https at once each end with one port of each kind in one assignment', () =>
      withBackend(async (_backend, a, b) => {
        const allocators = [createPortAllocator(a, SMALL), createPortAllocator(b, SMALL)]
        const hosts = Array.from({ length: 30 }, (_, i) => `both-${i}.example`)
        // Every hostname gets three http and three https calls, spread over both stores.
        const calls = hosts.flatMap((host) => (['http', 'https'] as const).flatMap((kind) => [0, 1, 2].map((n) => ({ host, kind, n }))))
        const ports = await Promise.all(calls.map(({ host, kind, n }) => allocators[n % 2]!.portFor(host, kind)))
        const expected = hosts.map((hostname) => {
          const of = (kind: string) => [...new Set(ports.filter((_, i) => calls[i]!.host === hostname && calls[i]!.kind === kind))]
          return { hostname, http: of('http'), https: of('https') }
        })
        for (const entry of expected) expect([entry.http.length, entry.https.length]).toEqual([1, 1])
        const assigned = expected.map(({ hostname, http, https }) => ({ hostname, http: http[0]!, https: https[0]! }))
        expect(await allocators[0]!.list()).toEqual(assigned.sort((x, y) => (x.hostname < y.hostname ? -1 : 1)))
        expect(await claims(b, 'http')).toEqual(Object.fromEntries(assigned.map((entry) => [entry.http, entry.hostname])))
        expect(await claims(b, 'https')).toEqual(Object.fromEntries(assigned.map((entry) => [entry.https, entry.hostname])))
      }))

    test('two hostnames with the same preferred port get different ports (probing wraps around the range)', () =>
      withBackend(async (_backend, a, b) => {
        const [first, second] = hostsPreferring(TINY.http.last, TINY.http, 2)
        expect(await createPortAllocator(a, TINY).portFor(first!, 'http')).toBe(TINY.http.last)
        expect(await createPortAllocator(b, TINY).portFor(second!, 'http')).toBe(TINY.http.first)
        expect(await createPortAllocator(a, TINY).portFor(second!, 'http')).toBe(TINY.http.first)
      }))

    test('release frees both ports for reuse and removes the assignment; releasing again is harmless', () =>
      withBackend(async (_backend, a, b) => {
        const allocator = createPortAllocator(a, TINY)
        const hosts = Array.from({ length: 10 }, (_, i) => `full-${i}.example`)
        const ports = await Promise.all(hosts.map((host) => allocator.portFor(host, 'http')))
        await allocator.portFor(hosts[3]!, 'https')
        expect(await allocator.portFor('waiting.example', 'http').catch((e: unknown) => e)).toBeInstanceOf(PortsExhaustedError)
        await createPortAllocator(b, TINY).release(hosts[3]!.toUpperCase())
        expect((await allocator.list()).map((entry) => entry.hostname)).not.toContain(hosts[3]!)
        expect(await claims(a, 'https')).toEqual({})
        expect(await allocator.portFor('waiting.example', 'http')).toBe(ports[3]!)
        await allocator.release(hosts[3]!)
        await allocator.release('never-seen.example')
        expect(await claims(b, 'http')).toEqual(Object.fromEntries(ports.map((port, i) => [port, i === 3 ? 'waiting.example' : hosts[i]!])))
      }))

    test('release leaves alone a claim that no longer names the hostname', () =>
      withBackend(async (_backend, a) => {
        const allocator = createPortAllocator(a, TINY)
        const port = await allocator.portFor('old.example', 'http')
        // Simulates a claim freed and re-taken behind this assignment's back.
        await a.put(keys.portClaim('http', port), 'new.example')
        await allocator.release('old.example')
        expect(await claims(a, 'http')).toEqual({ [port]: 'new.example' })
      }))

    test('a leftover claim naming the same hostname (crash before the assignment) is adopted, not duplicated', () =>
      withBackend(async (_backend, a, b) => {
        const preferred = preferredPort('crashed.example', SMALL.http)
        const version = (await a.put(keys.portClaim('http', preferred), 'crashed.example', { ifAbsent: true }))!
        expect(await createPortAllocator(b, SMALL).portFor('crashed.example', 'http')).toBe(preferred)
        expect(await claims(a, 'http')).toEqual({ [preferred]: 'crashed.example' })
        expect((await a.get(keys.portClaim('http', preferred)))!.version).toBe(version)
      }))

    test('a claim another hostname took behind an assignment is noticed and the hostname moves', () =>
      withBackend(async (_backend, a, b) => {
        const port = await createPortAllocator(a, TINY).portFor('victim.example', 'http')
        await a.del(keys.portClaim('http', port))
        await a.put(keys.portClaim('http', port), 'thief.example')
        const moved = await createPortAllocator(b, TINY).portFor('victim.example', 'http')
        expect(moved).not.toBe(port)
        expect(await claims(a, 'http')).toEqual({ [port]: 'thief.example', [moved]: 'victim.example' })
      }))

    test('an assignment outside a changed range is replaced, and its old claim freed', () =>
      withBackend(async (_backend, a, b) => {
        const old = await createPortAllocator(a, SMALL).portFor('moving.example', 'http')
        const moved = await createPortAllocator(b, TINY).portFor('moving.example', 'http')
        expect(moved).toBe(preferredPort('moving.example', TINY.http))
        expect(await claims(a, 'http')).toEqual({ [moved]: 'moving.example' })
        expect(old).not.toBe(moved)
      }))
  })
}
