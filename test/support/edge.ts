/**
 * @module The whole server in this test process (API, store, edge) on random ports, with helpers to
 * create proxies through the real API and to reach the dispatchers with a chosen Host or SNI.
 */
import { loadConfig } from '../../src/config/index.ts'
import { createLogger, systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.ts'
import { isolatedPortRanges } from './port-ranges.ts'

export interface TestEdge {
  readonly server: RunningServer
  readonly httpPort: number
  readonly httpsPort: number
  readonly adminToken: string
  /** Calls the management API as admin. */
  api(method: string, path: string, body?: unknown): Promise<Response>
  createProxy(hostname: string, targetUrl: string, extra?: Record<string, unknown>): Promise<void>
  stop(): Promise<void>
}

/**
 * `env` adds or overrides settings; `edge` sets data-plane timings that have no setting (e.g. a short
 * slowloris deadline). Each edge gets instance port ranges of its own, so several can run at once.
 */
export async function startTestEdge(env: Record<string, string> = {}, edge?: ServerOptions['edge']): Promise<TestEdge> {
  const config = loadConfig({ DATA_DIR: ':memory:', API_PORT: '0', HTTP_PORT: '0', HTTPS_PORT: '0', LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'silent', ...isolatedPortRanges(), ...env })
  const server = await startServer(config, { logger: createLogger(config.logLevel), edge })
  // With API_PORT=0 the issuer and audience are "http://127.0.0.1:0" on both sides, which is consistent.
  const adminToken = await issueAccessToken(server.keyRing, systemClock, {
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
  return {
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
  }
}
