/**
 * @module `oauth-https-proxy status`: who this machine is signed in as, read from the stored login only.
 * The access token's claims are decoded without verification: they are shown, never trusted. Exit 3
 * when not signed in (or the session cannot be renewed).
 */
import { defineCommand } from 'citty'
import {
  CliError,
  createCredentialStore,
  decodeJwtPayload,
  EXIT,
  loginHint,
  OUTPUT_ARGS,
  printRecord,
  resolveServerUrl,
  SERVER_ARGS,
  type CredentialStore,
  type Env,
  type OutputOptions,
} from './client/index.ts'

function describeExpiry(expiresAtMs: number, nowMs: number): string {
  const leftSec = Math.round((expiresAtMs - nowMs) / 1000)
  const when = new Date(expiresAtMs).toISOString()
  if (leftSec <= 0) return `${when} (expired)`
  return `${when} (in ${leftSec >= 120 ? `${Math.round(leftSec / 60)} min` : `${leftSec} s`})`
}

export function status(args: { url?: string }, deps: { env: Env; credentials: CredentialStore; nowMs: () => number; output: OutputOptions }): void {
  const serverUrl = resolveServerUrl(args, deps.env)
  const stored = deps.credentials.get(serverUrl)
  if (!stored?.tokens) throw new CliError(`not signed in to ${serverUrl}; ${loginHint(serverUrl)}`, EXIT.auth)
  const { tokens } = stored
  const claims = decodeJwtPayload(tokens.access_token) ?? {}
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  const expiresAtMs = typeof claims.exp === 'number' ? claims.exp * 1000 : tokens.expires_at_ms
  const scopes = (text(claims.scope) ?? tokens.scope ?? '').split(' ').filter(Boolean)
  printRecord(
    {
      server: serverUrl,
      user: text(claims.username) ?? text(claims.sub) ?? null,
      ...(text(claims.email) ? { email: text(claims.email) } : {}),
      scopes,
      access_token_expires: deps.output.json ? new Date(expiresAtMs).toISOString() : describeExpiry(expiresAtMs, deps.nowMs()),
      refresh_token: tokens.refresh_token ? 'stored' : 'none',
      client_id: stored.client_id,
      credentials: deps.credentials.path,
    },
    { ...deps.output, idKey: 'user' },
  )
  if (expiresAtMs <= deps.nowMs() && !tokens.refresh_token) throw new CliError(`the session at ${serverUrl} has expired; ${loginHint(serverUrl)}`, EXIT.auth)
}

export const statusCommand = defineCommand({
  meta: { name: 'status', description: 'Show the stored login for this server: user, scopes, token expiry\nExample: oauth-https-proxy status --url https://api.example.com' },
  args: { ...SERVER_ARGS, ...OUTPUT_ARGS },
  run({ args }) {
    status(args, { env: process.env, credentials: createCredentialStore(process.env), nowMs: Date.now, output: args })
  },
})
