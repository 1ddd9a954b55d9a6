/**
 * @module `oauth-https-proxy system config export|import` (GET and POST /system/config): the whole
 * configuration as one JSON or YAML document. An export with secrets is written 0600 from the moment
 * it exists; an import prints the plan (what is created, updated, deleted or unchanged per kind).
 */
import { defineCommand } from 'citty'
import { readFileSync } from 'node:fs'
import YAML from 'yaml'
import { API_ARGS, CliError, createApiClient, printable, printJson, printTable, redact, SERVER_ARGS, TOKEN_ARGS, writeFileAtomically, type Column } from '../client/index.ts'
import { choices, defineApiCommand, usageError } from './flags.ts'

const CLI = 'oauth-https-proxy system config'

const exportConfig = defineApiCommand({
  meta: {
    name: 'export',
    description:
      `Export the configuration (proxies, routes, external services, OAuth clients) as one document\n` +
      `Example: ${CLI} export --format yaml --output edge.yaml\n` +
      `Example: ${CLI} export --include-secrets --output backup.json`,
  },
  args: {
    format: { type: 'enum', options: choices('json', 'yaml'), default: 'json', valueHint: 'json|yaml', description: 'document format' },
    'include-secrets': { type: 'boolean', description: 'include GitHub client secrets and OAuth client secret hashes (the file is then 0600)' },
    output: { type: 'string', alias: 'o', valueHint: 'file', description: 'write to this file instead of standard output' },
    ...SERVER_ARGS,
    ...TOKEN_ARGS,
  },
  async run({ args }) {
    const query = { format: args.format, include_secrets: args['include-secrets'] ? 'true' : undefined }
    const document = await createApiClient(args).get('/system/config', query, args.format === 'yaml' ? 'text' : 'json')
    // The API answers YAML as text (the client hands back what is not JSON as it is).
    const text = typeof document === 'string' ? document : JSON.stringify(document, null, 2) + '\n'
    if (args.output === undefined) return void process.stdout.write(redact(text))
    writeFileAtomically(args.output, text, args['include-secrets'] ? 0o600 : 0o644)
    process.stderr.write(`wrote ${args.output}${args['include-secrets'] ? ' (mode 0600: it holds secrets)' : ''}\n`)
  },
})


interface KindPlan {
  readonly create: readonly string[]
  readonly update: readonly string[]
  readonly delete: readonly string[]
  readonly unchanged: number
}

interface ImportResult {
  readonly dry_run: boolean
  readonly changed: boolean
  /** certificates: absent in a server older than the CLI. */
  readonly plan: { proxies: KindPlan; routes: KindPlan; services: { external: KindPlan }; oauth_clients: KindPlan; certificates?: KindPlan }
  readonly warnings: readonly string[]
}

/** JSON first (a JSON document is also YAML, but JSON's errors are clearer for .json files), then YAML. */
export function readDocument(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  if (/\.json$/i.test(path)) {
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new CliError(`${path} is not valid JSON: ${(error as Error).message}`)
    }
  }
  try {
    return YAML.parse(text)
  } catch (error) {
    throw new CliError(`${path} is neither JSON nor YAML: ${(error as Error).message.split('\n')[0]}`)
  }
}

const PLAN_COLUMNS: Column[] = [
  { key: 'kind', header: 'kind' },
  { key: 'create', header: 'create' },
  { key: 'update', header: 'update' },
  { key: 'delete', header: 'delete' },
  { key: 'unchanged', header: 'unchanged' },
]

const kindsOf = (plan: ImportResult['plan']): [string, KindPlan][] => [
  ['proxies', plan.proxies],
  ['routes', plan.routes],
  ['external services', plan.services.external],
  ['oauth clients', plan.oauth_clients],
  ...(plan.certificates ? [['certificates', plan.certificates] as [string, KindPlan]] : []),
]

/** Counts per kind, then one line per change (+ create, ~ update, - delete), then what happened. */
function printPlan(result: ImportResult, quiet: boolean): void {
  if (typeof result.plan !== 'object' || result.plan === null || typeof result.plan.services !== 'object' || result.plan.services === null) {
    throw new CliError('unexpected answer from the server: the import result has no plan')
  }
  const kinds = kindsOf(result.plan)
  // Ids and warnings are the server's text: printable() keeps control characters off the terminal.
  const ids = (list: unknown) => (Array.isArray(list) ? list.map((id) => printable(String(id))) : [])
  const changes = kinds.flatMap(([kind, plan]) => [
    ...ids(plan?.create).map((id) => ['+', kind, id] as const),
    ...ids(plan?.update).map((id) => ['~', kind, id] as const),
    ...ids(plan?.delete).map((id) => ['-', kind, id] as const),
  ])
  for (const warning of Array.isArray(result.warnings) ? result.warnings : []) process.stderr.write(`warning: ${printable(String(warning), 2000)}\n`)
  if (quiet) {
    for (const [, , id] of changes) process.stdout.write(`${id}\n`)
    return
  }
  const rows = kinds.map(([kind, plan]) => ({ kind, create: ids(plan?.create).length, update: ids(plan?.update).length, delete: ids(plan?.delete).length, unchanged: plan?.unchanged }))
  printTable(rows, PLAN_COLUMNS)
  if (changes.length > 0) process.stdout.write(`\n${changes.map(([sign, kind, id]) => `${sign} ${kind.replace(/ies$/, 'y').replace(/s$/, '')} ${id}`).join('\n')}\n`)
  const outcome = !result.changed ? 'nothing to change' : result.dry_run ? 'dry run: nothing was changed' : 'applied'
  process.stderr.write(`${outcome}\n`)
}

const importConfig = defineApiCommand({
  meta: {
    name: 'import',
    description:
      `Import a configuration document (JSON or YAML): checked whole before anything is written\n` +
      `Example: ${CLI} import edge.yaml --dry-run\n` +
      `Example: ${CLI} import backup.json --prune`,
  },
  args: {
    file: { type: 'positional', required: true, valueHint: 'file', description: 'the document, as written by export' },
    'dry-run': { type: 'boolean', description: 'only show what would change' },
    prune: { type: 'boolean', description: 'also delete what the document\'s sections do not have' },
    ...API_ARGS,
  },
  async run({ args }) {
    const document = readDocument(args.file)
    const query = { dry_run: args['dry-run'] ? 'true' : undefined, prune: args.prune ? 'true' : undefined }
    const result = await createApiClient(args).post<ImportResult>('/system/config', document, query)
    if (args.json) return printJson(result)
    printPlan(result, args.quiet === true)
  },
})

export const systemConfigCommand = defineCommand({
  meta: { name: 'config', description: 'The whole configuration as one document: export and import' },
  subCommands: { export: exportConfig, import: importConfig },
})
