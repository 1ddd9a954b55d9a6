/**
 * @module Stored logins: `$XDG_CONFIG_HOME/oauth-https-proxy/credentials.json` (default
 * `~/.config/oauth-https-proxy/credentials.json`), one entry per server URL. The directory is 0700 and
 * the file 0600 from the moment it exists (created with that mode, never chmod-ed after), written
 * atomically (temp file + rename) so a crash or a concurrent run never leaves half a file. Two runs
 * refreshing at once: the last rename wins, and the server's refresh grace period covers the loser.
 * Nothing here prints a token or puts one in an error message.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import * as v from 'valibot'
import type { Env } from './args.ts'
import { CliError } from './errors.ts'
import { writeFileAtomically } from './private-file.ts'

const TokensSchema = v.object({
  access_token: v.string(),
  refresh_token: v.optional(v.string()),
  /** Epoch milliseconds; from the token response's expires_in. */
  expires_at_ms: v.number(),
  scope: v.optional(v.string()),
})

const ServerSchema = v.object({
  /** RFC 8414 issuer the client is registered with; a different issuer means registering again. */
  issuer: v.string(),
  /** RFC 7591: this CLI's registration at that server (a public client, no secret). */
  client_id: v.string(),
  token_endpoint: v.string(),
  revocation_endpoint: v.optional(v.string()),
  /** RFC 8707 resource the tokens were asked for; absent when the server chose (its API). */
  resource: v.optional(v.string()),
  tokens: v.optional(TokensSchema),
})

const FileSchema = v.object({ servers: v.record(v.string(), ServerSchema) })

export type StoredTokens = v.InferOutput<typeof TokensSchema>
export type ServerCredentials = v.InferOutput<typeof ServerSchema>
type CredentialsFile = v.InferOutput<typeof FileSchema>

export interface CredentialStore {
  /** Where the file is (for `status` and error messages; the path is not a secret). */
  readonly path: string
  /** The entry for a server URL (canonical, from resolveServerUrl), or null. */
  get(serverUrl: string): ServerCredentials | null
  /** Replaces the entry; null removes it. */
  set(serverUrl: string, credentials: ServerCredentials | null): void
}

/** XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and ignored. */
export function credentialsPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config')
  return join(base, 'oauth-https-proxy', 'credentials.json')
}

export function createCredentialStore(env: Env, path = credentialsPath(env)): CredentialStore {
  function load(): CredentialsFile {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} }
      throw new CliError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    const parsed = v.safeParse(FileSchema, json)
    // Never echo the content: it holds tokens.
    if (!parsed.success) throw new CliError(`${path} is not a credentials file of this version; remove it and sign in again`)
    return parsed.output
  }

  function save(file: CredentialsFile): void {
    const dir = dirname(path)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    // The directory is ours alone: narrow it even if something created it wider.
    chmodSync(dir, 0o700)
    writeFileAtomically(path, JSON.stringify(file, null, 2) + '\n', 0o600)
  }

  return {
    path,
    get: (serverUrl) => load().servers[serverUrl] ?? null,
    set(serverUrl, credentials) {
      const file = load()
      if (credentials === null) delete file.servers[serverUrl]
      else file.servers[serverUrl] = credentials
      save(file)
    },
  }
}
