/**
 * @module `oauth-https-proxy logout`: revokes the stored refresh and access tokens (RFC 7009) and forgets
 * them. It succeeds (exit 0) even when the server cannot be reached, and says that the tokens were then
 * only forgotten locally. The client registration stays, so the next login does not register again.
 */
import { defineCommand } from 'citty'
import { createCredentialStore, resolveServerUrl, revokeToken, SERVER_ARGS, type CredentialStore, type Env } from './client/index.ts'

export async function logout(args: { url?: string }, deps: { env: Env; credentials: CredentialStore; say: (line: string) => void }): Promise<void> {
  const serverUrl = resolveServerUrl(args, deps.env)
  const stored = deps.credentials.get(serverUrl)
  if (!stored?.tokens) return deps.say(`not signed in to ${serverUrl}`)
  const { tokens } = stored
  // Forget first: whatever the server answers, this machine no longer holds the tokens.
  deps.credentials.set(serverUrl, { ...stored, tokens: undefined })
  if (!stored.revocation_endpoint) return deps.say(`Signed out of ${serverUrl} on this machine (the server has no revocation endpoint)`)
  // The refresh token first: revoking it ends the grant, so a leaked copy of either stops working.
  const failures: string[] = []
  if (tokens.refresh_token) {
    const revoked = await revokeToken(stored.revocation_endpoint, tokens.refresh_token, 'refresh_token', stored.client_id, serverUrl)
    if (revoked !== true) failures.push(revoked)
  }
  const revoked = await revokeToken(stored.revocation_endpoint, tokens.access_token, 'access_token', stored.client_id, serverUrl)
  if (revoked !== true) failures.push(revoked)
  deps.say(
    failures.length === 0
      ? `✓ Signed out of ${serverUrl} (tokens revoked)`
      : `Signed out of ${serverUrl} on this machine, but the tokens could not be revoked: ${failures[0]}`,
  )
}

export const logoutCommand = defineCommand({
  meta: { name: 'logout', description: 'Revoke and forget the stored tokens for this server\nExample: oauth-https-proxy logout --url https://api.example.com' },
  args: { ...SERVER_ARGS },
  async run({ args }) {
    await logout(args, { env: process.env, credentials: createCredentialStore(process.env), say: (line) => void process.stderr.write(`${line}\n`) })
  },
})
