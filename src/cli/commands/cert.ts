/**
 * @module `oauth-https-proxy cert list|show|create|renew|status|convert-to-production|delete|export`
 * (/certificates). An order runs in the background on the server; `--wait[=SECONDS]` follows it through
 * `/status?wait=` (pending → validating → issued) and exits 1 with the CA's error when it fails.
 */
import { defineCommand } from 'citty'
import { join } from 'node:path'
import {
  API_ARGS,
  apiPath,
  CliError,
  createApiClient,
  createProgress,
  printJsonOrTable,
  printable,
  printRecord,
  SERVER_ARGS,
  TOKEN_ARGS,
  writeFileAtomically,
  type ApiArgs,
  type ApiClient,
  type Column,
} from '../client/index.ts'
import { defineApiCommand, exclusive, given, parseInteger, usageError } from './flags.ts'
import { printDone, shortTime } from './results.ts'

const CLI = 'oauth-https-proxy cert'

type Status = 'pending' | 'validating' | 'issued' | 'failed'

/** What an order answers (the certificate's view); only its name is read here. */
type OrderView = Record<string, unknown> & { readonly cert_name: string }

interface CertificateRow {
  readonly cert_name: string
  readonly domains: readonly string[]
  readonly status: Status
  readonly staging: boolean
  readonly not_after: string | null
  readonly error: string | null
  readonly used_by: readonly string[]
}

interface StatusAnswer {
  readonly status: Status
  readonly error: string | null
  readonly not_after: string | null
}

const COLUMNS: Column<CertificateRow>[] = [
  { key: 'cert_name', header: 'name' },
  { key: 'domains', header: 'domains' },
  { key: 'status', header: 'status' },
  { key: 'not_after', header: 'expires', format: shortTime },
  { key: 'staging', header: 'staging' },
  { key: 'used_by', header: 'used by' },
]

const NAME_ARG = { name: { type: 'positional', required: true, valueHint: 'name', description: 'the certificate\'s name (see: oauth-https-proxy cert list)' } } as const

/** Without --wait=SECONDS, how long --wait follows an order: an HTTP-01 order normally settles within a minute. */
const DEFAULT_WAIT_SEC = 300
/**
 * Each /status?wait= round, below the client's 30 s request deadline. The server answers early only when
 * the order settles, so on a terminal the rounds are short: the state shown (pending → validating) stays current.
 */
const ROUND_SEC = { live: 1, plain: 25 }

const WAIT_ARG = {
  wait: { type: 'boolean', description: `wait until it is issued or failed (exit 1 on failed), at most ${DEFAULT_WAIT_SEC} s; --wait=SECONDS for another limit` },
} as const

/**
 * `--wait` is a boolean to citty (so `--wait --json` does not take --json as its value); a limit is
 * given as `--wait=SECONDS`, which citty reads as true and drops, so it is read here.
 */
function waitLimitSec(rawArgs: readonly string[]): number | undefined {
  const end = rawArgs.indexOf('--')
  const given = (end < 0 ? rawArgs : rawArgs.slice(0, end)).filter((arg) => arg === '--wait' || arg === '--no-wait' || arg.startsWith('--wait='))
  const last = given[given.length - 1]
  if (last === undefined || last === '--no-wait' || last === '--wait=false') return undefined
  if (last === '--wait' || last === '--wait=true') return DEFAULT_WAIT_SEC
  const seconds = parseInteger('wait', last.slice('--wait='.length))
  if (seconds < 1) throw usageError('--wait: expected at least 1 second')
  return seconds
}

/** Every part but the name comes from the server: printable() keeps its control characters off the terminal. */
const line = (name: string, answer: StatusAnswer) =>
  printable(`certificate ${name}: ${answer.status}${answer.status === 'issued' && answer.not_after ? `, valid until ${answer.not_after}` : ''}`)

/**
 * The chain as the API answered it, if it looks like PEM: printable ASCII and newlines only. Anything
 * else (an escape sequence, a stray NUL) is refused rather than written to a terminal or a file.
 */
function chainOf(name: string, certificate: { certificate_pem?: unknown; status?: unknown }): string {
  const pem = certificate.certificate_pem
  if (pem === null || pem === undefined) throw new CliError(`certificate ${printable(name)} has no chain yet (status ${printable(String(certificate.status))})`)
  if (typeof pem !== 'string' || !/^[\x20-\x7e\r\n]+$/.test(pem) || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CliError(`certificate ${printable(name)}: the server's certificate_pem is not a PEM chain; nothing was written`)
  }
  return pem
}

/**
 * Follows the order until it is issued (returns) or failed (exit 1, the CA's error), within `limitSec`.
 * On a terminal a spinner shows the current state; into a pipe only the final line is written (stderr).
 */
