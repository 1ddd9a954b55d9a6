/**
 * @module Access tokens for the edge's auth step, minted the way the authorization server mints them
 * (RFC 9068: typ "at+jwt", one audience, signed by the key ring's active key) and spoiled in the ways an
 * attacker or a confused client would: expired, wrong typ (an ID-token-like "JWT"), another audience, a
 * tampered signature or payload, another issuer, a key that is not ours, alg "none". Plus an edge whose
 * log lines the test can read (RS-06: no token in any log line).
 */
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { loadConfig } from '../../src/config/index.ts'
import { createLogger, systemClock, type Clock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken, SIGNING_ALG, type KeyRing, type Scope } from '../../src/oauth/index.ts'
import { startServer } from '../../src/server.ts'
import type { TestEdge } from './edge.ts'
import { isolatedPortRanges } from './port-ranges.ts'

export interface TokenOptions {
  readonly scopes?: readonly Scope[]
  readonly username?: string
  readonly subject?: string
  readonly email?: string
  readonly clientId?: string
  readonly ttlSec?: number
  readonly jti?: string
}

export interface TokenMinter {
  /** What the authorization server would issue for `audience` (a proxy origin, e.g. http://app.test). */
  valid(audience: string, options?: TokenOptions): Promise<string>
  /** Signed and well-formed, but its exp passed an hour ago (RFC 6750 §3.1 invalid_token). */
  expired(audience: string, options?: TokenOptions): Promise<string>
  /** Our key, our issuer, the right audience, but typ "JWT" as an ID token has (RFC 9068 §4: must be at+jwt). */
  wrongTyp(audience: string, options?: TokenOptions): Promise<string>
  /** A valid token whose signature has one byte changed. */
  tamperedSignature(audience: string, options?: TokenOptions): Promise<string>
  /** A valid token whose payload was rewritten (more scopes, another user) with the signature kept. */
  tamperedPayload(audience: string, options?: TokenOptions): Promise<string>
  /** Our key and typ, but an issuer that is not ours (RFC 9068 §4 step 2). */
  otherIssuer(audience: string, options?: TokenOptions): Promise<string>
  /** Everything right except the key: a fresh key pair that merely claims our active kid. */
  foreignKeyOurKid(audience: string, options?: TokenOptions): Promise<string>
  /** Signed by a fresh key pair under a kid the ring never had. */
  foreignKeyUnknownKid(audience: string, options?: TokenOptions): Promise<string>
  /** alg "none" with an empty signature (RFC 7519 §6: unsecured JWT). */
  algNone(audience: string, options?: TokenOptions): Promise<string>
  /** HS256 keyed with our public key's JWK text: the classic algorithm-confusion attempt. */
  algConfusion(audience: string, options?: TokenOptions): Promise<string>
}

