/**
 * @module A container's stdout and stderr as lines, in the engine's order. Without a TTY (our containers
 * never have one) the engine multiplexes both streams into frames: an 8-byte header (stream type: 1
 * stdout, 2 stderr; three zero bytes; the payload length, big-endian uint32) then the payload. Asked for
 * timestamps, each payload is one log message, "<RFC 3339 nanosecond time> <text>", ending in "\n" unless
 * the logging driver cut a long line into parts (16 KiB for json-file) that continue in the next frames.
 */
import type Dockerode from 'dockerode'
import type { Readable } from 'node:stream'
import { engineError } from './engine.ts'
import type { ServiceLogLine } from './types.ts'

const HEADER_BYTES = 8
const STREAMS: Record<number, ServiceLogLine['stream']> = { 1: 'stdout', 2: 'stderr' }
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /

/** A line begun in one frame and not finished yet: its time is its first part's. */
interface Partial {
  readonly time: string
  readonly parts: Buffer[]
}

export interface LogDemuxer {
  /** Takes the next bytes as they came (frames may be cut anywhere) and returns the lines they complete. */
  push(chunk: Uint8Array): ServiceLogLine[]
  /** The end of the stream: a last line without its newline is still a line. */
  end(): ServiceLogLine[]
}

export function createLogDemuxer(): LogDemuxer {
  let buffered = Buffer.alloc(0)
  const partial = new Map<ServiceLogLine['stream'], Partial>()

  function message(stream: ServiceLogLine['stream'], payload: Buffer, lines: ServiceLogLine[]): void {
    // The timestamp is ASCII at the start; decoding only its bytes keeps a cut multi-byte character whole.
    const head = payload.subarray(0, 64).toString('latin1')
    const stamp = TIMESTAMP.exec(head)
    const body = stamp ? payload.subarray(stamp[0].length) : payload
    const open = partial.get(stream)
    const time = open?.time ?? stamp?.[1] ?? ''
    const parts = [...(open?.parts ?? []), body]
    const whole = Buffer.concat(parts)
    let start = 0
    for (let newline = whole.indexOf(0x0a); newline >= 0; newline = whole.indexOf(0x0a, start)) {
      lines.push({ stream, time, text: whole.subarray(start, newline).toString('utf8') })
      start = newline + 1
    }
    if (start < whole.length) partial.set(stream, { time, parts: [whole.subarray(start)] })
    else partial.delete(stream)
  }

  return {
    push(chunk) {
      buffered = buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([buffered, chunk])
      const lines: ServiceLogLine[] = []
      while (buffered.length >= HEADER_BYTES) {
        const size = buffered.readUInt32BE(4)
        if (buffered.length < HEADER_BYTES + size) break
        const stream = STREAMS[buffered[0]!]
        if (stream) message(stream, buffered.subarray(HEADER_BYTES, HEADER_BYTES + size), lines)
        buffered = buffered.subarray(HEADER_BYTES + size)
      }
      return lines
    },
    end() {
      const lines = [...partial].map(([stream, open]) => ({ stream, time: open.time, text: Buffer.concat(open.parts).toString('utf8') }))
      partial.clear()
      return lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
    },
  }
}

export interface ReadLogsOptions {
  /** The last N lines only (the engine counts messages). */
  readonly tail?: number
  /** Seconds since the epoch. */
  readonly since?: number
}

/** Only the keys given: an absent one must not reach the query string as an empty value. */
function range(options: ReadLogsOptions): { tail?: number; since?: number } {
  return { ...(options.tail !== undefined && { tail: options.tail }), ...(options.since !== undefined && { since: options.since }) }
}

/** The container's log so far, both streams in order. */
export async function readLogs(container: Dockerode.Container, options: ReadLogsOptions = {}): Promise<ServiceLogLine[]> {
  let raw: Buffer
  try {
    raw = await container.logs({ follow: false, stdout: true, stderr: true, timestamps: true, ...range(options) })
  } catch (error) {
    throw engineError(error)
  }
  const demuxer = createLogDemuxer()
  return [...demuxer.push(raw), ...demuxer.end()]
}

export interface FollowLogsOptions extends ReadLogsOptions {
  /** Ends the iteration (and the engine request) when aborted. */
  readonly signal?: AbortSignal
}

/**
 * The container's log as it is written (after the tail / since lines), until the signal aborts, the
 * consumer stops iterating or the engine ends the stream (the container stopped or was removed).
 */
export async function* followLogs(container: Dockerode.Container, options: FollowLogsOptions = {}): AsyncGenerator<ServiceLogLine> {
  const { signal } = options
  if (signal?.aborted) return
  let stream: Readable
  try {
    stream = (await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, ...range(options), abortSignal: signal })) as Readable
  } catch (error) {
    if (signal?.aborted) return
    throw engineError(error)
  }
  const stop = () => stream.destroy()
  signal?.addEventListener('abort', stop, { once: true })
  const demuxer = createLogDemuxer()
  try {
    for await (const chunk of stream) yield* demuxer.push(chunk as Buffer)
    yield* demuxer.end()
  } catch (error) {
    if (!signal?.aborted) throw engineError(error)
  } finally {
    signal?.removeEventListener('abort', stop)
    stream.destroy()
  }
}
