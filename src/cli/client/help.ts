/**
 * @module `--help`: citty's usage text (colour only where all output may have it) plus an EXAMPLES section. The convention: a command's
 * `meta.description` is its one-line summary, followed by lines that start with "Example: ", e.g.
 *   description: 'Create a proxy\nExample: oauth-https-proxy proxy create --hostname app.example.com --target-url http://127.0.0.1:3000'
 * Listings of subcommands show only the summary; the command's own help lists every example.
 */
import { renderUsage, type CommandDef } from 'citty'
import type { Env } from './args.ts'
import { resolve, type AnyCommand } from './command-tree.ts'
import { isColorAllowed } from './output.ts'

export const EXAMPLE_PREFIX = 'Example: '

/** SGR sequences (colour, bold, underline), as citty writes them. */
export const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '')

/** The description without its example lines. */
export function summaryOf(description: string | undefined): string {
  return (description ?? '')
    .split('\n')
    .filter((line) => !line.startsWith(EXAMPLE_PREFIX))
    .join(' ')
    .trim()
}

export function examplesOf(description: string | undefined): string[] {
  return (description ?? '')
    .split('\n')
    .filter((line) => line.startsWith(EXAMPLE_PREFIX))
    .map((line) => line.slice(EXAMPLE_PREFIX.length).trim())
}

async function withSummary(command: AnyCommand, name: string): Promise<AnyCommand> {
  const meta = (await resolve(command.meta ?? {})) ?? {}
  return { ...command, meta: { ...meta, name, description: summaryOf(meta.description) } }
}

/**
 * The help of the command at `path` (["oauth-https-proxy", "proxy", "create"]): citty's usage with the
 * full command name, then the command's examples. Colour follows the same rules as all output, for
 * the stream it goes to (`isTTY`).
 */
export async function renderHelp(command: AnyCommand, path: readonly string[], env: Env = process.env, isTTY = process.stdout.isTTY === true): Promise<string> {
  const subs = (await resolve(command.subCommands ?? {})) ?? {}
  const summarised: AnyCommand = {
    ...(await withSummary(command, path[path.length - 1]!)),
    subCommands: Object.fromEntries(await Promise.all(Object.entries(subs).map(async ([name, sub]) => [name, await withSummary(await resolve(sub), name)]))),
  }
  const parent: CommandDef | undefined = path.length > 1 ? { meta: { name: path.slice(0, -1).join(' ') } } : undefined
  // citty decides on colour once, when it loads, and only honours NO_COLOR=1: the decision is made here.
  const color = isColorAllowed(isTTY, env)
  const rendered = await renderUsage(summarised, parent)
  const usage = color ? rendered : stripAnsi(rendered)
  const meta = (await resolve(command.meta ?? {})) ?? {}
  const examples = examplesOf(meta.description)
  if (examples.length === 0) return usage
  const heading = color ? '\x1b[1mEXAMPLES\x1b[22m' : 'EXAMPLES'
  return `${usage}\n${heading}\n\n${examples.map((example) => `  $ ${example}`).join('\n')}`
}
