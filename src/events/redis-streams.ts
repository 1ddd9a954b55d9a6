/**
 * @module The Redis Streams event bus, for several nodes sharing one Redis. Every node has its own
 * consumer group, so every node receives every event, in stream order. The group survives restarts:
 * a node that was down resumes after the last event it acknowledged. The group starts at "$" (new
 * events only), never at 0, so a new node does not replay history; the reconcile loop covers that.
 */
import Redis from 'ioredis'
import * as v from 'valibot'
import type { Logger } from '../lib/index.ts'
import { EventSchema, type EventBus } from './event.ts'
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

export function createRedisBus(options: RedisBusOptions): EventBus {
  const { logger } = options
  const streamKey = `${options.namespace ?? 'ohp:'}events`
  const group = `node:${options.nodeId}`
  const handlers = createHandlerList(logger)
  const connect = () => {
    const client = new Redis(options.url, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 2_000) })
    client.on('error', () => {})
    return client
  }
  const writer = connect()
  let reader: Redis | null = null
  let loop: Promise<void> | null = null
  let running = false

  const ensureGroup = async (client: Redis) => {
    try {
      await client.xgroup('CREATE', streamKey, group, '$', 'MKSTREAM')
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error
    }
  }

  const handleEntries = async (client: Redis, reply: StreamReply) => {
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        const parsed = v.safeParse(EventSchema, parseJson(fields[1]))
        if (parsed.success) await handlers.deliver(parsed.output)
        else logger.warn('ignored malformed event', { id })
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
          'GROUP', group, options.nodeId, 'COUNT', 100, 'BLOCK', options.blockMs ?? 2_000, 'STREAMS', streamKey, cursor,
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
      await writer.xadd(streamKey, 'MAXLEN', '~', options.maxLength ?? 10_000, '*', 'event', JSON.stringify(v.parse(EventSchema, event)))
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
      await writer.quit().catch(() => writer.disconnect())
    },
  }
}

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '')
  } catch {
    return undefined
  }
}
