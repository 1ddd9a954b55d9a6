/** DESIGN §5: typed configuration events; in-process for one node, Redis Streams for many. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { createMemoryBus, createRedisBus, type AppEvent, type EventBus } from '../../src/events/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const logger = createLogger('silent')
const created = (hostname: string): AppEvent => ({ type: 'proxy_created', hostname })

function record(bus: EventBus): AppEvent[] {
  const seen: AppEvent[] = []
  bus.subscribe((event) => void seen.push(event))
  return seen
}

describe('in-process bus', () => {
  test('delivers every event to every subscriber, in publication order', async () => {
    const bus = createMemoryBus(logger)
    const [a, b] = [record(bus), record(bus)]
    const events = Array.from({ length: 50 }, (_, i) => created(`h${i}.example.com`))
    await Promise.all(events.map((event) => bus.publish(event)))
    expect(a).toEqual(events)
    expect(b).toEqual(events)
  })

  test('a failing handler does not stop the others or later events; unsubscribe works', async () => {
    const bus = createMemoryBus(logger)
    bus.subscribe(() => {
      throw new Error('handler bug')
    })
    const seen = record(bus)
    const late: AppEvent[] = []
    const unsubscribe = bus.subscribe((event) => void late.push(event))
    await bus.publish(created('a.example.com'))
    unsubscribe()
    await bus.publish({ type: 'proxy_deleted', hostname: 'a.example.com' })
    expect(seen.map((event) => event.type)).toEqual(['proxy_created', 'proxy_deleted'])
    expect(late).toHaveLength(1)
  })

  test('a slow handler still sees events one at a time, in order', async () => {
    const bus = createMemoryBus(logger)
    const seen: string[] = []
    let running = 0
    bus.subscribe(async (event) => {
      running++
      expect(running).toBe(1)
      await Bun.sleep(1)
      seen.push((event as { hostname: string }).hostname)
      running--
    })
    await Promise.all(['a', 'b', 'c', 'd'].map((h) => bus.publish(created(h))))
    expect(seen).toEqual(['a', 'b', 'c', 'd'])
  })
})

describe('Redis Streams bus', () => {
  let redis: TestRedis
  const buses: EventBus[] = []
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await Promise.all(buses.map((bus) => bus.stop().catch(() => {})))
    await redis.dispose()
  })
  const node = (nodeId: string, namespace: string) => {
    const bus = createRedisBus({ url: redis.url, nodeId, namespace, logger, blockMs: 200 })
    buses.push(bus)
    return bus
  }

  test('two nodes each receive every event exactly once and in order', async () => {
    const ns = `t${crypto.randomUUID()}:`
    const [a, b] = [node('a', ns), node('b', ns)]
    const [seenA, seenB] = [record(a), record(b)]
    await a.start()
    await b.start()
    const events: AppEvent[] = Array.from({ length: 200 }, (_, i) => created(`h${i}.example.com`))
    // Publish from both nodes, interleaved; the stream fixes one order that both must see.
    for (const [i, event] of events.entries()) await (i % 2 ? a : b).publish(event)
    await waitFor(() => seenA.length >= 200 && seenB.length >= 200, { what: 'both nodes to receive 200 events' })
    await Bun.sleep(300) // long enough for a duplicate delivery to show up if there were one
    expect(seenA).toEqual(events)
    expect(seenB).toEqual(events)
  })

  test('a publish resolves once this node\'s subscribers have the event, which they see once; the other node sees it once', async () => {
    const ns = `t${crypto.randomUUID()}:`
    const [a, b] = [node('a', ns), node('b', ns)]
    const [seenA, seenB] = [record(a), record(b)]
    await a.start()
    await b.start()
    const events = Array.from({ length: 20 }, (_, i) => created(`own-${i}.example.com`))
    for (const [i, event] of events.entries()) {
      await a.publish(event)
      // Here already when the publish resolves: no waiting for the stream (before, it came 20-60 ms later).
      expect(seenA).toEqual(events.slice(0, i + 1))
    }
    await waitFor(() => seenB.length >= 20, { what: 'the other node to receive 20 events' })
    await Bun.sleep(300) // long enough for the stream's copy to show up on A if it were delivered again
    expect(seenA).toEqual(events)
    expect(seenB).toEqual(events)
  })

  test('an event published while the bus is not reading the stream is delivered here at once, and its stream copy not again', async () => {
    const ns = `t${crypto.randomUUID()}:`
    const other = node('other', ns)
    await other.start()
    // The node's group exists (it ran before), so its restarted reader will be handed the entry.
    const before = node('restarted', ns)
    await before.start()
    await before.stop()
    const bus = node('restarted', ns)
    const seen = record(bus)
    await bus.publish(created('early.example.com'))
    expect(seen).toEqual([created('early.example.com')])
    await bus.start()
    await other.publish(created('later.example.com'))
    await waitFor(() => seen.length >= 2, { what: 'the later event' })
    await Bun.sleep(300)
    expect(seen).toEqual([created('early.example.com'), created('later.example.com')])
  })

  test('when Redis cannot take the event, the publish rejects as before, and this node\'s subscribers have it all the same', async () => {
    const own = await startRedis()
    const bus = createRedisBus({ url: own.url, nodeId: 'alone', logger, blockMs: 200 })
    try {
      const seen = record(bus)
      await bus.start()
      await own.stop()
      await expect(bus.publish(created('down.example.com'))).rejects.toThrow()
      expect(seen).toEqual([created('down.example.com')])
    } finally {
      await bus.stop()
      await own.dispose()
    }
  })

  test('a node that was down catches up on what was published meanwhile, without replaying older events', async () => {
    const ns = `t${crypto.randomUUID()}:`
    const publisher = node('publisher', ns)
    await publisher.start()
    const first = node('sleeper', ns)
    const seenFirst = record(first)
    await first.start()
    await publisher.publish(created('before.example.com'))
    await waitFor(() => seenFirst.length === 1, { what: 'first delivery' })
    await first.stop()

    await publisher.publish(created('while-down-1.example.com'))
    await publisher.publish({ type: 'route_changed', routeId: 'r1' })

    const again = node('sleeper', ns)
    const seenAgain = record(again)
    await again.start()
    await waitFor(() => seenAgain.length >= 2, { what: 'catch-up' })
    await publisher.publish(created('after.example.com'))
    await waitFor(() => seenAgain.length >= 3, { what: 'live event after catch-up' })
    expect(seenAgain).toEqual([created('while-down-1.example.com'), { type: 'route_changed', routeId: 'r1' }, created('after.example.com')])
  })

  test('a new node starts at the end of the stream (no history replay)', async () => {
    const ns = `t${crypto.randomUUID()}:`
    const publisher = node('p', ns)
    await publisher.start()
    await publisher.publish(created('old.example.com'))
    const fresh = node('fresh', ns)
    const seen = record(fresh)
    await fresh.start()
    await publisher.publish(created('new.example.com'))
    await waitFor(() => seen.length >= 1, { what: 'new event' })
    expect(seen).toEqual([created('new.example.com')])
  })

  test('malformed stream entries are skipped; invalid events cannot be published', async () => {
    const ns = `t${crypto.randomUUID()}:`
    const bus = node('n', ns)
    const seen = record(bus)
    await bus.start()
    const raw = new Redis(redis.url)
    await raw.xadd(`${ns}events`, '*', 'event', '{"type":"proxy_created"}')
    await raw.xadd(`${ns}events`, '*', 'event', 'not json')
    await raw.quit()
    await expect(bus.publish({ type: 'proxy_created' } as unknown as AppEvent)).rejects.toThrow()
    await bus.publish(created('ok.example.com'))
    await waitFor(() => seen.length >= 1, { what: 'valid event' })
    expect(seen).toEqual([created('ok.example.com')])
  })
})