export function tokenMinter(keyRing: KeyRing, issuer: string, clock: Clock = systemClock): TokenMinter {
  const grantOf = (audience: string, options: TokenOptions = {}) => ({
    issuer,
    audience,
    subject: options.subject ?? `local:${options.username ?? 'alice'}`,
    username: options.username ?? 'alice',
    ...(options.email === undefined ? { email: 'alice@example.com' } : options.email === '' ? {} : { email: options.email }),
    scopes: options.scopes ?? ['user'],
    clientId: options.clientId ?? 'auth-e2e',
    ttlSec: options.ttlSec ?? 600,
    ...(options.jti ? { jti: options.jti } : {}),
  })
  const valid = (audience: string, options?: TokenOptions) => issueAccessToken(keyRing, clock, grantOf(audience, options))
  /** The claims our AS puts in a token, for hand-made variants. */
  const claimsOf = (audience: string, options: TokenOptions = {}, iss = issuer) => {
    const grant = grantOf(audience, options)
    const iat = Math.floor(clock.nowMs() / 1000)
    return {
      iss,
      sub: grant.subject,
      aud: audience,
      username: grant.username,
      ...(grant.email ? { email: grant.email } : {}),
      scope: grant.scopes.join(' '),
      client_id: grant.clientId,
      jti: options.jti ?? crypto.randomUUID(),
      iat,
      exp: iat + grant.ttlSec,
    }
  }
  const signWith = async (key: CryptoKey, header: { typ: string; kid: string }, claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: SIGNING_ALG, ...header }).sign(key)

  return {
    valid,
    expired: (audience, options) => issueAccessToken(keyRing, { nowMs: () => clock.nowMs() - 2 * 3600_000 }, grantOf(audience, { ...options, ttlSec: 3600 })),
    async wrongTyp(audience, options) {
      const { kid, privateKey } = await keyRing.activeKey()
      return signWith(privateKey, { typ: 'JWT', kid }, claimsOf(audience, options))
    },
    async tamperedSignature(audience, options) {
      const [head, body, signature] = (await valid(audience, options)).split('.') as [string, string, string]
      const bytes = base64url.decode(signature)
      bytes[10] = bytes[10]! ^ 0x01
      return `${head}.${body}.${base64url.encode(bytes)}`
    },
    async tamperedPayload(audience, options) {
      const [head, body, signature] = (await valid(audience, options)).split('.') as [string, string, string]
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(body))) as Record<string, unknown>
      const forged = { ...claims, scope: 'admin user mcp', username: 'root' }
      return `${head}.${base64url.encode(JSON.stringify(forged))}.${signature}`
    },
    async otherIssuer(audience, options) {
      const { kid, privateKey } = await keyRing.activeKey()
      return signWith(privateKey, { typ: 'at+jwt', kid }, claimsOf(audience, options, 'https://evil.example'))
    },
    async foreignKeyOurKid(audience, options) {
      const { kid } = await keyRing.activeKey()
      const { privateKey } = await generateKeyPair(SIGNING_ALG)
      return signWith(privateKey, { typ: 'at+jwt', kid }, claimsOf(audience, options))
    },
    async foreignKeyUnknownKid(audience, options) {
      const { privateKey } = await generateKeyPair(SIGNING_ALG)
      return signWith(privateKey, { typ: 'at+jwt', kid: `not-ours-${crypto.randomUUID()}` }, claimsOf(audience, options))
    },
    async algNone(audience, options) {
      const { kid } = await keyRing.activeKey()
      const head = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid }))
      return `${head}.${base64url.encode(JSON.stringify(claimsOf(audience, options)))}.`
    },
    async algConfusion(audience, options) {
      const { kid } = await keyRing.activeKey()
      const publicKey = await keyRing.publicKey(kid)
      const secret = new TextEncoder().encode(JSON.stringify(await exportJWK(publicKey!)))
      return new SignJWT(claimsOf(audience, options)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(secret)
    },
  }
}

/**
 * The minter for a test edge: its key ring and its issuer. startTestEdge leaves PUBLIC_URL unset, so with
 * API_PORT=0 the issuer is "http://127.0.0.1:0" (test/support/edge.ts).
 */
export function edgeTokens(edge: TestEdge, issuer = DEFAULT_TEST_ISSUER, clock: Clock = systemClock): TokenMinter {
  return tokenMinter(edge.server.keyRing, issuer, clock)
}

export const DEFAULT_TEST_ISSUER = 'http://127.0.0.1:0'

/** The origin a client reaching `host` on the edge's listener uses (RFC 6454 §4; the default port left out). */
export function originOf(scheme: 'http' | 'https', host: string, port?: number): string {
  return port === undefined ? `${scheme}://${host}` : `${scheme}://${host}:${port}`
}

export interface LoggedTestEdge extends TestEdge {
  readonly issuer: string
  /** Every log line written so far (JSON, one per line), at LOG_LEVEL debug. */
  logLines(): readonly string[]
}

/**
 * startTestEdge (test/support/edge.ts) with the logger at debug writing into memory, so a test can
 * search every line the server wrote; `clock` replaces the system clock for the whole server.
 */
export async function startLoggedTestEdge(env: Record<string, string> = {}, clock: Clock = systemClock): Promise<LoggedTestEdge> {
  const lines: string[] = []
  const config = loadConfig({ DATA_DIR: ':memory:', API_PORT: '0', HTTP_PORT: '0', HTTPS_PORT: '0', LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'debug', ...isolatedPortRanges(), ...env })
  const server = await startServer(config, { logger: createLogger('debug', (line) => void lines.push(line)), clock })
  const adminToken = await issueAccessToken(server.keyRing, clock, {
    issuer: config.publicUrl,
    audience: apiResource(config),
    subject: 'local:test-admin',
    username: 'test-admin',
    scopes: ['admin'],
    clientId: 'test',
    ttlSec: 3600,
  })
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const edge: LoggedTestEdge = {
    server,
    httpPort: server.edge.httpPort,
    httpsPort: server.edge.httpsPort,
    adminToken,
    api,
    async createProxy(hostname, targetUrl, extra = {}) {
      const response = await api('POST', '/proxy/targets', { proxy_hostname: hostname, target_url: targetUrl, ...extra })
      if (response.status !== 201) throw new Error(`creating ${hostname} failed: ${response.status} ${await response.text()}`)
    },
    stop: () => server.stop(),
    issuer: config.publicUrl,
    logLines: () => lines,
  }
  return edge
}
