/** @module The root command: every command of `oauth-https-proxy`, in the order `--help` lists them. */
import { defineCommand, type CommandDef } from 'citty'
import { VERSION } from '../version.ts'
import { commandGroups } from './commands/index.ts'
import { createCompletionCommand } from './completion.ts'
import { keysCommand } from './keys.ts'
import { loginCommand } from './login.ts'
import { logoutCommand } from './logout.ts'
import { serveCommand } from './serve.ts'
import { statusCommand } from './status.ts'
import { tokenCommand } from './token.ts'

export const PROGRAM = 'oauth-https-proxy'

export const rootCommand: CommandDef = defineCommand({
  meta: { name: PROGRAM, version: VERSION, description: 'HTTPS edge with ACME certificates and an OAuth 2.1 authorization server' },
  subCommands: {
    serve: serveCommand,
    login: loginCommand,
    logout: logoutCommand,
    status: statusCommand,
    ...commandGroups,
    token: tokenCommand,
    keys: keysCommand,
    completion: createCompletionCommand(() => rootCommand, PROGRAM),
  },
})
