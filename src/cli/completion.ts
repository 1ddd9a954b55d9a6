/** @module `oauth-https-proxy completion bash|zsh|fish`: prints a completion script for the whole command tree. */
import { defineCommand } from 'citty'
import { commandTree, completionScript, SHELLS, type AnyCommand, type Shell } from './client/index.ts'
import { UsageError } from './usage-error.ts'

const isShell = (name: string): name is Shell => (SHELLS as readonly string[]).includes(name)

/** `root` is asked for lazily: the completion command is itself part of the tree it describes. */
export function createCompletionCommand(root: () => AnyCommand, program: string) {
  return defineCommand({
    meta: {
      name: 'completion',
      description: `Print a shell completion script (${SHELLS.join(', ')})\nExample: source <(${program} completion bash)\nExample: ${program} completion fish > ~/.config/fish/completions/${program}.fish`,
    },
    args: { shell: { type: 'positional', required: true, description: SHELLS.join(', '), valueHint: SHELLS.join('|') } },
    async run({ args }) {
      if (!isShell(args.shell)) throw new UsageError(`completion: expected a shell, ${SHELLS.join(', ')}, got ${JSON.stringify(args.shell)}`)
      process.stdout.write(completionScript(args.shell, await commandTree(root(), program), program))
    },
  })
}
