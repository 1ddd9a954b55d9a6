/**
 * Which host is an issuer (issue #4, "Issuer"): only PUBLIC_URL's host, the API's own loopback address
 * and proxies whose target is the API. Everything else, however it is spelled, has no issuer.
 */
import { describe, expect, test } from 'bun:test'
import { createIssuerResolver, isLoopbackHost, parseHostHeader, type IssuerResolverDeps } from '../../src/oauth/index.ts'

const request = (host: string | null, headers: Record<string, string> = {}) => {
  const init = new Headers(headers)
  if (host !== null) init.set('host', host)
  return new Request('http://127.0.0.1:9000/.well-known/oauth-authorization-server', { headers: init })
}

function resolver(overrides: Partial<IssuerResolverDeps> = {}) {
  return createIssuerResolver({
    publicUrl: 'https://api.example.com',
    apiOrigin: () => 'http://127.0.0.1:9000',
    // other.example.com targets some other backend, so it is not in this list.
    apiProxyHostnames: async () => ['auth.example.com', 'localhost', 'app.localhost', '*.wild.example.com'],
    ...overrides,
  })
}

describe('parseHostHeader: RFC 9110 §7.2 Host, canonical spellings only', () => {
  test('a name, an IPv4 and a bracketed IPv6 address, each with or without a port', () => {
    expect(parseHostHeader('auth.example.com')).toEqual({ hostname: 'auth.example.com', port: null })
    expect(parseHostHeader('AUTH.Example.COM:8443')).toEqual({ hostname: 'auth.example.com', port: 8443 })
    expect(parseHostHeader('127.0.0.1:9000')).toEqual({ hostname: '127.0.0.1', port: 9000 })
    expect(parseHostHeader('[::1]:9000')).toEqual({ hostname: '[::1]', port: 9000 })
    expect(parseHostHeader('[::1]')).toEqual({ hostname: '[::1]', port: null })
  })

  const hostile = [
    '',
    ' ',
    ':443',
    'auth.example.com:',
    'auth.example.com:0',
    'auth.example.com:0443',
    'auth.example.com:65536',
    'auth.example.com:abc',
    'auth.example.com.',
    'evil.com@auth.example.com',
    'auth.example.com/evil',
    'auth.example.com?x',
    'auth.example.com#x',
    'auth.example.com\\evil.com',
    'auth.example.com, evil.com',
    'auth example.com',
    'auth.example.com%2f',
    '-auth.example.com',
    '::1',
    '[::1',
    '[0:0:0:0:0:0:0:1]',
    '127.1',
    '0x7f.0.0.1',
    '2130706433',
    'xn--nxasmq6b.example.com\u0000',
    'ex\u00e4mple.com',
  ]
  for (const value of hostile) {
    test(`refuses ${JSON.stringify(value)}`, () => expect(parseHostHeader(value)).toBeNull())
  }
})

describe('isLoopbackHost', () => {
  test('localhost, *.localhost (RFC 6761 §6.3), 127.0.0.0/8 and ::1 are loopback', () => {
    for (const name of ['localhost', 'app.localhost', '127.0.0.1', '127.8.9.10', '[::1]']) expect(isLoopbackHost(name)).toBe(true)
  })
  test('look-alikes are not', () => {
    for (const name of ['localhost.evil.com', 'evillocalhost', 'notlocalhost', '128.0.0.1', '[::2]', '0.0.0.0', '[::]', '10.0.0.1']) expect(isLoopbackHost(name)).toBe(false)
  })
})

describe('createIssuerResolver: (a) the host of PUBLIC_URL is exactly PUBLIC_URL', () => {
  test('with or without a port, in any case', async () => {
    const resolve = resolver()
    for (const host of ['api.example.com', 'API.EXAMPLE.COM', 'api.example.com:443', 'api.example.com:8443']) {
      expect(await resolve(request(host))).toBe('https://api.example.com')
    }
  })

  test('a PUBLIC_URL with a port or a path is returned unchanged', async () => {
    expect(await resolver({ publicUrl: 'https://api.example.com:8443' })(request('api.example.com:8443'))).toBe('https://api.example.com:8443')
    expect(await resolver({ publicUrl: 'https://example.com/oauth' })(request('example.com'))).toBe('https://example.com/oauth')
  })

  test('a loopback PUBLIC_URL matches only on its own port', async () => {
    const resolve = resolver({ publicUrl: 'http://127.0.0.1:8080', apiOrigin: () => 'http://127.0.0.1:9000' })
    expect(await resolve(request('127.0.0.1:8080'))).toBe('http://127.0.0.1:8080')
    expect(await resolve(request('127.0.0.1:9000'))).toBe('http://127.0.0.1:9000')
    expect(await resolve(request('127.0.0.1:7777'))).toBeNull()
    expect(await resolve(request('127.0.0.1'))).toBeNull()
  })
})

