/**
 * @module The auth rows of throughput mode: another server of ours whose HTTPS proxy (the same name and
 * backend as the plain HTTPS row's) has auth on, reached with one valid token, so after the first
 * request every verification is a cache hit. Measured in the same rounds as "ours HTTPS", which is
 * the same path with auth off. Also the cost of a token the node has not seen: a full verification
 * (signature, claims, denylist read) timed in this process with the server's own code.
 */
import { join } from 'node:path'
import { createTokenVerifier } from '../src/auth/index.ts'
import { createMemoryBus } from '../src/events/index.ts'
import { createLogger, systemClock } from '../src/lib/index.ts'
import { createKeyRing, issueAccessToken, verifyAccessToken } from '../src/oauth/index.ts'
import { keys, openStore } from '../src/store/index.ts'
import { waitFor } from './net.ts'
import { runWrkReport } from './wrk.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer, type OurServer } from './our-server.ts'

export interface AuthServer {
  readonly server: OurServer
  readonly httpsPort: number
  /** The Authorization header value wrk sends. */
  readonly authorization: string
}

const MAIN = join(import.meta.dir, '../src/main.ts')

export async function startAuthServer(dir: string, hostname: string, backendUrl: string, onCleanup: (stop: () => Promise<void> | void) => void): Promise<AuthServer> {
  const setup = await ourServerEnv(dir)
  const server = await startOurServer(setup)
  onCleanup(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(hostname, backendUrl)
  const auth = await api.request('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true })
  if (auth.status !== 200) throw new Error(`turning auth on: ${auth.status} ${await auth.text()}`)
  await waitFor(async () => (await api.instancePorts(hostname)).https, { what: `${hostname} HTTPS instance with auth` })
  // The token the edge expects: its audience is the origin wrk uses.
  const proc = Bun.spawn([process.execPath, MAIN, 'token', 'issue', '--user', 'bench', '--scope', 'user', '--ttl', '1d', '--resource', `https://${hostname}:${setup.httpsPort}`], { env: setup.env, stdout: 'pipe', stderr: 'pipe' })
  const [token, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`token issue --resource exited ${code}: ${stderr}`)
  // Without the token the proxy must refuse, or the row would measure nothing: a control, through wrk
  // itself (it sends the IP literal as SNI, which Node's TLS client will not).
  const url = `https://${hostname}:${setup.httpsPort}/`
  await waitFor(async () => {
    const refused = await runWrkReport(url, { durationSec: 1, connections: 1 })
    return refused.requests > 0 && refused.failures === refused.requests
  }, { what: 'the protected proxy refusing every request without a token' })
  const admitted = await runWrkReport(url, { durationSec: 1, connections: 1, headers: { Authorization: `Bearer ${token.trim()}` } })
  if (!(admitted.requests > 0) || admitted.failures > 0) throw new Error(`the protected proxy refused the bench token: ${admitted.failures} of ${admitted.requests}`)
  return { server, httpsPort: setup.httpsPort, authorization: `Bearer ${token.trim()}` }
}

/** µs per verification of a token the node has not seen, over `count` distinct tokens (the median of 5 batches). */
export async function uncachedVerifyUs(count = 2000): Promise<{ perRequestUs: number; count: number }> {
  // The embedded store in memory: a denylist read as the default deployment does it (Redis adds a round trip).
  const store = openStore({ redisUrl: undefined, dataDir: ':memory:' })
  const bus = createMemoryBus(createLogger('silent'))
  const keyRing = createKeyRing(store, systemClock, { retireAfterSec: 3600 })
  await keyRing.ensureActive()
  const audience = 'https://bench.test'
  const issuer = 'https://issuer.test'
  const tokens: string[] = []
  for (let i = 0; i < count; i++) {
    tokens.push(await issueAccessToken(keyRing, systemClock, { issuer, audience, subject: `u${i}`, username: 'bench', scopes: ['user'], clientId: 'bench', ttlSec: 600 }))
  }
  const verifier = createTokenVerifier({
    verify: (token, resource) => verifyAccessToken(keyRing, systemClock, token, { issuers: [issuer], audience: resource }),
    isRevoked: async (jti) => (await store.get(keys.revokedAccessToken(jti))) !== null,
    bus,
    clock: systemClock,
  })
  const batches: number[] = []
  const batchSize = Math.floor(count / 5)
  for (let batch = 0; batch < 5; batch++) {
    const started = performance.now()
    for (const token of tokens.slice(batch * batchSize, (batch + 1) * batchSize)) {
      const outcome = await verifier.verify(token, audience)
      if (!outcome.ok) throw new Error(`bench token refused: ${outcome.reason}`)
    }
    batches.push(((performance.now() - started) * 1000) / batchSize)
  }
  verifier.close()
  await store.close()
  batches.sort((a, b) => a - b)
  return { perRequestUs: batches[2]!, count }
}
