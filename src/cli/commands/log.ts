/**
 * @module `oauth-https-proxy log …` (/logs/*, /oauth/events): the request log — search and the listings
 * by address, host, proxy, user and client, errors, one request by its id, statistics and the live tail
 * — plus OAuth activity and log levels. Listings print one page, newest first, and say on stderr how to
 * go on (`--cursor`), or follow the cursors themselves with `--all`.
 */
import { defineCommand, type ArgsDef } from 'citty'
import { API_ARGS, apiPath, CliError, createApiClient, printJson, printRecord, printTable, type ApiArgs, type Query } from '../client/index.ts'
import { defineApiCommand, optionalInteger } from './flags.ts'
import { followCommand } from './log-follow.ts'
import { levelCommand } from './log-level.ts'
import { oauthEventsCommand } from './log-oauth.ts'
import { printMoreHint, readPages } from './log-paging.ts'
import { ALL_RECORDS_CAP, filterQuery, PAGE_ARGS, RECORD_COLUMNS, RECORD_FILTER_ARGS, WINDOW_ARGS, type RecordRow } from './log-records.ts'
import { statsCommand } from './log-stats.ts'

const CLI = 'oauth-https-proxy log'
/** The API's largest page of records. */
const MAX_PAGE = 1_000

/** One page as /logs/search and the listings answer it. */
interface RecordPage {
  readonly records: RecordRow[]
  readonly count: number
  readonly next_cursor: string | null
  readonly scanned: number
  readonly scan_budget_exhausted: boolean
  readonly from: string
  readonly to: string
}

type ListingArgs = ApiArgs & Readonly<Record<string, string | boolean | undefined>> & { readonly all?: boolean; readonly limit?: string; readonly cursor?: string }

function checkedPage(page: unknown): RecordPage {
  if (typeof page !== 'object' || page === null || !Array.isArray((page as RecordPage).records)) {
    throw new CliError('unexpected answer from the server: expected a page of records')
  }
  return page as RecordPage
}

/** A listing's page(s), printed: a table (or ids, or the API's JSON), then the way on. */
async function listRecords(args: ListingArgs, path: string, empty: string): Promise<void> {
  const client = createApiClient(args)
  const query = filterQuery(args)
  let window: Query = {}
  const { pages, items, next } = await readPages<RecordPage, RecordRow>(
    async ({ cursor, limit }) => {
      const page = checkedPage(await client.get(path, { ...query, ...window, cursor, limit }))
      // --all reads one window, the first page's, however long the pages take.
      if (args.all) window = { from: page.from, to: page.to, hours: undefined }
      return page
    },
    (page) => page.records,
    { all: args.all === true, cursor: args.cursor, limit: optionalInteger('limit', args.limit) ?? undefined, maxLimit: MAX_PAGE, cap: ALL_RECORDS_CAP },
  )
  const last = pages.at(-1)!
  if (args.json) {
    // One page: the API's answer exactly; --all: the same shape over every page read.
    const scanned = pages.reduce((sum, page) => sum + page.scanned, 0)
    return printJson(pages.length === 1 ? pages[0] : { ...pages[0], records: items, count: items.length, next_cursor: next, scanned, scan_budget_exhausted: last.scan_budget_exhausted })
  }
  printTable(items, RECORD_COLUMNS, { ...args, idKey: 'request_id', empty })
  if (last.scan_budget_exhausted && next !== null) process.stderr.write(`the scan stopped at its budget (${last.scanned} records read); narrow --from/--to, or go on:\n`)
  printMoreHint('records', next, { all: args.all === true, cap: ALL_RECORDS_CAP })
}

/** A listing command: `log <name> [VALUE] [filters]` over `path(VALUE)`. */
function listing(name: string, description: string, path: (value: string) => string, empty: string, positional?: { name: string; hint: string; description: string; omit: string }) {
  const filters: ArgsDef = { ...RECORD_FILTER_ARGS }
  // The path's own filter is not offered a second time as a flag.
  if (positional) delete filters[positional.omit]
  const args: ArgsDef = {
    ...(positional ? { [positional.name]: { type: 'positional', required: true, valueHint: positional.hint, description: positional.description } } : {}),
    ...filters,
    ...WINDOW_ARGS,
    ...PAGE_ARGS,
    ...API_ARGS,
  }
  return defineApiCommand({
    meta: { name, description },
    args,
    run: ({ args: given }) => {
      const values = given as unknown as ListingArgs
      return listRecords(values, path(positional ? String(values[positional.name]) : ''), empty)
    },
  })
}