describe('createIssuerResolver: (b) the API on its own loopback address', () => {
  test('Host 127.0.0.1:API_PORT is the API origin', async () => {
    expect(await resolver()(request('127.0.0.1:9000'))).toBe('http://127.0.0.1:9000')
  })

  test('other loopback spellings on the API port keep what the client sent', async () => {
    const resolve = resolver({ apiProxyHostnames: () => [] })
    expect(await resolve(request('localhost:9000'))).toBe('http://localhost:9000')
    expect(await resolve(request('[::1]:9000'))).toBe('http://[::1]:9000')
  })

  test('a loopback host on another port, or without one, is not the API', async () => {
    const resolve = resolver({ apiProxyHostnames: () => [] })
    for (const host of ['127.0.0.1:9001', '127.0.0.1', 'localhost', '[::1]:80']) expect(await resolve(request(host))).toBeNull()
  })

  test('an API bound to every address (0.0.0.0, ::) is reached on any loopback address', async () => {
    for (const origin of ['http://0.0.0.0:9000', 'http://[::]:9000']) {
      const resolve = resolver({ apiOrigin: () => origin, apiProxyHostnames: () => [] })
      expect(await resolve(request('127.0.0.1:9000'))).toBe('http://127.0.0.1:9000')
      expect(await resolve(request('[::1]:9000'))).toBe('http://[::1]:9000')
    }
  })

  test('an API bound to a non-loopback address makes no http issuer of that address', async () => {
    const resolve = resolver({ apiOrigin: () => 'http://10.0.0.5:9000', apiProxyHostnames: () => [] })
    expect(await resolve(request('10.0.0.5:9000'))).toBeNull()
    expect(await resolve(request('127.0.0.1:9000'))).toBeNull()
  })

  test('the API origin is asked per request (with API_PORT=0 it is known only after listening)', async () => {
    let origin = 'http://127.0.0.1:0'
    const resolve = resolver({ apiOrigin: () => origin, apiProxyHostnames: () => [] })
    expect(await resolve(request('127.0.0.1:41234'))).toBeNull()
    origin = 'http://127.0.0.1:41234'
    expect(await resolve(request('127.0.0.1:41234'))).toBe('http://127.0.0.1:41234')
  })
})

describe('createIssuerResolver: (c) proxies whose target is the API', () => {
  test('a public proxy hostname is https://hostname, whatever port or case the Host carries', async () => {
    const resolve = resolver()
    for (const host of ['auth.example.com', 'AUTH.EXAMPLE.COM', 'auth.example.com:443', 'auth.example.com:8443', 'auth.example.com:80']) {
      expect(await resolve(request(host))).toBe('https://auth.example.com')
    }
  })

  test('the built-in localhost proxy is http://localhost with the port the browser used', async () => {
    const resolve = resolver()
    expect(await resolve(request('localhost'))).toBe('http://localhost')
    expect(await resolve(request('localhost:80'))).toBe('http://localhost')
    expect(await resolve(request('localhost:8080'))).toBe('http://localhost:8080')
    expect(await resolve(request('LOCALHOST:8080'))).toBe('http://localhost:8080')
    expect(await resolve(request('app.localhost:8080'))).toBe('http://app.localhost:8080')
  })

  test('the list is read per request, so a proxy repointed away from the API stops being an issuer', async () => {
    let names = ['auth.example.com']
    const resolve = resolver({ apiProxyHostnames: () => names })
    expect(await resolve(request('auth.example.com'))).toBe('https://auth.example.com')
    names = []
    expect(await resolve(request('auth.example.com'))).toBeNull()
  })
})

describe('createIssuerResolver: hostile hosts have no issuer', () => {
  const cases: [string, string | null][] = [
    ['another proxy (other backend)', 'other.example.com'],
    ['an unknown host', 'evil.com'],
    ['a look-alike suffix', 'localhost.evil.com'],
    ['a look-alike prefix', 'evilauth.example.com'],
    ['a subdomain of an issuer', 'x.auth.example.com'],
    ['a name under a wildcard proxy', 'a.wild.example.com'],
    ['the wildcard itself', '*.wild.example.com'],
    ['a trailing dot', 'auth.example.com.'],
    ['userinfo', 'evil.com@auth.example.com'],
    ['an empty Host', ''],
    ['no Host at all', null],
    ['a public IPv6 literal', '[2001:db8::1]'],
    ['a public IPv4 literal', '203.0.113.7'],
    ['a non-canonical loopback address', '127.1:9000'],
    ['two Host values folded', 'auth.example.com, evil.com'],
  ]
  for (const [what, host] of cases) {
    test(`${what}: ${JSON.stringify(host)} → null`, async () => expect(await resolver()(request(host))).toBeNull())
  }

  test('X-Forwarded-Host and Forwarded are never consulted', async () => {
    const resolve = resolver()
    const spoofed = { 'x-forwarded-host': 'auth.example.com', forwarded: 'host=auth.example.com;proto=https', 'x-forwarded-proto': 'https' }
    expect(await resolve(request('evil.com', spoofed))).toBeNull()
    expect(await resolve(request('auth.example.com', { 'x-forwarded-host': 'evil.com' }))).toBe('https://auth.example.com')
  })

  test('the request URL is not a fallback for the Host header', async () => {
    const direct = new Request('http://auth.example.com/.well-known/oauth-authorization-server')
    direct.headers.delete('host')
    expect(await resolver()(direct)).toBeNull()
  })
})
