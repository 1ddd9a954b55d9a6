/**
 * The bus of workers that share the embedded store (serve --workers): events go through a hub that passes
 * each one to every worker, its publisher included. Here the hub is a plain relay in the test, as the
 * primary process is one (cli/workers.ts); the workers' own end is the real bus.
 */
import { describe, expect, test } from 'bun:test'
import { createChannelBus, type AppEvent, type BusChannel, type EventBus } from '../../src/events/index.ts'
import { createLogger } from '../../src/lib/index.ts'

const created = (hostname: string): AppEvent => ({ type: 'proxy_created', hostname })

/** A hub that relays asynchronously (as IPC does) until it goes away; `hold` keeps messages back until released. */
function createHub() {
  const members: { receive: (message: unknown) => void; close: () => void }[] = []
  let isUp = true
  let held: unknown[] | null = null
  const broadcast = (message: unknown) => setTimeout(() => members.forEach((member) => member.receive(message)), 1)
  return {
    join(): BusChannel {
      let receive: (message: unknown) => void = () => {}
      let close: () => void = () => {}
      members.push({ receive: (message) => receive(message), close: () => close() })
      return {
        send: (message) => {
          if (!isUp) return false
          if (held) held.push(message)
          else broadcast(message)
          return true
        },
        onMessage: (listener) => void (receive = listener),
        onClose: (listener) => void (close = listener),
      }
    },
    /** Sends a message as the hub would, to every member. */
    inject: broadcast,
    hold: () => void (held = []),
    release() {
      for (const message of held ?? []) broadcast(message)
      held = null
    },
    goAway() {
      isUp = false
      for (const member of members) member.close()
    },
  }
}

function worker(hub: ReturnType<typeof createHub>, self: string, logLines: string[] = []): { bus: EventBus; seen: AppEvent[] } {
  const bus = createChannelBus({ channel: hub.join(), self, logger: createLogger('warn', (line) => void logLines.push(line)) })
  const seen: AppEvent[] = []
  bus.subscribe((event) => void seen.push(event))
  return { bus, seen }
}

describe('channel bus (workers on one host)', () => {
  test("every worker gets every event, the publisher's own included, and a publish resolves once it was delivered there", async () => {
    const hub = createHub()
    const [a, b, c] = [worker(hub, 'w1'), worker(hub, 'w2'), worker(hub, 'w3')]
    await a.bus.publish(created('one.example.com'))
    expect(a.seen).toEqual([created('one.example.com')])
    await b.bus.publish(created('two.example.com'))
    expect(b.seen).toEqual([created('one.example.com'), created('two.example.com')])
    await Bun.sleep(10)
    expect(c.seen).toEqual(b.seen)
  })

  test('publishers that do not wait for each other: every worker sees the one order the hub relayed', async () => {
    const hub = createHub()
    const workers = [worker(hub, 'w1'), worker(hub, 'w2')]
    const published = Array.from({ length: 40 }, (_, i) => workers[i % 2]!.bus.publish(created(`h${i}.example.com`)))
    await Promise.all(published)
    await Bun.sleep(10)
    expect(workers[0]!.seen).toHaveLength(40)
    expect(workers[1]!.seen).toEqual(workers[0]!.seen)
  })

  test('once the hub is gone, events are delivered here alone, and publishes waiting for their echo resolve', async () => {
    const hub = createHub()
    const [a, b] = [worker(hub, 'w1'), worker(hub, 'w2')]
    hub.hold()
    const waiting = a.bus.publish(created('held.example.com'))
    let isResolved = false
    void waiting.then(() => (isResolved = true))
    await Bun.sleep(10)
    expect(isResolved).toBe(false)
    hub.goAway()
    await waiting
    await a.bus.publish(created('alone.example.com'))
    expect(a.seen).toEqual([created('held.example.com'), created('alone.example.com')])
    expect(b.seen).toEqual([])
  })

  test('a malformed event from the hub is ignored with a warning; messages of other kinds are not events', async () => {
    const hub = createHub()
    const logLines: string[] = []
    const a = worker(hub, 'w1', logLines)
    hub.inject({ type: 'event', event: { type: 'proxy_created' }, origin: 'w2', seq: 1 })
    hub.inject({ type: 'event', event: { type: 'no_such_event', hostname: 'x' }, origin: 'w2', seq: 2 })
    hub.inject({ type: 'ready' })
    hub.inject(null)
    await a.bus.publish(created('after.example.com'))
    expect(a.seen).toEqual([created('after.example.com')])
    expect(logLines.filter((line) => line.includes('ignored malformed event'))).toHaveLength(2)
  })

  test('an event that is not one of the union is refused at publish', async () => {
    const a = worker(createHub(), 'w1')
    await expect(a.bus.publish({ type: 'proxy_created' } as unknown as AppEvent)).rejects.toThrow()
    await Bun.sleep(10)
    expect(a.seen).toEqual([])
  })
})
