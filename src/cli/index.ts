/** @module The command-line surface: `serve`, the host commands and the API client commands. */
export { CliError, EXIT, printable, renderHelp, stripAnsi } from './client/index.ts'
export { PROGRAM, rootCommand } from './root.ts'
export { UsageError } from './usage-error.ts'
export { runMain } from './run.ts'
