/**
 * @module The Redis Streams event bus, for several nodes sharing one Redis. Every node has its own
 * consumer group, so every node receives every event, in stream order. The group survives restarts:
 * a node that was down resumes after the last event it acknowledged. The group starts at "$" (new
 * events only), never at 0, so a new node does not replay history; the reconcile loop covers that.
 *
 * A node's own events come back to it through the stream like any other, and a publish resolves only
 * once its event came back and this node's subscribers handled it (the other buses' contract): a change
 * made through this node's API applies here before the API answers, and every node handles every event,
 * its own included, exactly once and in the one stream order. Each entry names its node and carries an
 * id of its own, which is how the publisher knows it. Two exceptions, where the event is delivered here
 * at once, out of stream order, and its copy in the stream (if any) is skipped when it arrives: the
 * XADD failed (Redis is away; the publish still rejects, and the store write before it stands, for the
 * reconcile to spread), or the event did not come back within OWN_EVENT_WAIT_MS (the reader is
 * reconnecting, or the bus is not started or stopping).
 */
import Redis from 'ioredis'
import * as v from 'valibot'
import type { Logger } from '../lib/index.ts'
import { EventSchema, type AppEvent, type EventBus } from './event.ts'
import { createHandlerList } from './handlers.ts'

export interface RedisBusOptions {
  readonly url: string
  readonly nodeId: string
  readonly namespace?: string
  readonly logger: Logger
  /** Approximate number of events the stream keeps. */
  readonly maxLength?: number
  readonly blockMs?: number
}

type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null

/** How long a publish waits for its event to come back through the stream before delivering it here itself. */
const OWN_EVENT_WAIT_MS = 1_000
/** How many ids of own events delivered here early are remembered, to skip their stream copies. */
const MAX_SKIPPED = 1_000

export function createRedisBus(options: RedisBusOptions): EventBus {
  const { logger, nodeId } = options
  const streamKey = `${options.namespace ?? 'ohp:'}events`
  const group = `node:${nodeId}`
  const handlers = createHandlerList(logger)
  // One chain for the reader's deliveries and the early ones, so handlers see one event at a time.
  let chain = Promise.resolve()
  const deliver = (event: AppEvent) => (chain = chain.then(() => handlers.deliver(event)))
  /** This node's events published and not delivered here yet, by their id. */
  const awaiting = new Map<string, { readonly event: AppEvent; readonly delivered: () => void }>()
  /** Ids of own events delivered here without waiting for the stream (insertion order: oldest first). */
  const deliveredEarly = new Set<string>()
  const connect = () => {
    const client = new Redis(options.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 2_000) })
    client.on('error', () => {})
    return client
  }
  const writer = connect()
  let reader: Redis | null = null
  let loop: Promise<void> | null = null
  let running = false

  /** Delivers an own event here now, unless the reader already took it; its stream copy is then skipped. */
  const deliverEarly = (id: string) => {
    const own = awaiting.get(id)
    if (!own) return
    awaiting.delete(id)
    deliveredEarly.add(id)
    if (deliveredEarly.size > MAX_SKIPPED) deliveredEarly.delete(deliveredEarly.values().next().value!)
    void deliver(own.event).then(own.delivered)
  }

  const ensureGroup = async (client: Redis) => {
    try {
      await client.xgroup('CREATE', streamKey, group, '$', 'MKSTREAM')
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error
    }
  }

  const handleEntry = async (id: string, fields: string[]) => {
    const entry = fieldsOf(fields)
    const own = entry.get('node') === nodeId ? (entry.get('id') ?? null) : null
    if (own !== null && deliveredEarly.has(own)) return
    const parsed = v.safeParse(EventSchema, parseJson(entry.get('event')))
    if (!parsed.success) return logger.warn('ignored malformed event', { id })
    const publisher = own === null ? undefined : awaiting.get(own)
    if (own !== null) awaiting.delete(own)
    await deliver(parsed.output)
    publisher?.delivered()
  }

  const handleEntries = async (client: Redis, reply: StreamReply) => {
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        await handleEntry(id, fields)
        await client.xack(streamKey, group, id)
      }
    }
  }

  const consume = async (client: Redis) => {
    // First whatever this node was handed but never acknowledged (it stopped mid-way), then new events.
    let cursor = '0'
    while (running) {
      try {
        await ensureGroup(client)
        const reply = (await client.xreadgroup(
          'GROUP', group, nodeId, 'COUNT', 100, 'BLOCK', options.blockMs ?? 2_000, 'STREAMS', streamKey, cursor,
        )) as StreamReply
        const delivered = reply?.[0]?.[1].length ?? 0
        await handleEntries(client, reply)
        if (cursor === '0' && delivered === 0) cursor = '>'
      } catch (error) {
        if (!running) return
        logger.warn('event stream read failed; retrying', { error: String(error) })
        await Bun.sleep(500)
      }
    }
  }

  return {
    async publish(event) {
      const checked = v.parse(EventSchema, event)
      const id = crypto.randomUUID()
      const delivered = new Promise<void>((resolve) => awaiting.set(id, { event: checked, delivered: resolve }))
      try {
        await writer.xadd(streamKey, 'MAXLEN', '~', options.maxLength ?? 10_000, '*', 'event', JSON.stringify(checked), 'node', nodeId, 'id', id)
      } catch (error) {
        deliverEarly(id)
        await delivered
        throw error
      }
      // Not reading the stream: nothing would bring it back.
      if (!running) deliverEarly(id)
      const timer = setTimeout(() => deliverEarly(id), OWN_EVENT_WAIT_MS)
      await delivered.finally(() => clearTimeout(timer))
    },
    subscribe: (handler) => handlers.add(handler),
    async start() {
      if (running) return
      running = true
      reader = connect()
      await ensureGroup(reader)
      loop = consume(reader)
    },
    async stop() {
      running = false
      // The reader may sit in a blocking read; dropping the connection ends it at once.
      reader?.disconnect()
      await loop
      reader = null
      loop = null
      // Publishes still waiting for the stream get their events delivered here, as the reader is gone.
      for (const id of [...awaiting.keys()]) deliverEarly(id)
      await chain
      await writer.quit().catch(() => writer.disconnect())
    },
  }
}

/** A stream entry's fields ([name, value, name, value, ...]) by name. */
function fieldsOf(fields: readonly string[]): Map<string, string> {
  const byName = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) byName.set(fields[i]!, fields[i + 1]!)
  return byName
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '')
  } catch {
    return undefined
  }
}
