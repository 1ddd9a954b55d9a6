/** @module The command-line surface: `serve` and the host/API client command groups. */
export { keysCommand } from './keys.ts'
export { serveCommand } from './serve.ts'
export { tokenCommand } from './token.ts'
export { UsageError } from './usage-error.ts'