async function waitForOrder(client: ApiClient, name: string, limitSec: number): Promise<StatusAnswer> {
  const isTerminal = process.stderr.isTTY === true
  // Into a pipe nothing is drawn while waiting: the one line comes at the end.
  const progress = createProgress({ isTTY: isTerminal, write: (text) => (isTerminal ? process.stderr.write(text) : true) }, process.env)
  const deadlineMs = Date.now() + limitSec * 1000
  const poll = (waitSec: number) => client.get<StatusAnswer>(apiPath`/certificates/${name}/status`, { wait: waitSec })
  let answer = await poll(0)
  while (answer.status !== 'issued' && answer.status !== 'failed') {
    const shown = answer.status
    answer = await progress.during(printable(`certificate ${name}: ${shown}`), async () => {
      let next = answer
      while (next.status === shown) {
        const remainingSec = Math.ceil((deadlineMs - Date.now()) / 1000)
        if (remainingSec <= 0) return next
        next = await poll(Math.min(remainingSec, isTerminal ? ROUND_SEC.live : ROUND_SEC.plain))
      }
      return next
    })
    if (answer.status === shown && Date.now() >= deadlineMs) {
      throw new CliError(`certificate ${name} is still ${printable(String(answer.status))} after ${limitSec} s; follow it with: ${CLI} status ${name} --wait`)
    }
  }
  if (answer.status === 'failed') throw new CliError(`certificate ${name} failed: ${printable(String(answer.error ?? 'no error was recorded'))}`)
  process.stderr.write(`${line(name, answer)}\n`)
  return answer
}

/** After an order: the view as answered, or, with --wait, the certificate once issued (as GET answers it). */
async function printOrder(args: ApiArgs, rawArgs: readonly string[], client: ApiClient, view: OrderView): Promise<void> {
  const limitSec = waitLimitSec(rawArgs)
  if (limitSec === undefined) return printRecord(view, { ...args, idKey: 'cert_name' })
  await waitForOrder(client, view.cert_name, limitSec)
  printCertificate(await client.get(apiPath`/certificates/${view.cert_name}`), args)
}

/** A record for people without the PEM (one line of base64 helps no one); --json is the API's answer. */
function printCertificate(certificate: Record<string, unknown>, args: ApiArgs): void {
  if (args.json) return printRecord(certificate, args)
  const { certificate_pem: _pem, ...rest } = certificate
  printRecord(rest, { ...args, idKey: 'cert_name' })
}

/** The private key as answered, if it looks like PEM (see chainOf). */
function keyOf(name: string, answer: { private_key_pem?: unknown }): string {
  const pem = answer.private_key_pem
  if (typeof pem !== 'string' || !/^[\x20-\x7e\r\n]+$/.test(pem) || !pem.includes('-----BEGIN ')) {
    throw new CliError(`certificate ${printable(name)}: the server's private_key_pem is not a PEM key; nothing was written`)
  }
  return pem
}

const list = defineApiCommand({
  meta: { name: 'list', description: `List certificates with their status, expiry and the proxies that serve them\nExample: ${CLI} list\nExample: ${CLI} list --json` },
  args: { ...API_ARGS },
  async run({ args }) {
    printJsonOrTable<CertificateRow>(await createApiClient(args).get('/certificates'), COLUMNS, { ...args, empty: 'no certificates' })
  },
})

const show = defineApiCommand({
  meta: {
    name: 'show',
    description: `Show one certificate (never its key); --pem prints only the chain\nExample: ${CLI} show app.example.com\nExample: ${CLI} show app.example.com --pem > app.crt`,
  },
  args: { ...NAME_ARG, pem: { type: 'boolean', description: 'print the certificate chain (PEM) only' }, ...API_ARGS },
  async run({ args }) {
    exclusive({ pem: args.pem, json: args.json, quiet: args.quiet })
    const certificate = await createApiClient(args).get<Record<string, unknown> & { certificate_pem: string | null; status: string }>(apiPath`/certificates/${args.name}`)
    if (!args.pem) return printCertificate(certificate, args)
    process.stdout.write(chainOf(args.name, certificate))
  },
})

const create = defineApiCommand({
  meta: {
    name: 'create',
    description:
      `Order a certificate (ACME HTTP-01) for one or more domains; the name defaults to the first domain\n` +
      `Example: ${CLI} create --domain app.example.com --wait\n` +
      `Example: ${CLI} create --cert-name shop --domain shop.example.com --domain www.shop.example.com --email ops@example.com --staging --wait=120`,
  },
  args: {
    domain: { type: 'string', required: true, valueHint: 'domain', description: 'a domain name it covers; repeatable (up to 100, no wildcards)' },
    'cert-name': { type: 'string', valueHint: 'name', description: 'its name (default: the first domain); proxies serve it by cert_name or hostname' },
    email: { type: 'string', valueHint: 'address', description: 'ACME account contact [default: the server\'s ACME_EMAIL]' },
    staging: { type: 'boolean', description: 'order from the staging directory (ACME_STAGING_URL)', negativeDescription: 'order from production (default)' },
    'acme-directory-url': { type: 'string', valueHint: 'url', description: 'order from this ACME directory instead' },
    ...WAIT_ARG,
    ...API_ARGS,
  },
  async run({ args, rawArgs, repeated }) {
    const domains = (repeated('domain') ?? []).map((domain) => domain.trim())
    if (domains.length === 0 || domains.some((domain) => domain === '')) throw usageError('--domain is required')
    waitLimitSec(rawArgs)
    const body = { domains, ...given({ cert_name: args['cert-name'], email: args.email, staging: args.staging, acme_directory_url: args['acme-directory-url'] }) }
    const client = createApiClient(args)
    await printOrder(args, rawArgs, client, await client.post<OrderView>('/certificates', body))
  },
})

