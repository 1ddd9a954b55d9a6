/** `--help`: every runnable command carries an example; help shows it under EXAMPLES; summaries stay one line. */
import { describe, expect, test } from 'bun:test'
import { commandTree, examplesOf, renderHelp, summaryOf, type AnyCommand, type CommandNode } from '../../src/cli/client/index.ts'
import { PROGRAM, rootCommand } from '../../src/cli/index.ts'

function runnable(node: CommandNode, path: string[] = []): { path: string[]; node: CommandNode }[] {
  return [...(node.runnable ? [{ path, node }] : []), ...node.subcommands.flatMap((sub) => runnable(sub, [...path, sub.name]))]
}

describe('examples', () => {
  test('every runnable command has at least one "Example: oauth-https-proxy …" naming that command', async () => {
    const commands = runnable(await commandTree(rootCommand, PROGRAM))
    expect(commands.length).toBeGreaterThanOrEqual(8)
    const missing = commands
      .filter(({ path, node }) => !examplesOf(node.description).some((example) => example.includes(`${PROGRAM} ${path.join(' ')}`)))
      .map(({ path }) => path.join(' '))
    expect(missing).toEqual([])
  })

  test('help lists the examples under EXAMPLES, the full command name in USAGE, and subcommand summaries without examples', async () => {
    const login = await renderHelp((rootCommand.subCommands as Record<string, AnyCommand>).login!, [PROGRAM, 'login'], {}, false)
    expect(login).toContain(`USAGE ${PROGRAM} login`)
    expect(login).toContain(`EXAMPLES\n\n  $ ${PROGRAM} login --url https://api.example.com`)
    const root = await renderHelp(rootCommand, [PROGRAM], {}, false)
    expect(root).not.toContain('Example:')
    expect(root).toMatch(/login +Sign in with GitHub/)
  })

  test('summaryOf and examplesOf split a description', () => {
    const description = 'Create a proxy\nExample: oauth-https-proxy proxy create --hostname a.example.com\nExample: oauth-https-proxy proxy create --json'
    expect(summaryOf(description)).toBe('Create a proxy')
    expect(examplesOf(description)).toEqual(['oauth-https-proxy proxy create --hostname a.example.com', 'oauth-https-proxy proxy create --json'])
  })
})
