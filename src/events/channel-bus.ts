/**
 * @module The event bus of one worker among several on one host sharing the embedded store (serve
 * --workers): events travel over a message channel to a hub (the primary process), which passes each
 * one to every worker, its sender included. So every worker sees every event in the one order the hub
 * saw them in, as Redis Streams give nodes; and a publish resolves once the event came back and was
 * delivered here, as the in-process bus's does. If the hub goes away, events are delivered here alone.
 */
import * as v from 'valibot'
import type { Logger } from '../lib/index.ts'
import { EventSchema, type AppEvent, type EventBus } from './event.ts'
import { createHandlerList } from './handlers.ts'

/** The link to the hub. */
export interface BusChannel {
  /** Sends a message to the hub; false when it cannot (the hub is gone). */
  send(message: BusMessage): boolean
  /** Every message from the hub (other kinds than the bus's too: they are ignored). */
  onMessage(listener: (message: unknown) => void): void
  /** The hub went away. */
  onClose(listener: () => void): void
}

/** One event on its way through the hub: who published it, and its number there. */
export const BusMessageSchema = v.object({ type: v.literal('event'), event: EventSchema, origin: v.string(), seq: v.number() })
export type BusMessage = v.InferOutput<typeof BusMessageSchema>

export interface ChannelBusOptions {
  readonly channel: BusChannel
  /** This worker's name on the hub (its node id): how it knows its own events when they come back. */
  readonly self: string
  readonly logger: Logger
}

export function createChannelBus(options: ChannelBusOptions): EventBus {
  const { channel, self, logger } = options
  const handlers = createHandlerList(logger)
  // A chain keeps delivery in arrival order even when publishers do not await each other.
  let chain = Promise.resolve()
  const deliver = (event: AppEvent) => (chain = chain.then(() => handlers.deliver(event)))
  /** This worker's events sent to the hub and not back yet, by number. */
  const awaiting = new Map<number, { readonly event: AppEvent; readonly delivered: () => void }>()
  let lastSeq = 0
  let isLinked = true

  channel.onMessage((message) => {
    if ((message as { type?: unknown } | null)?.type !== 'event') return
    const parsed = v.safeParse(BusMessageSchema, message)
    if (!parsed.success) return logger.warn('ignored malformed event from the primary process')
    const { event, origin, seq } = parsed.output
    const delivered = deliver(event)
    const own = origin === self ? awaiting.get(seq) : undefined
    if (!own) return
    awaiting.delete(seq)
    void delivered.then(own.delivered)
  })
  channel.onClose(() => {
    isLinked = false
    // Never coming back: delivered here, so no publisher waits forever.
    for (const own of awaiting.values()) void deliver(own.event).then(own.delivered)
    awaiting.clear()
  })

  return {
    async publish(event) {
      const checked = v.parse(EventSchema, event)
      if (!isLinked) return deliver(checked)
      const seq = ++lastSeq
      return new Promise<void>((resolve) => {
        awaiting.set(seq, { event: checked, delivered: resolve })
        if (channel.send({ type: 'event', event: checked, origin: self, seq })) return
        awaiting.delete(seq)
        void deliver(checked).then(resolve)
      })
    },
    subscribe: (handler) => handlers.add(handler),
    start: async () => {},
    stop: () => chain,
  }
}
