/**
 * @module Whole `serve` processes against a test Pebble (test/e2e/acme-e2e*.test.ts): a node trusts the
 * Pebbles' TLS CAs from its start (NODE_EXTRA_CA_CERTS), listens on the HTTP port Pebble validates
 * against, and keeps everything it printed (stdout and stderr); an API client that keeps every answer
 * it got (to search them for key material); and an HTTPS client that verifies the chain like a browser.
 */
import { createPrivateKey } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { makeTempDir, runCli, serveEnv, startServe, type ServedProcess } from './serve.ts'

export interface AcmeNode extends ServedProcess {
  readonly nodeId: string
  readonly httpPort: number
  readonly httpsPort: number
  /** Parsed log lines (JSON) the process printed so far. */
  logs(): Record<string, unknown>[]
}

/** One PEM file with every CA the node must trust (NODE_EXTRA_CA_CERTS names one file). */
export function trustFile(pems: readonly string[]): string {
  const path = join(makeTempDir('ohp-acme-trust-'), 'ca.pem')
  writeFileSync(path, pems.join('\n'))
  return path
}

/**
 * A free port below the ephemeral range (32768+), for HTTP_PORT and HTTPS_PORT: Pebble must know the HTTP port
 * before the server can start (the server trusts Pebble's CA file from its start), and in that window a port
 * from freePort() can be taken by any outgoing connection on the machine. Not inside `avoid` (instance ranges).
 */
export function lowFreePort(avoid: Record<string, string> = {}): number {
  const ranges = Object.values(avoid)
    .map((text) => /^(\d+)-(\d+)$/.exec(text))
    .filter((match) => match !== null)
    .map((match) => [Number(match[1]), Number(match[2])] as const)
  for (;;) {
    const port = 14_000 + Math.floor(Math.random() * 18_000)
    if (ranges.some(([first, last]) => port >= first && port <= last)) continue
    try {
      Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
      return port
    } catch {
      // Taken: try another.
    }
  }
}

/** What nodes of one cluster share: store, PUBLIC_URL, instance port ranges, the directories and their trust. */
export function clusterEnv(options: { redisUrl: string; trustPath: string; directoryUrl: string; stagingUrl: string; ranges: Record<string, string> }): Record<string, string> {
  return {
    REDIS_URL: options.redisUrl,
    PUBLIC_URL: 'https://acme-e2e.test',
    LISTEN_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_EXTRA_CA_CERTS: options.trustPath,
    ACME_DIRECTORY_URL: options.directoryUrl,
    ACME_STAGING_URL: options.stagingUrl,
    ...options.ranges,
  }
}

/**
 * Starts `serve` with HTTP_PORT = httpPort (where a Pebble validates) and a free HTTPS_PORT. Its stdout is
 * sent to stderr (`1>&2` before exec: the pid is still bun's), so output() below holds both.
 */
export async function startAcmeNode(options: { nodeId: string; httpPort: number; shared: Record<string, string> }): Promise<AcmeNode> {
  let httpsPort = lowFreePort(options.shared)
  while (httpsPort === options.httpPort) httpsPort = lowFreePort(options.shared)
  const env = await serveEnv({ ...options.shared, NODE_ID: options.nodeId, HTTP_PORT: String(options.httpPort), HTTPS_PORT: String(httpsPort) })
  const served = await startServe({ env, prefix: ['sh', '-c', 'exec "$@" 1>&2', 'sh'], timeoutMs: 20_000 })
  const logs = () =>
    served
      .stderrText()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return Object.assign(served, { nodeId: options.nodeId, httpPort: options.httpPort, httpsPort, logs })
}

export async function issueAdminToken(shared: Record<string, string>): Promise<string> {
  const result = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env: await serveEnv(shared) })
  if (result.code !== 0) throw new Error(`token issue exited ${result.code}: ${result.stderr}`)
  return result.stdout.trim()
}

export interface RecordedAnswer {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly text: string
}

/** The management API with a bearer token; every answer's body is kept in `answers`. */
export function createApiClient(url: string, token: string, answers: RecordedAnswer[]) {
  return async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T; text: string }> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(65_000),
    })
    const text = await response.text()
    answers.push({ method, path, status: response.status, text })
    let json: unknown = null
    try {
      json = text === '' ? null : JSON.parse(text)
    } catch {
      // Not JSON: the text is still kept.
    }
    return { status: response.status, json: json as T, text }
  }
}

export interface VerifiedAnswer {
  readonly status: number
  readonly body: string
  /** Lower-case hex, no leading zeros. */
  readonly serial: string
  readonly issuerCn: string
}

/**
 * GET over a fresh TLS connection to 127.0.0.1:port with this SNI, trusting only `ca` and checking the
 * hostname (rejectUnauthorized: true): rejects when the chain or name does not verify. From `localAddress`
 * (a 127.0.0.x) when given.
 */
export function verifiedGet(port: number, servername: string, ca: readonly string[], path = '/', timeoutMs = 5_000, localAddress?: string): Promise<VerifiedAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca: [...ca], rejectUnauthorized: true, ...(localAddress ? { localAddress } : {}) } as Parameters<typeof connect>[0])
    const chunks: Buffer[] = []
    let serial = ''
    let issuerCn = ''
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`${servername}: no answer within ${timeoutMs} ms`))), timeoutMs)
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate()
      serial = normalSerial(peer.serialNumber ?? '')
      issuerCn = String(peer.issuer?.CN ?? '')
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('error', (error) => (clearTimeout(timer), reject(new Error(`${servername}: ${error.message}`))))
    socket.once('close', () => {
      clearTimeout(timer)
      if (!serial) return reject(new Error(`${servername}: closed before the handshake completed`))
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), serial, issuerCn })
    })
  })
}

export const normalSerial = (hex: string) => hex.toLowerCase().replace(/:/g, '').replace(/^0+/, '')

/** How many orders Pebble has created so far (its log prints one `Added order "<id>"` line per new-order). */
export const pebbleOrderCount = (log: string) => (log.match(/Added order "/g) ?? []).length

/**
 * Spellings of a key's secret part (the EC private scalar, RFC 5915 privateKey) that no text may hold: a
 * 40-character slice of the PEM's base64 lying wholly inside the scalar (the rest of a PKCS #8 key is a fixed
 * header and the public key, which the certificate itself carries), and the scalar as JWK `d` and as hex.
 * Search texts with line breaks removed (unwrapped()).
 */
export function keySecrets(keyPem: string): string[] {
  const base64 = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
  const der = Buffer.from(base64, 'base64')
  const jwk = createPrivateKey(keyPem).export({ format: 'jwk' })
  const scalar = Buffer.from(jwk.d ?? '', 'base64url')
  const offset = der.indexOf(scalar)
  if (scalar.length < 30 || offset < 0) throw new Error('the private scalar is not found in the key')
  // Base64 encodes 3 bytes as 4 characters: start at the first group boundary inside the scalar; 40 characters are 30 bytes.
  const firstChar = Math.ceil(offset / 3) * 4
  return [base64.slice(firstChar, firstChar + 40), jwk.d!, scalar.toString('hex')]
}

/** The text without line breaks, raw or JSON-escaped, so a wrapped PEM reads as one base64 run. */
export const unwrapped = (text: string) => text.replace(/\\r|\\n|\r|\n/g, '')

/** A plain HTTP answer from the backend: which proxy hostname reached it. */
export function startHostEchoBackend() {
  return Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response(`backend:${request.headers.get('host')}`) })
}
