/**
 * @module A real `serve` whose GitHub is the GitHub fake, and the CLI (`bun src/main.ts …`) signing in to
 * it through the device flow, approved at the fake. Every CLI run has the same XDG_CONFIG_HOME and only
 * PATH and HOME besides; every output is kept, and every token the CLI stored is noted, so a test can
 * prove that no token was ever printed. Stop with `cleanupSpawned()`, `stopCliProcesses()` and `fake.stop()`.
 */
import { expect } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'
import { freePort } from '../support/ports.ts'
import { baseEnv, makeTempDir, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'
import { spawnCli } from './cli-process.ts'

const APP = { clientId: 'Iv1.cliapp', clientSecret: 'cli-app-secret' }

export type StoredCredentials = {
  servers: Record<string, { client_id: string; resource?: string; tokens?: { access_token: string; refresh_token?: string } }>
}

export interface DeviceLoginServer {
  readonly fake: GitHubFake
  readonly server: ServedProcess
  /** The server's environment (its DATA_DIR and PUBLIC_URL), for host-side commands such as `token issue`. */
  readonly serverEnv: Record<string, string>
  /** PUBLIC_URL: the API's resource, so login asks for it by name. */
  readonly publicUrl: string
  /** The API's own loopback address, which is not PUBLIC_URL. */
  readonly loopbackUrl: string
  readonly configHome: string
  /** Every stdout and stderr of the CLI so far. */
  readonly outputs: string[]
  /** Every token the CLI stored so far (noted by `stored()`). */
  readonly seenTokens: Set<string>
  cliEnv(extra?: Record<string, string>): Record<string, string>
  credentialsFile(): string
  stored(): StoredCredentials
  cli(args: string[], extra?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>
  /** Runs login, approves (or denies) the code at the GitHub fake as alice, and returns the result. */
  login(url: string, decide?: (userCode: string) => void): Promise<{ code: number; stdout: string; stderr: string }>
  /** An admin token from `token issue` on the server's host (same DATA_DIR and PUBLIC_URL): for asking the API directly. */
  issueAdminToken(): Promise<string>
}

/** Users alice (admin) and mallory; `env` adds server settings (e.g. OAUTH_ACCESS_TOKEN_LIFETIME). */
export async function startDeviceLoginServer(env: Record<string, string> = {}): Promise<DeviceLoginServer> {
  const fake = createGitHubFake({
    users: [
      { id: 1, login: 'alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] },
      { id: 2, login: 'mallory', emails: [{ email: 'mallory@example.com', primary: true, verified: true }] },
    ],
    apps: [{ ...APP, callbackUrl: 'http://localhost/callback' }],
    deviceIntervalSec: 1,
  })
  const port = await freePort()
  const publicUrl = `http://localhost:${port}`
  const serverEnv = await serveEnv({
    API_PORT: String(port),
    PUBLIC_URL: publicUrl,
    GITHUB_URL: fake.webUrl,
    GITHUB_API_URL: fake.apiUrl,
    GITHUB_CLIENT_ID: APP.clientId,
    GITHUB_CLIENT_SECRET: APP.clientSecret,
    OAUTH_ADMIN_USERS: 'alice',
    ...env,
  })
  const server = await startServe({ env: serverEnv })
  const configHome = makeTempDir('ohp-cli-config-')
  const outputs: string[] = []
  const seenTokens = new Set<string>()
  const cliEnv = (extra: Record<string, string> = {}) => ({ ...baseEnv(), XDG_CONFIG_HOME: configHome, ...extra })
  const credentialsFile = () => join(configHome, 'oauth-https-proxy', 'credentials.json')
  return {
    fake,
    server,
    serverEnv,
    publicUrl,
    loopbackUrl: `http://127.0.0.1:${port}`,
    configHome,
    outputs,
    seenTokens,
    cliEnv,
    credentialsFile,
    stored() {
      const file = JSON.parse(readFileSync(credentialsFile(), 'utf8')) as StoredCredentials
      for (const { tokens } of Object.values(file.servers)) for (const token of [tokens?.access_token, tokens?.refresh_token]) if (token) seenTokens.add(token)
      return file
    },
    async cli(args, extra = {}) {
      const result = await spawnCli(args, cliEnv(extra)).finished()
      outputs.push(result.stdout, result.stderr)
      return result
    },
    async login(url, decide = (code) => fake.approveDevice(code, 'alice')) {
      const run = spawnCli(['login', '--url', url], cliEnv())
      const [, userCode] = await run.waitForStderr(/one-time code: ([A-Z]{4}-[A-Z]{4})/)
      expect(run.stderr()).toContain(`${fake.webUrl}/login/device`)
      decide(userCode!)
      const result = await run.finished()
      outputs.push(result.stdout, result.stderr)
      return result
    },
    async issueAdminToken() {
      const result = await runCli(['token', 'issue', '--user', 'walkthrough-admin', '--scope', 'admin'], { env: serverEnv })
      if (result.code !== 0) throw new Error(`token issue exited ${result.code}: ${result.stderr}`)
      return result.stdout.trim()
    },
  }
}
