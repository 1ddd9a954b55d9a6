/**
 * @module The command-line checks every API command shares: unknown flags and stray arguments are
 * refused (citty alone would ignore them), repeatable flags are read from the raw arguments (citty
 * keeps only the last), and the values the CLI can judge itself (integers, NAME=VALUE) fail with exit
 * code 2 and one line. Everything else is the API's to judge: its 400 names the field.
 */
import { defineCommand, type ArgDef, type ArgsDef, type CommandContext, type CommandDef } from 'citty'
import { CliError, EXIT, outputModeOf } from '../client/index.ts'

export const usageError = (message: string) => new CliError(message, EXIT.usage)

/** The word that empties a nullable field or a list on update: `--cert-name none`, `--custom-header none`. */
export const NONE = 'none'

interface ScannedArgs {
  /** Every value each string flag was given, in order (canonical names). */
  readonly values: ReadonlyMap<string, readonly string[]>
  readonly positionals: readonly string[]
}

function flagDef(args: ArgsDef, name: string): [string, ArgDef] | undefined {
  for (const [key, def] of Object.entries(args)) {
    if (def.type === 'positional') continue
    const aliases = 'alias' in def && def.alias !== undefined ? [def.alias].flat() : []
    if (key === name || aliases.includes(name)) return [key, def]
  }
  return undefined
}

/** An enum flag's options as a mutable tuple type, which citty's EnumArgDef wants (`as const` would make it readonly). */
export const choices = <const T extends string>(...values: T[]): T[] => values

/** Walks the arguments as citty does, but refuses what citty would silently drop. */
export function scanArgs(rawArgs: readonly string[], args: ArgsDef): ScannedArgs {
  const values = new Map<string, string[]>()
  const positionals: string[] = []
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!
    if (arg === '--') {
      positionals.push(...rawArgs.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const body = arg.replace(/^--?/, '')
    const equals = body.indexOf('=')
    const name = equals < 0 ? body : body.slice(0, equals)
    const found = flagDef(args, name)
    // citty turns --no-<flag> into <flag>=false, for booleans that is the documented negation.
    if (!found && name.startsWith('no-')) {
      const negated = flagDef(args, name.slice(3))
      if (negated?.[1].type === 'boolean' && equals < 0) continue
    }
    if (!found) throw usageError(`unknown flag ${arg.startsWith('--') ? '--' : '-'}${name}`)
    const [key, def] = found
    if (def.type === 'boolean') continue
    const value = equals >= 0 ? body.slice(equals + 1) : rawArgs[++i]
    if (value === undefined) throw usageError(`--${key} needs a value`)
    values.set(key, [...(values.get(key) ?? []), value])
  }
  const declared = Object.values(args).filter((def) => def.type === 'positional').length
  if (positionals.length > declared) throw usageError(`unexpected argument ${JSON.stringify(positionals[declared])}`)
  return { values, positionals }
}

/** What a leaf's run gets besides citty's context: every value of a repeatable flag. */
export interface ScannedContext<T extends ArgsDef> {
  /** Every value of a repeatable flag (`--method GET --method POST`), or undefined when it was not given. */
  repeated(name: keyof T & string): string[] | undefined
}

/**
 * A leaf command whose arguments are checked before it runs: unknown flags, stray arguments, and
 * --json with --quiet are usage errors (exit 2).
 */
export function defineApiCommand<const T extends ArgsDef>(
  def: Omit<CommandDef<T>, 'run' | 'args'> & { args: T; run(context: CommandContext<T> & ScannedContext<T>): unknown },
): CommandDef<T> {
  return defineCommand({
    ...def,
    run(context) {
      const { values } = scanArgs(context.rawArgs, def.args)
      if ('json' in def.args) outputModeOf(context.args as { json?: boolean; quiet?: boolean })
      const repeated = (name: string) => (values.has(name) ? [...values.get(name)!] : undefined)
      return def.run({ ...context, repeated })
    },
  })
}

/** A whole number for `--name`, or a usage error; ranges are the API's to check (its 400 names the field). */
export function parseInteger(name: string, text: string): number {
  if (!/^-?[0-9]{1,15}$/.test(text.trim())) throw usageError(`--${name}: expected a whole number, got ${JSON.stringify(text)}`)
  return Number(text.trim())
}

/** An optional integer flag; `none` gives null where the field may be empty. */
export function optionalInteger(name: string, text: string | undefined, nullable = false): number | null | undefined {
  if (text === undefined) return undefined
  if (nullable && text === NONE) return null
  return parseInteger(name, text)
}

/** An optional text flag; `none` gives null where the field may be empty. */
export function optionalText(text: string | undefined, nullable = false): string | null | undefined {
  if (text === undefined) return undefined
  return nullable && text === NONE ? null : text
}

/** A required text flag that must not be empty (citty accepts `--hostname ""`). */
export function requiredText(name: string, text: string | undefined): string {
  if (text === undefined || text.trim() === '') throw usageError(`--${name} is required`)
  return text.trim()
}

/** `--custom-header NAME=VALUE` (repeatable) as a map; a lone `none` is the empty map. */
export function headerMap(name: string, pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined) return undefined
  if (pairs.length === 1 && pairs[0] === NONE) return {}
  const map: Record<string, string> = {}
  for (const pair of pairs) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw usageError(`--${name}: expected NAME=VALUE, got ${JSON.stringify(pair)}`)
    map[pair.slice(0, equals).trim()] = pair.slice(equals + 1)
  }
  return map
}

/** Drops the undefined entries: what a PUT or POST body sends is exactly what was given. */
export function given<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>
}

/** Two flags that cannot both be given. */
export function exclusive(flags: Readonly<Record<string, unknown>>): void {
  const set = Object.entries(flags).filter(([, value]) => value !== undefined && value !== false)
  if (set.length > 1) throw usageError(`${set.map(([name]) => `--${name}`).join(' and ')} cannot be combined`)
}
