/** @module The token, revocation and introspection endpoints in-process, over a grants fixture, with registered clients and a captured log. */
import { expect } from 'bun:test'
import { tokenAdminRoutes, tokenRoutes, type DeviceGrantHandler } from '../../src/api/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createIssuerResolver, parseClientMetadata, type TokenResult } from '../../src/oauth/index.ts'
import { createTestApi } from './api.ts'
import { createGrantsFixture, ISSUER, REDIRECT_URI, VERIFIER } from './grants.ts'

export const HOST = new URL(ISSUER).host

export async function createTokenApi(options: { deviceGrant?: DeviceGrantHandler } = {}) {
  const f = await createGrantsFixture()
  const apiLogLines: string[] = []
  const resolveIssuer = createIssuerResolver({ publicUrl: ISSUER, apiOrigin: () => 'http://127.0.0.1:9000', apiProxyHostnames: async () => [] })
  const logger = createLogger('debug', (line) => apiLogLines.push(line))
  const api = await createTestApi({
    extraRoutes: [...tokenRoutes({ grants: f.grants, registry: f.registry, resolveIssuer, logger, deviceGrant: options.deviceGrant }), ...tokenAdminRoutes(f.grants)],
  })

  async function register(input: Record<string, unknown>) {
    const parsed = parseClientMetadata({ redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], ...input })
    if (!parsed.ok) throw new Error(parsed.description)
    return f.registry.register(parsed.metadata)
  }

  /** A form POST; `body` as a string is sent verbatim. */
  const post = (path: string, body: Record<string, string> | string, headers: Record<string, string> = {}) =>
    api.app.request(path, {
      method: 'POST',
      headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: typeof body === 'string' ? body : new URLSearchParams(body).toString(),
    })

  const codeParams = (code: string) => ({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER })

  async function tokensFor(clientId: string, auth: Record<string, string> = { client_id: clientId }, headers: Record<string, string> = {}): Promise<TokenResult> {
    const response = await post('/token', { ...codeParams(await f.codeFor(clientId)), ...auth }, headers)
    if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${await response.text()}`)
    return (await response.json()) as TokenResult
  }

  return {
    f,
    api,
    apiLogLines,
    register,
    post,
    codeParams,
    tokensFor,
    allLogs: () => [...apiLogLines, ...f.logLines].join(''),
    close: async () => {
      await api.close()
      await f.close()
    },
  }
}

export type TokenApi = Awaited<ReturnType<typeof createTokenApi>>

/** RFC 6749 §2.3.1: form-urlencode each part, then base64 of "id:secret". */
export const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
})

/** Asserts an RFC 6749 §5.2 error response exactly (never cached, readable cross-origin); returns the WWW-Authenticate header. */
export async function expectOAuthError(response: Response, status: number, error: string): Promise<string | null> {
  const body = (await response.json()) as Record<string, unknown>
  expect(body.error).toBe(error)
  expect(response.status).toBe(status)
  expect(typeof body.error_description).toBe('string')
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description'])
  expect(response.headers.get('content-type')).toStartWith('application/json')
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(response.headers.get('pragma')).toBe('no-cache')
  expect(response.headers.get('access-control-allow-origin')).toBe('*')
  return response.headers.get('www-authenticate')
}
