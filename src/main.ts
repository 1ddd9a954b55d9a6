#!/usr/bin/env bun
/** @module Entry point: the citty root command. `serve` is the default; every other group is CLI. */
import { defineCommand, runCommand, showUsage } from 'citty'
import { keysCommand, serveCommand, tokenCommand, UsageError } from './cli/index.ts'
import { ConfigError } from './config/index.ts'
import { StartupError } from './lib/index.ts'
import { VERSION } from './version.ts'

const root = defineCommand({
  meta: { name: 'oauth-https-proxy', version: VERSION, description: 'HTTPS edge with ACME certificates and an OAuth 2.1 authorization server' },
  subCommands: { serve: serveCommand, token: tokenCommand, keys: keysCommand },
})

const EXIT_USAGE = 2
const EXIT_FAILURE = 1

async function main(argv: string[]): Promise<void> {
  // citty colours its help and errors; piped into a file or another program that is noise.
  if (!process.stdout.isTTY || !process.stderr.isTTY) process.env.NO_COLOR = '1'
  // `serve` is the default: no command, or only flags, means serve.
  const rawArgs = argv.length === 0 || argv[0]!.startsWith('-') && !['--help', '-h', '--version', '-v'].includes(argv[0]!) ? ['serve', ...argv] : argv
  if (rawArgs.includes('--version') && rawArgs.length === 1) return void console.log(VERSION)
  if (rawArgs.some((arg) => arg === '--help' || arg === '-h')) return showHelp(rawArgs)
  try {
    await runCommand(root, { rawArgs })
  } catch (error) {
    process.exit(reportFailure(error))
  }
}

async function showHelp(rawArgs: string[]): Promise<void> {
  let command = root
  let parent: typeof root | undefined
  for (const arg of rawArgs) {
    const sub = (command.subCommands as Record<string, typeof root> | undefined)?.[arg]
    if (!sub) break
    parent = command
    command = sub
  }
  await showUsage(command, parent)
}

/** One line on stderr for what a user can fix; a stack trace only for our own bugs. */
function reportFailure(error: unknown): number {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`oauth-https-proxy: ${problem}`)
    return EXIT_USAGE
  }
  if (error instanceof UsageError) {
    console.error(`oauth-https-proxy: ${error.message}`)
    return EXIT_USAGE
  }
  if (error instanceof StartupError) {
    console.error(`oauth-https-proxy: ${error.message}`)
    return EXIT_FAILURE
  }
  // citty reports unknown commands (code E_UNKNOWN_COMMAND) and missing required flags (code EARG) as CLIErrors.
  if (error instanceof Error && error.name === 'CLIError') {
    console.error(`oauth-https-proxy: ${error.message}`)
    return EXIT_USAGE
  }
  console.error(error)
  return EXIT_FAILURE
}

await main(process.argv.slice(2))