const search = listing(
  'search',
  `Search request records, newest first, one page (--all: every page up to ${ALL_RECORDS_CAP})\n` +
    `Example: ${CLI} search --host app.example.com --status 5xx --from 2h\n` +
    `Example: ${CLI} search --query 'path:/api method:POST' --limit 20\n` +
    `Example: ${CLI} search --user alice --all --json`,
  () => '/logs/search',
  'no records in the window',
)

const ip = listing(
  'ip',
  `Request records from one client address or range\nExample: ${CLI} ip 203.0.113.7\nExample: ${CLI} ip 10.0.0.0/8 --status 401 --hours 6`,
  (value) => apiPath`/logs/ip/${value}`,
  'no records from this address in the window',
  { name: 'address', hint: 'address|cidr', description: 'an IP address, or a CIDR such as 10.0.0.0/8', omit: 'ip' },
)

const host = listing(
  'host',
  `Request records for one requested host\nExample: ${CLI} host app.example.com --method POST`,
  (value) => apiPath`/logs/host/${value}`,
  'no records for this host in the window',
  { name: 'hostname', hint: 'host', description: 'the host the client asked for', omit: 'host' },
)

const proxy = listing(
  'proxy',
  `Request records served by one proxy (a wildcard proxy by its own name)\nExample: ${CLI} proxy '*.example.com' --status 404`,
  (value) => apiPath`/logs/proxy/${value}`,
  'no records for this proxy in the window',
  { name: 'hostname', hint: 'hostname', description: 'the proxy\'s hostname', omit: 'proxy' },
)

const user = listing(
  'user',
  `Request records of one authenticated user\nExample: ${CLI} user alice --from 7d`,
  (value) => apiPath`/logs/user/${value}`,
  'no records of this user in the window',
  { name: 'username', hint: 'login', description: 'the user (GitHub login)', omit: 'user' },
)

const client = listing(
  'client',
  `Request records made with one OAuth client's tokens\nExample: ${CLI} client 7Hc2kq0xNw`,
  (value) => apiPath`/logs/client/${value}`,
  'no records of this client in the window',
  { name: 'client-id', hint: 'client-id', description: 'the OAuth client\'s id', omit: 'client-id' },
)

const errors = listing(
  'errors',
  `Server errors: 5xx answers and backend failures (refused, timeout, reset, …)\nExample: ${CLI} errors --from 1h\nExample: ${CLI} errors --backend-error timeout --host app.example.com`,
  () => '/logs/errors',
  'no errors in the window',
)

const request = defineApiCommand({
  meta: {
    name: 'request',
    description: `One request by its X-Request-Id, whichever node served it (looks through the whole retention)\nExample: ${CLI} request k3j9x2m1q0ab-1f`,
  },
  args: {
    'request-id': { type: 'positional', required: true, valueHint: 'request-id', description: 'the X-Request-Id the client got back' },
    ...WINDOW_ARGS,
    ...API_ARGS,
  },
  async run({ args }) {
    const query = { from: args.from, to: args.to, hours: optionalInteger('hours', args.hours) ?? undefined }
    const found = await createApiClient(args).get<{ records?: unknown }>(apiPath`/logs/request/${args['request-id']}`, query)
    if (args.json) return printJson(found)
    if (!Array.isArray(found?.records)) throw new CliError('unexpected answer from the server: expected the records of a request')
    // A client may reuse its own id: every record with it, newest first, a blank line between.
    found.records.forEach((record: Record<string, unknown>, index: number) => {
      if (index > 0 && !args.quiet) process.stdout.write('\n')
      printRecord(record, { ...args, idKey: 'request_id' })
    })
  },
})

export const logCommand = defineCommand({
  meta: { name: 'log', description: 'Request logs (search, errors, statistics, live tail), OAuth activity and log levels' },
  subCommands: { search, ip, host, proxy, user, client, errors, request, stats: statsCommand, follow: followCommand, oauth: oauthEventsCommand, level: levelCommand },
})
