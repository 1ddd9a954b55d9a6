/** `completion bash|zsh|fish`: scripts generated from the command tree; bash's is checked by bash itself. */
import { afterAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { commandTree, completionScript, type CommandNode } from '../../src/cli/client/index.ts'
import { PROGRAM, rootCommand } from '../../src/cli/index.ts'
import { baseEnv, cleanupSpawned, makeTempDir, runCli } from '../support/serve.ts'

afterAll(() => cleanupSpawned())

const GROUPS = ['serve', 'login', 'logout', 'status', 'system', 'log', 'token', 'keys', 'completion']

/** Runs the bash completion function as bash would for the words typed so far; returns the candidates. */
async function bashComplete(script: string, words: string[], fn = '_oauth_https_proxy'): Promise<string[]> {
  const dir = makeTempDir('ohp-completion-')
  const file = join(dir, 'completion.bash')
  writeFileSync(file, script)
  const line = words.map((word) => `'${word}'`).join(' ')
  const proc = Bun.spawn(['bash', '-c', `source ${file}; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`], { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(err).toBe('')
  expect(code).toBe(0)
  return out.split('\n').filter(Boolean)
}

describe('completion scripts', () => {
  test('each shell: produced by the command, naming every group', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const result = await runCli(['completion', shell], { env: baseEnv() })
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      for (const group of GROUPS) expect(result.stdout).toContain(group)
      expect(result.stdout).not.toContain('\x1b')
    }
    const wrong = await runCli(['completion', 'powershell'], { env: baseEnv() })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toBe('oauth-https-proxy: completion: expected a shell, bash, zsh, fish, got "powershell"\n')
  })

  test('bash: the script parses (bash -n) and completes commands, subcommands and flags at each level', async () => {
    const script = completionScript('bash', await commandTree(rootCommand, PROGRAM), PROGRAM)
    const check = Bun.spawnSync(['bash', '-n'], { stdin: new TextEncoder().encode(script) })
    expect(check.stderr.toString()).toBe('')
    expect(check.exitCode).toBe(0)
    expect(await bashComplete(script, [PROGRAM, ''])).toEqual(expect.arrayContaining([...GROUPS, '--help', '--version']))
    expect(await bashComplete(script, [PROGRAM, 'lo'])).toEqual(['login', 'logout', 'log'])
    expect(await bashComplete(script, [PROGRAM, 'log', 'le'])).toEqual(['level'])
    expect(await bashComplete(script, [PROGRAM, 'log', 'follow', '--cl'])).toEqual(['--client-id'])
    expect(await bashComplete(script, [PROGRAM, 'keys', ''])).toEqual(['rotate', 'list', '--help'])
    expect(await bashComplete(script, [PROGRAM, 'system', 'info', '--'])).toEqual(expect.arrayContaining(['--url', '--token', '--json', '--quiet', '--help']))
    // A flag's value is not mistaken for a command: after --url <value>, still the flags of `system info`.
    expect(await bashComplete(script, [PROGRAM, '--url', 'keys', 'status', '--j'])).toEqual(['--json'])
    expect(await bashComplete(script, [PROGRAM, 'status', '--url', ''])).toEqual([])
  })

  test('enum values complete after their flag; zsh and fish: one entry per level, descriptions quoted so a quote in one cannot end the script', async () => {
    const tree: CommandNode = {
      name: 'tool', description: '', hidden: false, runnable: false, positionals: [], flags: [],
      subcommands: [
        {
          name: 'say', description: "it's \"quoted\" \\ and $HOME `x`\nExample: tool say", hidden: false, runnable: true, positionals: [], subcommands: [],
          flags: [{ name: 'mode', aliases: ['m'], description: "a 'b'", takesValue: true, options: ['loud', 'soft'] }],
        },
        { name: 'bad name;rm', description: 'never listed', hidden: false, runnable: true, positionals: [], subcommands: [], flags: [] },
        { name: 'secret', description: 'hidden', hidden: true, runnable: true, positionals: [], subcommands: [], flags: [] },
      ],
    }
    const zsh = completionScript('zsh', tree, 'tool')
    expect(zsh).toContain(`'say:it'\\''s "quoted" \\ and $HOME \`x\`'`)
    expect(zsh).toContain("'--mode:a '\\''b'\\'''")
    expect(zsh).toContain("('/say|--mode') candidates=('loud' 'soft')")
    const fish = completionScript('fish', tree, 'tool')
    expect(fish).toContain("-a 'say' -d 'it\\'s \"quoted\" \\\\ and $HOME `x`'")
    expect(fish).toContain("-l mode -s m -x -a 'loud soft'")
    const bash = completionScript('bash', tree, 'tool')
    expect(await bashComplete(bash, ['tool', 'say', '--mode', ''], '_tool')).toEqual(['loud', 'soft'])
    expect(await bashComplete(bash, ['tool', 'say', '-m', 'l'], '_tool')).toEqual(['loud'])
    expect(await bashComplete(bash, ['tool', 'say', '--mode', 'loud', ''], '_tool')).toEqual(['--mode', '-m', '--help'])
    for (const script of [zsh, fish, bash]) {
      expect(script).not.toContain('bad name')
      expect(script).not.toContain('secret')
      expect(script).not.toContain('Example:')
    }
  })
})
