/**
 * @module `oauth-https-proxy log oauth` (GET /oauth/events): the authorization server's activity —
 * logins and refusals with the reason, consent, tokens issued, refreshed, refused and revoked, refresh
 * reuse, registrations — filtered and paged by cursor like the request log. Never a token: the log
 * holds none.
 */
import { API_ARGS, CliError, createApiClient, printJson, printTable, type Column } from '../client/index.ts'
import { choices, defineApiCommand, given, optionalInteger } from './flags.ts'
import { printMoreHint, readPages } from './log-paging.ts'
import { ALL_RECORDS_CAP, PAGE_ARGS, recordTime } from './log-records.ts'

const CLI = 'oauth-https-proxy log oauth'
/** The API's largest page of events. */
const MAX_PAGE = 1_000

interface EventRow {
  readonly id: string
  readonly time: string
  readonly type: string
  readonly user: string | null
  readonly client_id: string | null
  readonly ip: string | null
  readonly grant: string | null
  readonly reason: string | null
  readonly resource: string | null
}

interface EventPage {
  readonly events: EventRow[]
  readonly count: number
  readonly next_cursor: string | null
}

const EVENT_COLUMNS: Column<EventRow>[] = [
  { key: 'time', header: 'time', format: recordTime },
  { key: 'type', header: 'type' },
  { key: 'user', header: 'user' },
  { key: 'client_id', header: 'client id' },
  { key: 'ip', header: 'ip' },
  { key: 'grant', header: 'grant' },
  { key: 'reason', header: 'reason' },
  { key: 'resource', header: 'resource' },
]

export const oauthEventsCommand = defineApiCommand({
  meta: {
    name: 'oauth',
    description:
      `OAuth activity, newest first: logins and refusals, consent, tokens issued, refreshed, refused and revoked, registrations\n` +
      `Example: ${CLI} --type login --type login_refused --from 2h\n` +
      `Example: ${CLI} --client-id 7Hc2kq0xNw --order oldest --all`,
  },
  args: {
    user: { type: 'string', valueHint: 'login', description: 'the GitHub user' },
    'client-id': { type: 'string', valueHint: 'client-id', description: 'the OAuth client' },
    ip: { type: 'string', valueHint: 'address', description: 'the address the request came from' },
    type: { type: 'string', valueHint: 'type', description: 'an event type (login, login_refused, token_issued, token_refreshed, token_revoked, …); repeatable or comma-separated' },
    proxy: { type: 'string', valueHint: 'hostname', description: 'tokens for this proxy\'s resource' },
    from: { type: 'string', valueHint: 'time', description: 'start: ISO 8601, a time ago such as 15m, 2h, 7d, or epoch milliseconds (default: the whole log)' },
    to: { type: 'string', valueHint: 'time', description: 'end, in the same forms (default: now)' },
    hours: { type: 'string', valueHint: 'hours', description: 'the last N hours (instead of --from)' },
    order: { type: 'enum', options: choices('newest', 'oldest'), valueHint: 'newest|oldest', description: 'newest first (default) or oldest first' },
    ...PAGE_ARGS,
    ...API_ARGS,
  },
  async run({ args, repeated }) {
    const client = createApiClient(args)
    const query = given({
      user: args.user,
      client_id: args['client-id'],
      ip: args.ip,
      type: repeated('type')?.join(','),
      proxy: args.proxy,
      from: args.from,
      to: args.to,
      hours: optionalInteger('hours', args.hours) ?? undefined,
      order: args.order,
    })
    const { pages, items, next } = await readPages<EventPage, EventRow>(
      async ({ cursor, limit }) => {
        const page = await client.get<EventPage>('/oauth/events', { ...query, cursor, limit })
        if (typeof page !== 'object' || page === null || !Array.isArray(page.events)) throw new CliError('unexpected answer from the server: expected a page of OAuth events')
        return page
      },
      (page) => page.events,
      { all: args.all === true, cursor: args.cursor, limit: optionalInteger('limit', args.limit) ?? undefined, maxLimit: MAX_PAGE, cap: ALL_RECORDS_CAP },
    )
    if (args.json) return printJson(pages.length === 1 ? pages[0] : { events: items, count: items.length, next_cursor: next })
    printTable(items, EVENT_COLUMNS, { ...args, idKey: 'id', empty: 'no OAuth events' })
    printMoreHint('events', next, { all: args.all === true, cap: ALL_RECORDS_CAP })
  },
})
