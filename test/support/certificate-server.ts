/**
 * @module The server as a child process with two ACME directories on loopback, for the certificate API
 * and CLI tests: production is a real Pebble (its HTTP-01 validation reaches the server's own HTTP
 * listener, which answers from the challenge store), staging is a CA that refuses every account with a
 * problem document of its own words, and holds its answers while `hold()` is in force (to watch an order
 * sit in `pending`). The child trusts Pebble from its start (NODE_EXTRA_CA_CERTS). Admin and user tokens
 * come from `token issue` on the server's store.
 */
import { lowFreePort } from './acme-e2e.ts'
import { startPebble, type TestPebble } from './pebble.ts'
import { runCli, serveEnv, startServe, type ServedProcess } from './serve.ts'

/** RFC 8555 §6.7: what the refusing CA says, and what a failed order's `error` must carry. */
export const REFUSAL_DETAIL = 'test CA: this directory issues no certificates'

export interface RefusingCa {
  readonly directoryUrl: string
  /** Holds every answer after the directory until the returned release() is called. */
  hold(): () => void
  /** How many account requests it has refused (three per order: look up, register, look up again). */
  readonly refused: () => number
  stop(): void
}

/** A minimal RFC 8555 server: directory (§7.1.1), nonces (§7.2), and a 403 unauthorized for newAccount (§7.3). */
export function startRefusingCa(): RefusingCa {
  let gate: Promise<void> = Promise.resolve()
  let refused = 0
  let nonce = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const { pathname, origin } = new URL(request.url)
      const headers = { 'replay-nonce': `nonce-${++nonce}`, 'cache-control': 'no-store' }
      if (pathname === '/dir') return Response.json({ newNonce: `${origin}/nonce`, newAccount: `${origin}/account`, newOrder: `${origin}/order` }, { headers })
      await gate
      if (pathname === '/nonce') return new Response(null, { status: request.method === 'HEAD' ? 200 : 204, headers })
      refused++
      const problem = { type: 'urn:ietf:params:acme:error:unauthorized', detail: REFUSAL_DETAIL, status: 403 }
      return Response.json(problem, { status: 403, headers: { ...headers, 'content-type': 'application/problem+json' } })
    },
  })
  return {
    directoryUrl: `http://127.0.0.1:${server.port}/dir`,
    hold() {
      let release!: () => void
      gate = new Promise<void>((resolve) => (release = resolve))
      return () => {
        release()
        gate = Promise.resolve()
      }
    },
    refused: () => refused,
    stop: () => void server.stop(true),
  }
}

export interface CertificateServer {
  readonly server: ServedProcess
  readonly url: string
  readonly env: Record<string, string>
  readonly pebble: TestPebble
  readonly refusingCa: RefusingCa
  readonly adminToken: string
  readonly userToken: string
  /** Calls the API with a token (admin by default; null sends none). */
  api(method: string, path: string, options?: { body?: unknown; token?: string | null }): Promise<Response>
  /** The server's log lines so far, parsed (LOG_LEVEL=info). */
  logs(): Record<string, unknown>[]
  stop(): Promise<void>
}

/** A low free port that is not `taken`. */
function otherLowFreePort(taken: number): number {
  let port = lowFreePort()
  while (port === taken) port = lowFreePort()
  return port
}

export async function startCertificateServer(): Promise<CertificateServer> {
  // Pebble learns the HTTP port before the server binds it: one from below the ephemeral range, which
  // no outgoing connection takes meanwhile (CI once failed here with "address already in use").
  const httpPort = lowFreePort()
  const pebble = await startPebble({ httpPort, env: { PEBBLE_WFE_NONCEREJECT: '0' } })
  const refusingCa = startRefusingCa()
  try {
    const env = await serveEnv({
      HTTP_PORT: String(httpPort),
      HTTPS_PORT: String(otherLowFreePort(httpPort)),
      LISTEN_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'info',
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      ACME_STAGING_URL: refusingCa.directoryUrl,
      ACME_EMAIL: 'certs@example.com',
      NODE_EXTRA_CA_CERTS: pebble.caCertPath,
    })
    const server = await startServe({ env })
    const issue = async (user: string, scope: string) => {
      const result = await runCli(['token', 'issue', '--user', user, '--scope', scope], { env })
      if (result.code !== 0) throw new Error(`token issue failed: ${result.stderr}`)
      return result.stdout.trim()
    }
    const [adminToken, userToken] = await Promise.all([issue('cert-admin', 'admin'), issue('cert-reader', 'user')])
    return {
      server,
      url: server.url,
      env,
      pebble,
      refusingCa,
      adminToken,
      userToken,
      api(method, path, options = {}) {
        const token = options.token === undefined ? adminToken : options.token
        const headers: Record<string, string> = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) }
        return fetch(`${server.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
      },
      logs: () =>
        server
          .stderrText()
          .split('\n')
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as Record<string, unknown>]
            } catch {
              return []
            }
          }),
      async stop() {
        await server.stop()
        refusingCa.stop()
        await pebble.stop()
      },
    }
  } catch (error) {
    refusingCa.stop()
    await pebble.stop()
    throw error
  }
}
