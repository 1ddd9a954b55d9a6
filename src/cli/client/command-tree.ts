/** @module The citty command tree resolved into plain data: names, descriptions, flags, subcommands (for help and completion). */
import type { ArgsDef, CommandDef, Resolvable } from 'citty'

export interface FlagNode {
  readonly name: string
  readonly aliases: readonly string[]
  readonly description: string
  readonly takesValue: boolean
  /** Values an enum flag accepts. */
  readonly options: readonly string[]
}

export interface CommandNode {
  readonly name: string
  readonly description: string
  readonly hidden: boolean
  /** Whether it runs something itself (a leaf), rather than only grouping subcommands. */
  readonly runnable: boolean
  readonly flags: readonly FlagNode[]
  readonly positionals: readonly { readonly name: string; readonly options: readonly string[] }[]
  readonly subcommands: readonly CommandNode[]
}

/** Any command of the tree (citty's CommandDef is invariant in its args type). */
export type AnyCommand = CommandDef<any>

export async function resolve<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value
}

export async function commandTree(command: AnyCommand, name: string): Promise<CommandNode> {
  const meta = (await resolve(command.meta ?? {})) ?? {}
  const args = ((await resolve(command.args ?? {})) ?? {}) as ArgsDef
  const subs = ((await resolve(command.subCommands ?? {})) ?? {}) as Record<string, Resolvable<AnyCommand>>
  const flags: FlagNode[] = []
  const positionals: { name: string; options: string[] }[] = []
  for (const [argName, def] of Object.entries(args)) {
    const options = def.type === 'enum' ? [...((def as { options?: string[] }).options ?? [])] : []
    if (def.type === 'positional') positionals.push({ name: argName, options })
    else {
      const alias = (def as { alias?: string | string[] }).alias
      flags.push({ name: argName, aliases: alias === undefined ? [] : [alias].flat(), description: def.description ?? '', takesValue: def.type !== 'boolean', options })
    }
  }
  const subcommands: CommandNode[] = []
  for (const [subName, sub] of Object.entries(subs)) subcommands.push(await commandTree(await resolve(sub), subName))
  return { name, description: meta.description ?? '', hidden: meta.hidden === true, runnable: typeof command.run === 'function', flags, positionals, subcommands }
}
