/**
 * @module `oauth-https-proxy log follow`: the live tail (GET /logs/follow, Server-Sent Events) as one
 * line per request — time, status (coloured by class on a terminal), method, host, path, duration,
 * client address, user — or one JSON line per record with --json. Ctrl-C (SIGINT) or SIGTERM closes the
 * stream and exits 0. A dropped stream is reopened once; one that drops again soon after is the end
 * (exit 1), and so is a server that cannot be reached again. Records written while no stream was open
 * are not replayed: `log search --from` finds them.
 */
import { API_ARGS, CliError, createApiClient, isColorAllowed, printable, redact, sanitize, type ApiClient, type Query } from '../client/index.ts'
import { defineApiCommand } from './flags.ts'
import { durationText, filterQuery, recordTime, RECORD_FILTER_ARGS, type RecordRow } from './log-records.ts'
import { createSseParser, type ServerSentEvent } from './log-sse.ts'

const CLI = 'oauth-https-proxy log follow'
/** A pause before reopening, so a server that is restarting has a moment. */
export const REOPEN_DELAY_MS = 500
/** A stream that drops again this soon after it was reopened is not coming back. */
export const REOPEN_WINDOW_MS = 60_000
/** The server comments every 15 s; three missed mean the connection died without a word. */
const SILENCE_LIMIT_MS = 45_000

/** SGR colours by status class: 2xx green, 3xx cyan, 4xx yellow, 5xx red. */
const STATUS_COLOURS: Readonly<Record<number, number>> = { 2: 32, 3: 36, 4: 33, 5: 31 }

/** One record as one line; colour only when `color` (a terminal without NO_COLOR). */
export function followLine(record: Partial<RecordRow>, color: boolean): string {
  const text = (value: unknown) => (value === null || value === undefined || value === '' ? '-' : sanitize(String(value)))
  const status = text(record.status)
  const colour = typeof record.status === 'number' ? STATUS_COLOURS[Math.floor(record.status / 100)] : undefined
  const time = recordTime(record.timestamp)
  const fields = [
    color ? `\x1b[2m${time}\x1b[22m` : time,
    color && colour !== undefined ? `\x1b[${colour}m${status}\x1b[39m` : status,
    text(record.method).padEnd(7),
    text(record.host),
    text(record.path),
    durationText(record.duration_ms),
    text(record.client_ip),
    text(record.user),
  ]
  if (record.backend_error) fields.push(`[${text(record.backend_error)}]`)
  return `${fields.join(' ')}\n`
}

type Printer = (record: Partial<RecordRow>) => void

function printerFor(args: { json?: boolean; quiet?: boolean }): Printer {
  const write = (line: string) => void process.stdout.write(line)
  if (args.json) return (record) => write(`${redact(JSON.stringify(record))}\n`)
  if (args.quiet) return (record) => write(`${sanitize(String(record.request_id ?? ''))}\n`)
  const color = isColorAllowed(process.stdout.isTTY === true, process.env)
  return (record) => write(followLine(record, color))
}

/**
 * Reads events until the stream ends, fails, falls silent, or `signal` aborts; every way out is a
 * return (the caller tells a stop from a drop by the signal).
 */
export async function readEvents(body: ReadableStream<Uint8Array> | null, onEvent: (event: ServerSentEvent) => void, signal: AbortSignal): Promise<void> {
  if (body === null) return
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const parser = createSseParser(onEvent, (comment) => {
    if (comment.startsWith('skipped')) process.stderr.write(`server: ${printable(comment, 200)}\n`)
  })
  const end = () => void reader.cancel().catch(() => {})
  let silence: ReturnType<typeof setTimeout> | undefined
  const listen = () => {
    clearTimeout(silence)
    silence = setTimeout(end, SILENCE_LIMIT_MS)
  }
  signal.addEventListener('abort', end, { once: true })
  try {
    listen()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      listen()
      parser.push(decoder.decode(value, { stream: true }))
    }
  } catch {
    // A reset or aborted connection: a drop, or the stop the signal says.
  } finally {
    clearTimeout(silence)
    signal.removeEventListener('abort', end)
  }
}

/** Aborted by Ctrl-C (SIGINT), SIGTERM, or a reader that went away (`| head`); `release` stops listening. */
export function stopOnSignals(): { readonly signal: AbortSignal; release(): void } {
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.stdout.on('error', onSignal)
  return {
    signal: stop.signal,
    release() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      process.stdout.off('error', onSignal)
    },
  }
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })

export const followCommand = defineApiCommand({
  meta: {
    name: 'follow',
    description:
      `Live tail: one line per request as it happens, with the search filters; Ctrl-C to stop\n` +
      `Example: ${CLI}\n` +
      `Example: ${CLI} --host app.example.com --status 5xx\n` +
      `Example: ${CLI} --json | jq .path`,
  },
  args: { ...RECORD_FILTER_ARGS, ...API_ARGS },
  async run({ args }) {
    const client = createApiClient(args)
    const query = filterQuery(args)
    const print = printerFor(args)
    const stop = stopOnSignals()
    const where = `${client.serverUrl}/logs/follow`
    const onEvent = (event: ServerSentEvent) => {
      if (event.type !== 'request' || stop.signal.aborted) return
      let record: unknown
      try {
        record = JSON.parse(event.data)
      } catch {
        return void process.stderr.write(`skipped an event that is not JSON (id ${printable(event.lastEventId, 64)})\n`)
      }
      if (typeof record === 'object' && record !== null) print(record as Partial<RecordRow>)
    }
    try {
      let reopenedAtMs: number | null = null
      for (;;) {
        const response = await open(client, query, stop.signal, reopenedAtMs !== null)
        process.stderr.write(reopenedAtMs === null ? `following ${where}; Ctrl-C to stop\n` : `following ${where} again\n`)
        await readEvents(response.body, onEvent, stop.signal)
        if (stop.signal.aborted) return
        if (reopenedAtMs !== null && Date.now() - reopenedAtMs < REOPEN_WINDOW_MS) {
          throw new CliError(`the live tail from ${where} dropped again within ${REOPEN_WINDOW_MS / 1000} s of reconnecting`)
        }
        process.stderr.write('the live tail dropped; reconnecting\n')
        await pause(REOPEN_DELAY_MS, stop.signal)
        if (stop.signal.aborted) return
        reopenedAtMs = Date.now()
      }
    } catch (error) {
      if (stop.signal.aborted) return
      throw error
    } finally {
      stop.release()
    }
  },
})

/** Opens the stream; an answer that is not an event stream (a login page, a proxy's HTML) is exit 1. */
async function open(client: ApiClient, query: Query, signal: AbortSignal, isReopening: boolean): Promise<Response> {
  let response: Response
  try {
    response = await client.stream('/logs/follow', query, signal)
  } catch (error) {
    if (isReopening && error instanceof CliError && !signal.aborted) throw new CliError(`the live tail dropped and could not be reopened: ${error.message}`, error.exitCode)
    throw error
  }
  const type = response.headers.get('content-type') ?? ''
  if (!type.toLowerCase().startsWith('text/event-stream')) {
    await response.body?.cancel().catch(() => {})
    throw new CliError(`unexpected answer from ${client.serverUrl}/logs/follow: ${response.status} with ${printable(type || 'no content type', 100)}, not an event stream`)
  }
  return response
}