const renew = defineApiCommand({
  meta: {
    name: 'renew',
    description: `Order a certificate again now (same domains and directory); the current one is served until then\nExample: ${CLI} renew app.example.com --wait`,
  },
  args: { ...NAME_ARG, ...WAIT_ARG, ...API_ARGS },
  async run({ args, rawArgs }) {
    waitLimitSec(rawArgs)
    const client = createApiClient(args)
    await printOrder(args, rawArgs, client, await client.post<OrderView>(apiPath`/certificates/${args.name}/renew`))
  },
})

const convertToProduction = defineApiCommand({
  meta: {
    name: 'convert-to-production',
    description: `Order a staging certificate again from the production directory\nExample: ${CLI} convert-to-production app.example.com --wait`,
  },
  args: { ...NAME_ARG, ...WAIT_ARG, ...API_ARGS },
  async run({ args, rawArgs }) {
    waitLimitSec(rawArgs)
    const client = createApiClient(args)
    await printOrder(args, rawArgs, client, await client.post<OrderView>(apiPath`/certificates/${args.name}/convert-to-production`))
  },
})

const status = defineApiCommand({
  meta: {
    name: 'status',
    description: `Show a certificate's issuance status; --wait follows it until issued or failed\nExample: ${CLI} status app.example.com\nExample: ${CLI} status app.example.com --wait=60`,
  },
  args: { ...NAME_ARG, ...WAIT_ARG, ...API_ARGS },
  async run({ args, rawArgs }) {
    const limitSec = waitLimitSec(rawArgs)
    const client = createApiClient(args)
    const answer = limitSec === undefined ? await client.get<StatusAnswer>(apiPath`/certificates/${args.name}/status`) : await waitForOrder(client, args.name, limitSec)
    printRecord({ ...answer }, { ...args, idKey: 'status' })
  },
})

const remove = defineApiCommand({
  meta: {
    name: 'delete',
    description: `Delete a certificate and its key; proxies that served it fall back to their own order\nExample: ${CLI} delete app.example.com`,
  },
  args: { ...NAME_ARG, ...API_ARGS },
  async run({ args }) {
    const client = createApiClient(args)
    const { used_by: answered } = await client.get<{ used_by?: unknown }>(apiPath`/certificates/${args.name}`)
    await client.delete(apiPath`/certificates/${args.name}`)
    const usedBy = Array.isArray(answered) ? answered.map((hostname) => printable(String(hostname), 253)) : []
    const fallback = usedBy.length > 0 ? `; the proxies that served it (${usedBy.join(', ')}) fall back to their own certificate order` : ''
    printDone(`deleted certificate ${args.name}${fallback}`, args.name, args)
  },
})

const exportFiles = defineApiCommand({
  meta: {
    name: 'export',
    description:
      `Write NAME.crt (the chain) and, with --include-key (admin), NAME.key into a directory, both mode 0600\n` +
      `Example: ${CLI} export app.example.com --output /etc/ssl/app\n` +
      `Example: ${CLI} export app.example.com -o . --include-key`,
  },
  args: {
    ...NAME_ARG,
    output: { type: 'string', alias: 'o', valueHint: 'dir', description: 'the directory to write into (default: the current one)' },
    'include-key': { type: 'boolean', description: 'also write the private key (needs the admin scope; the read is logged on the server)' },
    ...SERVER_ARGS,
    ...TOKEN_ARGS,
  },
  async run({ args }) {
    const client = createApiClient(args)
    const chain = chainOf(args.name, await client.get<{ certificate_pem: string | null; status: string }>(apiPath`/certificates/${args.name}`))
    // Both are fetched before anything is written: a refused key read leaves no half export behind.
    const key = args['include-key'] ? keyOf(args.name, await client.get<{ private_key_pem?: unknown }>(apiPath`/certificates/${args.name}/private-key`)) : null
    const directory = args.output ?? '.'
    const files: [string, string][] = [[join(directory, `${args.name}.crt`), chain]]
    if (key !== null) files.push([join(directory, `${args.name}.key`), key])
    for (const [path, text] of files) {
      writeFileAtomically(path, text, 0o600)
      process.stderr.write(`wrote ${path} (mode 0600)\n`)
    }
  },
})

export const certCommand = defineCommand({
  meta: { name: 'cert', description: 'Certificates: ordered over ACME (HTTP-01), served by the proxies that name them' },
  subCommands: { list, show, create, renew, status, 'convert-to-production': convertToProduction, delete: remove, export: exportFiles },
})
