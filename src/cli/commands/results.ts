/**
 * @module What the command groups print beyond the client's tables and records: the outcome of a
 * delete (the API answers 204, so --json prints nothing), and times in a table's width.
 */
import { CliError, type ApiArgs } from '../client/index.ts'

/** Deleted: the id with --quiet, nothing with --json (no body), a line for people on stderr otherwise. */
export function printDone(what: string, id: string, args: Pick<ApiArgs, 'json' | 'quiet'>): void {
  if (args.json) return
  if (args.quiet) return void process.stdout.write(`${id}\n`)
  process.stderr.write(`${what}\n`)
}

/** "2026-11-27T12:00:00.000Z" → "2026-11-27 12:00" for tables (records and --json keep the full time). */
export function shortTime(value: unknown): string {
  if (typeof value === 'number') return shortTime(new Date(value * 1000).toISOString())
  if (typeof value !== 'string' || value === '') return '-'
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(value)
  return match ? `${match[1]} ${match[2]}` : value
}

/** The API's 409 tells HTTP callers to add ?force=true; on the command line that is --force. */
export async function deleteWithForceHint<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof CliError && error.message.includes('?force=true')) throw new CliError(error.message.replace('?force=true', '--force'), error.exitCode)
    throw error
  }
}
