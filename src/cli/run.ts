/** @module Runs the root command (root.ts) with the arguments the entry point (src/main.ts) settled on. */
import { runCommand, type CommandDef } from 'citty'
import { ConfigError } from '../config/index.ts'
import { StartupError } from '../lib/index.ts'
import { VERSION } from '../version.ts'
import { CliError, EXIT, printable, renderHelp, stripAnsi } from './client/index.ts'
import { PROGRAM, rootCommand as root } from './root.ts'
import { UsageError } from './usage-error.ts'

/** `rawArgs` names its command: src/main.ts has put `serve` first where none was given. */
export async function runMain(rawArgs: string[]): Promise<void> {
  if (rawArgs.includes('--version') && rawArgs.length === 1) return void console.log(VERSION)
  try {
    if (rawArgs.some((arg) => arg === '--help' || arg === '-h')) return await showHelp(rawArgs)
    await runCommand(root, { rawArgs })
  } catch (error) {
    // A group without its command (`oauth-https-proxy proxy`): its help says what it has.
    if ((error as { code?: string }).code === 'E_NO_COMMAND') process.stderr.write(`${await helpText(rawArgs, process.stderr.isTTY === true)}\n`)
    process.exit(reportFailure(error))
  }
}

/** The help of the deepest command named before --help, with its examples. */
async function showHelp(rawArgs: string[]): Promise<void> {
  process.stdout.write(`${await helpText(rawArgs)}\n`)
}

async function helpText(rawArgs: string[], isTTY = process.stdout.isTTY === true): Promise<string> {
  let command = root
  const path = [PROGRAM]
  for (const arg of rawArgs) {
    const sub = (command.subCommands as Record<string, CommandDef> | undefined)?.[arg]
    if (!sub) break
    command = sub
    path.push(arg)
  }
  return renderHelp(command, path, process.env, isTTY)
}

/**
 * One line on stderr for what a user can fix; a stack trace only for our own bugs. Every line passes
 * printable(): whatever a message quotes (a server's words, an argument) carries no control sequence and
 * no token in use to the terminal.
 */
function reportFailure(error: unknown): number {
  const say = (message: string) => console.error(`${PROGRAM}: ${printable(message, 4000)}`)
  if (error instanceof ConfigError) {
    for (const problem of error.problems) say(problem)
    return EXIT.usage
  }
  if (error instanceof CliError) {
    say(error.message)
    return error.exitCode
  }
  if (error instanceof UsageError) {
    say(error.message)
    return EXIT.usage
  }
  if (error instanceof StartupError) {
    say(error.message)
    return EXIT.error
  }
  // citty reports unknown commands (code E_UNKNOWN_COMMAND), a group without its command (E_NO_COMMAND)
  // and missing required flags (code EARG) as CLIErrors.
  if (error instanceof Error && error.name === 'CLIError') {
    // citty colours names in its messages whatever the terminal: an error line never needs colour.
    say(stripAnsi(error.message))
    return EXIT.usage
  }
  // Our own bug: the stack helps a report, line by line through the same filter.
  const trace = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)
  for (const line of trace.split('\n')) console.error(printable(line, 4000))
  return EXIT.error
}

