/**
 * @module `oauth-https-proxy log level show|set|reset` (/logs/level): the server's log levels at run
 * time, per component, without a restart. A change reaches every node; a restart starts again from
 * LOG_LEVEL. `default` names the default level, which every component without its own follows.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, CliError, createApiClient, printJson, printRecord, printTable, type ApiArgs, type Column } from '../client/index.ts'
import { defineApiCommand, requiredText } from './flags.ts'

const CLI = 'oauth-https-proxy log level'
/** The word for the default level where a component goes. */
const DEFAULT = 'default'

interface LevelTable {
  readonly node: string
  readonly default: string
  readonly components: { readonly name: string; readonly level: string; readonly own: boolean }[]
}

const COLUMNS: Column<LevelTable['components'][number]>[] = [
  { key: 'name', header: 'component' },
  { key: 'level', header: 'level' },
  { key: 'own', header: 'set', format: (own) => (own ? 'own' : DEFAULT) },
]

/** The table as answered: the node and default first, then each component (--quiet: their names). */
function printLevels(table: LevelTable, args: Pick<ApiArgs, 'json' | 'quiet'>): void {
  if (args.json) return printJson(table)
  if (typeof table !== 'object' || table === null || !Array.isArray(table.components)) throw new CliError('unexpected answer from the server: expected the log levels')
  if (args.quiet) return printTable(table.components, COLUMNS, { quiet: true })
  printRecord({ node: table.node, default: table.default })
  process.stdout.write('\n')
  printTable(table.components, COLUMNS)
}

const COMPONENT_ARG = {
  component: { type: 'positional', required: true, valueHint: 'component', description: `a component (api, auth, certs, edge, events, logs, oauth, …) or "${DEFAULT}"` },
} as const

const show = defineApiCommand({
  meta: { name: 'show', description: `The log levels of the node that answers: the default and each component's\nExample: ${CLI} show` },
  args: { ...API_ARGS },
  async run({ args }) {
    printLevels(await createApiClient(args).get<LevelTable>('/logs/level'), args)
  },
})

const set = defineApiCommand({
  meta: {
    name: 'set',
    description: `Change a component's log level, or the default, on every node until they restart\nExample: ${CLI} set oauth debug\nExample: ${CLI} set default warn`,
  },
  args: {
    ...COMPONENT_ARG,
    level: { type: 'positional', required: true, valueHint: 'level', description: 'debug, info, warn, error or silent' },
    ...API_ARGS,
  },
  async run({ args }) {
    const component = requiredText('component', args.component)
    const body = { level: args.level, ...(component === DEFAULT ? {} : { component }) }
    printLevels(await createApiClient(args).put<LevelTable>('/logs/level', body), args)
  },
})

const reset = defineApiCommand({
  meta: { name: 'reset', description: `Put a component back on the default log level, on every node\nExample: ${CLI} reset oauth` },
  args: { ...COMPONENT_ARG, ...API_ARGS },
  async run({ args }) {
    if (args.component === DEFAULT) throw new CliError(`the default has no level to go back to; set it: ${CLI} set default LEVEL`, 2)
    printLevels(await createApiClient(args).delete<LevelTable>(apiPath`/logs/level/${args.component}`), args)
  },
})

export const levelCommand = defineCommand({
  meta: { name: 'level', description: 'Log levels per component, changed at run time' },
  subCommands: { show, set, reset },
})
