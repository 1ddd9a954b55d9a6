/**
 * @module `oauth-https-proxy token issue`: run on the host, it reads the signing key from the store
 * and prints an access token for the API (or, with --resource, for a protected proxy). This is how the first admin gets in (DESIGN §6).
 */
import { defineCommand } from 'citty'
import { parseDurationSec, systemClock } from '../lib/index.ts'
import { apiResource, createKeyRing, isScope, issueAccessToken, type Scope } from '../oauth/index.ts'
import { HOST_STORE_ARGS, withHostStore } from './host-store.ts'
import { UsageError } from './usage-error.ts'

const issue = defineCommand({
  meta: { name: 'issue', description: 'Print a signed API access token (only the token, on stdout)\nExample: OHP_TOKEN=$(oauth-https-proxy token issue --user admin --scope admin --ttl 15m)' },
  args: {
    user: { type: 'string', required: true, description: 'user name the token is issued to' },
    scope: { type: 'string', default: 'user', description: 'admin, user or mcp (several: "user mcp"); admin implies the others' },
    resource: { type: 'string', valueHint: 'url', description: 'a protected proxy\'s origin (https://app.example.com) to issue the token for, instead of the API: for machine clients and scripts' },
    ttl: { type: 'string', default: '1h', description: 'lifetime, e.g. 900, 15m, 1h, 7d; a key rotation ends it after OAUTH_ACCESS_TOKEN_LIFETIME' },
    ...HOST_STORE_ARGS,
    'public-url': { type: 'string', description: 'the server\'s PUBLIC_URL (the token\'s issuer and audience) [env PUBLIC_URL]' },
  },
  async run({ args }) {
    const user = args.user.trim()
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(user)) throw new UsageError('--user: expected 1-64 letters, digits, ".", "_" or "-"')
    const scopeWords = args.scope.split(/[\s,]+/).filter(Boolean)
    const bad = scopeWords.find((word) => !isScope(word))
    if (bad !== undefined || scopeWords.length === 0) throw new UsageError(`--scope: expected admin, user or mcp, got ${JSON.stringify(bad ?? '')}`)
    const ttlSec = parseDurationSec(args.ttl)
    if (ttlSec === null) throw new UsageError(`--ttl: expected a duration such as 900, 15m, 1h or 7d, got ${JSON.stringify(args.ttl)}`)

    const resource = args.resource === undefined ? null : resourceOf(args.resource)
    const flags = { 'data-dir': args['data-dir'], 'redis-url': args['redis-url'], 'public-url': args['public-url'] }
    const token = await withHostStore(flags, async (config, store) => {
      const keyRing = createKeyRing(store, systemClock, { retireAfterSec: config.oauth.accessTokenLifetimeSec })
      await keyRing.ensureActive()
      return issueAccessToken(keyRing, systemClock, {
        issuer: config.publicUrl,
        audience: resource ?? apiResource(config),
        subject: `local:${user}`,
        username: user,
        scopes: [...new Set(scopeWords as Scope[])],
        clientId: 'oauth-https-proxy-cli',
        ttlSec,
      })
    })
    process.stdout.write(token + '\n')
  },
})

/** RFC 8707 §2: an absolute http(s) URI without fragment; the edge compares the origin the client uses, so that is what is kept. */
function resourceOf(text: string): string {
  const url = URL.parse(text.trim())
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.hash || url.search) {
    throw new UsageError(`--resource: expected a proxy's origin such as https://app.example.com, got ${JSON.stringify(text)}`)
  }
  return url.pathname === '/' ? url.origin : `${url.origin}${url.pathname.replace(/\/$/, '')}`
}

export const tokenCommand = defineCommand({
  meta: { name: 'token', description: 'Issue API tokens on the host' },
  subCommands: { issue },
})
