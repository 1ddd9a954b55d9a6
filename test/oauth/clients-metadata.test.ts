/** Parsing a registration request (RFC 7591 §2, §3.1): defaults, limits, hostile bodies, error codes. */
import { describe, expect, test } from 'bun:test'
import { parseClientMetadata, type ClientMetadataResult } from '../../src/oauth/index.ts'

const LOOPBACK = ['http://127.0.0.1:33418/callback']
const ok = (result: ClientMetadataResult) => {
  if (!result.ok) throw new Error(`expected success, got ${result.error}: ${result.description}`)
  return result.metadata
}
const errorOf = (input: unknown) => {
  const result = parseClientMetadata(input)
  if (result.ok) throw new Error(`expected a refusal for ${JSON.stringify(input).slice(0, 200)}`)
  return result
}

describe('parseClientMetadata: defaults and echo', () => {
  test('RFC 7591 §2: omitted fields get the defaults (client_secret_basic, authorization_code, code)', () => {
    expect(ok(parseClientMetadata({ redirect_uris: ['https://app.example/cb'] }))).toEqual({
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })
  })

  test('an MCP-SDK-style public client keeps what it asked for', () => {
    const metadata = ok(
      parseClientMetadata({
        client_name: 'MCP Inspector',
        client_uri: 'https://github.com/modelcontextprotocol/inspector',
        redirect_uris: ['http://localhost:6274/oauth/callback', 'http://127.0.0.1:6276/oauth/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'mcp',
        application_type: 'native',
      }),
    )
    expect(metadata).toEqual({
      client_name: 'MCP Inspector',
      client_uri: 'https://github.com/modelcontextprotocol/inspector',
      redirect_uris: ['http://localhost:6274/oauth/callback', 'http://127.0.0.1:6276/oauth/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'mcp',
      application_type: 'native',
    })
  })

  test('grant_types ["authorization_code"] alone is accepted, and refresh_token is not added behind the client\'s back (AS-07)', () => {
    expect(ok(parseClientMetadata({ redirect_uris: LOOPBACK, grant_types: ['authorization_code'] })).grant_types).toEqual(['authorization_code'])
  })

  test('a device-grant-only client needs no redirect URI and defaults to no response types', () => {
    const metadata = ok(parseClientMetadata({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], token_endpoint_auth_method: 'none' }))
    expect(metadata.redirect_uris).toEqual([])
    expect(metadata.response_types).toEqual([])
  })

  test('RFC 7591 §2: unknown fields are ignored, including a client-chosen client_id or client_secret', () => {
    // JSON.parse makes "__proto__" an own key, as a request body would.
    const body = JSON.parse(
      JSON.stringify({
        redirect_uris: LOOPBACK,
        client_id: 'admin',
        client_secret: 'chosen',
        client_id_issued_at: 1,
        registration_access_token: 'x',
        software_statement: 'eyJ...',
        contacts: ['a@b.c'],
        'client_name#fr': 'Bonjour',
      }).replace(/^\{/, '{"__proto__":{"polluted":true},'),
    )
    const metadata = ok(parseClientMetadata(body))
    expect(Object.keys(metadata).sort()).toEqual(['grant_types', 'redirect_uris', 'response_types', 'token_endpoint_auth_method'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('null is treated as absent; empty strings are dropped', () => {
    const metadata = ok(parseClientMetadata({ redirect_uris: LOOPBACK, client_name: null, client_uri: null, scope: null, grant_types: null, token_endpoint_auth_method: null }))
    expect(metadata.client_name).toBeUndefined()
    expect(metadata.token_endpoint_auth_method).toBe('client_secret_basic')
    expect(ok(parseClientMetadata({ redirect_uris: LOOPBACK, client_name: '' })).client_name).toBeUndefined()
  })

  test('duplicates are collapsed', () => {
    const metadata = ok(parseClientMetadata({ redirect_uris: [...LOOPBACK, ...LOOPBACK], grant_types: ['authorization_code', 'authorization_code'] }))
    expect(metadata.redirect_uris).toEqual(LOOPBACK)
    expect(metadata.grant_types).toEqual(['authorization_code'])
  })

  test('RFC 7591 §3.2.1: scope keeps only scopes this server issues', () => {
    expect(ok(parseClientMetadata({ redirect_uris: LOOPBACK, scope: 'mcp offline_access user mcp' })).scope).toBe('mcp user')
    expect(ok(parseClientMetadata({ redirect_uris: LOOPBACK, scope: 'openid profile' })).scope).toBeUndefined()
  })
})

describe('parseClientMetadata: refusals', () => {
  test('RFC 7591 §3.2.2: a body that is not an object → invalid_client_metadata', () => {
    for (const input of [null, [], [{ redirect_uris: LOOPBACK }], 'x', 42, true, undefined]) {
      expect(errorOf(input).error).toBe('invalid_client_metadata')
    }
  })

  test('RFC 7591 §3.2.2: a bad redirect_uri → invalid_redirect_uri naming its index', () => {
    const result = errorOf({ redirect_uris: ['https://ok.example/cb', 'javascript:alert(1)'] })
    expect(result).toEqual({ ok: false, error: 'invalid_redirect_uri', description: 'redirect_uris[1]: the javascript: scheme is not allowed' })
    for (const uri of ['data:text/html,x', 'http://evil.example/cb', 'https://app.example/cb#f', 'http://localhost.evil.com/cb', 'wss://app.example/cb', 42, null, {}]) {
      expect(errorOf({ redirect_uris: [uri] }).error).toBe('invalid_redirect_uri')
    }
  })

  test('RFC 7591 §3.2.2: redirect_uris of the wrong shape → invalid_redirect_uri', () => {
    for (const redirect_uris of ['https://app.example/cb', {}, 7, true]) expect(errorOf({ redirect_uris }).error).toBe('invalid_redirect_uri')
  })

  test('RFC 7591 §2: the authorization_code grant without redirect URIs → invalid_redirect_uri', () => {
    for (const input of [{}, { redirect_uris: [] }, { redirect_uris: null }, { grant_types: ['authorization_code'] }]) {
      expect(errorOf(input).error).toBe('invalid_redirect_uri')
    }
  })

  test('RFC 7591 §5: more than 10 redirect URIs → invalid_redirect_uri, and 10,000 are refused without parsing each', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `https://app.example/cb${i}`)
    expect(errorOf({ redirect_uris: eleven }).description).toBe('redirect_uris: at most 10 redirect URIs may be registered')
    expect(ok(parseClientMetadata({ redirect_uris: eleven.slice(0, 10) })).redirect_uris).toHaveLength(10)
    const started = performance.now()
    expect(errorOf({ redirect_uris: Array.from({ length: 10_000 }, () => 'javascript:alert(1)') }).description).toContain('at most 10')
    expect(performance.now() - started).toBeLessThan(100)
  })

  test('RFC 7591 §3.2.2: unsupported grant types (implicit, password, client_credentials) → invalid_client_metadata', () => {
    for (const grant of ['implicit', 'password', 'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer', '', null, 1]) {
      const result = errorOf({ redirect_uris: LOOPBACK, grant_types: [grant] })
      expect(result.error).toBe('invalid_client_metadata')
      expect(result.description).toStartWith('grant_types[0]:')
    }
    expect(errorOf({ redirect_uris: LOOPBACK, grant_types: [] }).error).toBe('invalid_client_metadata')
    expect(errorOf({ redirect_uris: LOOPBACK, grant_types: 'authorization_code' }).error).toBe('invalid_client_metadata')
    expect(errorOf({ grant_types: ['refresh_token'] }).error).toBe('invalid_client_metadata')
  })

  test('OAuth 2.1 §10: response_type token (implicit) → invalid_client_metadata', () => {
    for (const response_types of [['token'], ['code', 'token'], ['id_token'], 'code']) {
      expect(errorOf({ redirect_uris: LOOPBACK, response_types }).error).toBe('invalid_client_metadata')
    }
  })

  test('RFC 7591 §2.1: grant_types and response_types must agree', () => {
    expect(errorOf({ redirect_uris: LOOPBACK, response_types: [] }).description).toContain('RFC 7591 §2.1')
    expect(errorOf({ grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: ['code'] }).description).toContain('RFC 7591 §2.1')
  })

  test('RFC 7591 §3.2.2: unsupported token_endpoint_auth_method → invalid_client_metadata', () => {
    for (const method of ['private_key_jwt', 'client_secret_jwt', 'tls_client_auth', 'NONE', '', 0]) {
      const result = errorOf({ redirect_uris: LOOPBACK, token_endpoint_auth_method: method })
      expect(result.error).toBe('invalid_client_metadata')
      expect(result.description).toStartWith('token_endpoint_auth_method:')
    }
  })

  test('RFC 7591 §3.2.2: client_uri / logo_uri must be https (never javascript:) → invalid_client_metadata', () => {
    for (const field of ['client_uri', 'logo_uri']) {
      for (const value of ['javascript:alert(1)', 'data:image/png;base64,AAAA', 'http://evil.example/', 'https://u:p@app.example/', 'not a url', 42, ['https://a.example']]) {
        const result = errorOf({ redirect_uris: LOOPBACK, [field]: value })
        expect(result.error).toBe('invalid_client_metadata')
        expect(result.description).toStartWith(`${field}:`)
      }
    }
  })

  test('RFC 7591 §3.2.2: client_name must be a short displayable string', () => {
    for (const client_name of ['x'.repeat(201), 'evil\nname', 'a\u0000b', 42, ['a'], { a: 1 }]) {
      expect(errorOf({ redirect_uris: LOOPBACK, client_name }).error).toBe('invalid_client_metadata')
    }
    expect(ok(parseClientMetadata({ redirect_uris: LOOPBACK, client_name: '<script>alert(1)</script> Ünïcode' })).client_name).toBe('<script>alert(1)</script> Ünïcode')
  })

  test('RFC 6749 §3.3: scope must be space-separated scope tokens', () => {
    for (const scope of ['mcp  user', ' mcp', 'mcp\tuser', 'a"b', 'x'.repeat(1001), 7, ['mcp']]) {
      expect(errorOf({ redirect_uris: LOOPBACK, scope }).error).toBe('invalid_client_metadata')
    }
  })

  test('application_type is web or native', () => {
    expect(ok(parseClientMetadata({ redirect_uris: LOOPBACK, application_type: 'web' })).application_type).toBe('web')
    expect(errorOf({ redirect_uris: LOOPBACK, application_type: 'browser' }).error).toBe('invalid_client_metadata')
  })
})
