/**
 * @module `oauth-https-proxy service logs NAME` (GET /services/{name}/logs): the container's output,
 * its stdout lines on stdout and its stderr lines on stderr, as `docker logs` does; --json prints the
 * API's answer (both streams in order), with --follow one JSON object per line ({stream, text, time?}). --follow keeps
 * printing lines as they come (Server-Sent Events) until the container stops (exit 0), the stream
 * breaks (exit 1) or Ctrl-C (exit 0).
 */
import { API_ARGS, apiPath, CliError, createApiClient, printable, printJson, redact, sanitize, type Query } from '../client/index.ts'
import { defineApiCommand, parseInteger } from './flags.ts'
import { readEvents, stopOnSignals } from './log-follow.ts'
import type { ServerSentEvent } from './log-sse.ts'

const CLI = 'oauth-https-proxy service logs'

interface LogLine {
  readonly stream: 'stdout' | 'stderr'
  readonly text: string
  readonly time?: string
}

function printerFor(json: boolean): (line: LogLine) => void {
  if (json) return (line) => void process.stdout.write(`${redact(JSON.stringify(line))}\n`)
  return (line) => {
    const text = `${line.time ? `${line.time} ` : ''}${sanitize(line.text)}\n`
    if (line.stream === 'stderr') process.stderr.write(text)
    else process.stdout.write(text)
  }
}

export const logsCommand = defineApiCommand({
  meta: {
    name: 'logs',
    description:
      `A service's output: stdout and stderr lines in order (the last 100 unless --tail)\n` +
      `Example: ${CLI} web --tail 20\n` +
      `Example: ${CLI} web --since 10m --timestamps\n` +
      `Example: ${CLI} web --follow --tail 0`,
  },
  args: {
    name: { type: 'positional', required: true, valueHint: 'name', description: 'the service\'s name' },
    tail: { type: 'string', valueHint: 'n', description: 'lines from the end (default 100; 0 with --follow: only new ones)' },
    since: { type: 'string', valueHint: 'time', description: 'lines since: seconds since the epoch, an ISO 8601 time, or a time ago such as 15m' },
    timestamps: { type: 'boolean', description: 'each line with its time' },
    follow: { type: 'boolean', alias: 'F', description: 'keep printing new lines until the container stops; Ctrl-C to stop' },
    ...API_ARGS,
  },
  async run({ args }) {
    const client = createApiClient(args)
    const path = apiPath`/services/${args.name}/logs`
    const query: Query = {
      tail: args.tail === undefined ? undefined : parseInteger('tail', args.tail),
      since: args.since,
      timestamps: args.timestamps ? true : undefined,
    }
    const print = printerFor(args.json === true)
    if (!args.follow) {
      const answer = await client.get<{ logs: LogLine[] }>(path, query)
      if (args.json) return printJson(answer)
      for (const line of answer.logs) print(line)
      return
    }
    const stop = stopOnSignals()
    let outcome = 'open' as 'open' | 'ended' | 'failed'
    const onEvent = (event: ServerSentEvent) => {
      if (event.type === 'end') return void (outcome = 'ended')
      if (event.type === 'error') return void (outcome = 'failed')
      if (event.type !== 'log') return
      try {
        print(JSON.parse(event.data) as LogLine)
      } catch {
        process.stderr.write(`skipped an event that is not JSON: ${printable(event.data, 100)}\n`)
      }
    }
    try {
      const response = await client.stream(path, { ...query, follow: true }, stop.signal)
      if (!(response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')) {
        await response.body?.cancel().catch(() => {})
        throw new CliError(`unexpected answer from ${client.serverUrl}${path}: not an event stream`)
      }
      process.stderr.write(`following ${sanitize(args.name)}'s output; Ctrl-C to stop\n`)
      await readEvents(response.body, onEvent, stop.signal)
      if (stop.signal.aborted || outcome === 'ended') return
      throw new CliError(outcome === 'failed' ? `the engine stopped sending ${args.name}'s output` : `the log stream from ${client.serverUrl} dropped`)
    } catch (error) {
      if (stop.signal.aborted) return
      throw error
    } finally {
      stop.release()
    }
  },
})
