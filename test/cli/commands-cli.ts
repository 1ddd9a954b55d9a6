/**
 * @module The CLI as a user runs it, for the command-group tests: `bun src/main.ts <args> --url <api>
 * --token <token>` in a child process with NO_COLOR and its own XDG_CONFIG_HOME (so no stored login of
 * the machine is ever read), answering its exit code and output.
 */
import { expect } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken, type Scope } from '../../src/oauth/index.ts'
import type { TestEdge } from '../support/edge.ts'
import { baseEnv, MAIN, REPO_ROOT } from '../support/serve.ts'

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliRunOptions {
  /** The token to send; null sends none (default: the runner's token). */
  readonly token?: string | null
  /** Given on standard input. */
  readonly stdin?: string
}

export interface CliRunner {
  run(args: readonly string[], options?: CliRunOptions): Promise<CliResult>
  /** Runs, expects exit 0, and parses stdout (the command must have been given --json). */
  json<T = unknown>(args: readonly string[], options?: CliRunOptions): Promise<T>
  cleanup(): void
}

export function createCliRunner(apiUrl: string, token: string): CliRunner {
  const configHome = mkdtempSync(join(tmpdir(), 'ohp-cli-commands-'))
  async function run(args: readonly string[], options: CliRunOptions = {}): Promise<CliResult> {
    const given = options.token === undefined ? token : options.token
    const proc = Bun.spawn([process.execPath, MAIN, ...args, '--url', apiUrl, ...(given === null ? [] : ['--token', given])], {
      cwd: REPO_ROOT,
      env: { ...baseEnv(), NO_COLOR: '1', XDG_CONFIG_HOME: configHome },
      stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return { code, stdout, stderr }
  }
  return {
    run,
    async json<T>(args: readonly string[], options?: CliRunOptions): Promise<T> {
      const result = await run(args, options)
      if (result.code !== 0) throw new Error(`${args.join(' ')} exited ${result.code}: ${result.stderr}`)
      return JSON.parse(result.stdout) as T
    },
    cleanup: () => rmSync(configHome, { recursive: true, force: true }),
  }
}

/** A failure: the exit code, nothing on stdout, and exactly one line on stderr matching `message`. */
export function expectFailure(result: CliResult, code: number, message: RegExp): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' })
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^oauth-https-proxy: /)
  expect(lines[0]).toMatch(message)
}

/**
 * A token for the edge's API with only `scopes` (the edge's own adminToken has admin). `publicUrl` is
 * the edge's PUBLIC_URL; startTestEdge's default (API_PORT=0) makes issuer and audience http://127.0.0.1:0.
 */
export function issueToken(edge: TestEdge, scopes: Scope[], username = 'reader', publicUrl = edge.server.apiUrl.replace(/:\d+$/, ':0')): Promise<string> {
  const config = { publicUrl }
  return issueAccessToken(edge.server.keyRing, systemClock, {
    issuer: config.publicUrl,
    audience: apiResource(config),
    subject: `local:${username}`,
    username,
    scopes,
    clientId: 'test',
    ttlSec: 600,
  })
}

/** The API's own answer, as admin, for comparing with what --json printed. */
export async function apiJson<T = unknown>(edge: TestEdge, path: string): Promise<T> {
  const response = await edge.api('GET', path)
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}
