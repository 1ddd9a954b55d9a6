/** Redirect URI rules at registration (RFC 8252, OAuth 2.1) and the exact-match comparison /authorize uses. */
import { describe, expect, test } from 'bun:test'
import { isLoopbackRedirectUri, redirectUriMatches, validateRedirectUri } from '../../src/oauth/index.ts'

const reasonOf = (uri: string) => {
  const check = validateRedirectUri(uri)
  return check.ok ? null : check.reason
}

describe('validateRedirectUri: accepted', () => {
  test.each([
    ['https://claude.ai/api/mcp/auth_callback', 'https'],
    ['https://vscode.dev/redirect', 'https'],
    ['https://app.example', 'https'],
    ['https://app.example/', 'https'],
    ['https://app.example:8443/cb?tenant=a&x=1', 'https'],
    ['https://192.0.2.10/cb', 'https'],
    ['https://app.example/caf%C3%A9', 'https'],
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.0.0.1', 'loopback'],
    ['http://127.0.0.1:33418/', 'loopback'],
    ['http://127.0.0.1:6276/oauth/callback', 'loopback'],
    ['http://[::1]:8080/cb', 'loopback'],
    ['http://localhost:6274/oauth/callback', 'loopback'],
    ['com.example.app:/oauth2redirect/example-provider', 'private-use'],
    ['com.example.app://callback', 'private-use'],
    ['io.github.someone.tool:/cb', 'private-use'],
  ])('%s → %s', (uri, kind) => {
    expect(validateRedirectUri(uri)).toEqual({ ok: true, kind: kind as 'https' })
  })
})

describe('validateRedirectUri: refused (RFC 7591 §3.2.2 invalid_redirect_uri)', () => {
  test('RFC 6749 §3.1.2: a fragment is refused, even an empty one', () => {
    for (const uri of ['https://app.example/cb#x', 'https://app.example/cb#', 'http://127.0.0.1/cb#frag', 'com.example.app:/cb#x']) {
      expect(reasonOf(uri)).toContain('fragment')
    }
  })

  test('dangerous schemes (javascript:, data:, file:, vbscript:, blob:, about:) are refused by name, in any case', () => {
    const cases: [string, string][] = [
      ['javascript:alert(1)', 'javascript'],
      ['JavaScript:alert(document.cookie)', 'javascript'],
      ['data:text/html,<script>alert(1)</script>', 'data'],
      ['data:text/html;base64,PHNjcmlwdD4=', 'data'],
      ['file:///etc/passwd', 'file'],
      ['vbscript:msgbox', 'vbscript'],
      ['blob:https://app.example/uuid', 'blob'],
      ['about:blank', 'about'],
    ]
    for (const [uri, scheme] of cases) expect(reasonOf(uri)).toBe(`the ${scheme}: scheme is not allowed`)
  })

  test('RFC 8252 §8.3: http to anything but loopback is refused', () => {
    for (const uri of ['http://app.example/cb', 'http://evil.example/cb', 'http://192.168.1.10/cb', 'http://10.0.0.1:8080/', 'http://127.0.0.2/cb', 'http://0.0.0.0/cb', 'http://[::2]/cb']) {
      expect(reasonOf(uri)).toStartWith('http is allowed only for loopback')
    }
  })

  test('RFC 8252 §8.3: look-alike loopback hosts are not loopback (original §4.12 prefix bug)', () => {
    for (const uri of ['http://localhost.evil.com/cb', 'http://127.0.0.1.evil.com/cb', 'http://127.0.0.1.nip.io/cb', 'http://localhost./cb', 'http://[::1].evil.com/']) {
      expect(validateRedirectUri(uri).ok).toBe(false)
    }
  })

  test('userinfo is refused (http://127.0.0.1@evil.com points at evil.com)', () => {
    expect(reasonOf('https://user:pw@app.example/cb')).toBe('must not contain userinfo')
    expect(reasonOf('https://user@app.example/cb')).toBe('must not contain userinfo')
    // Here 127.0.0.1 is the userinfo and evil.com the host: refused as non-loopback http.
    expect(validateRedirectUri('http://127.0.0.1@evil.com/cb').ok).toBe(false)
    expect(validateRedirectUri('http://localhost:80@evil.com/').ok).toBe(false)
  })

  test('OAuth 2.1 §2.3.1: wildcards are refused', () => {
    for (const uri of ['https://*.app.example/cb', 'https://app.example/*', 'http://127.0.0.1:*/cb', 'com.example.*:/cb']) {
      expect(reasonOf(uri)).toContain('wildcards')
    }
  })

  test('RFC 8252 §7.1/§8.4: app schemes real MCP clients use are accepted; schemes that name a network protocol are refused', () => {
    for (const uri of ['cursor://anysphere.cursor-mcp/oauth/callback', 'vscode://vscode.github-authentication/did-authenticate', 'myapp:/callback']) {
      expect(validateRedirectUri(uri)).toEqual({ ok: true, kind: 'private-use' })
    }
    for (const uri of ['ws://app.example/', 'wss://app.example/', 'ftp://app.example/', 'mailto:a@example.com', 'intent://x']) {
      expect(reasonOf(uri)).toContain('not a private-use scheme')
    }
    for (const uri of ['com..example:/cb', '.com.example:/cb', 'com.example.:/cb']) expect(validateRedirectUri(uri).ok).toBe(false)
    expect(reasonOf('com.example.app:')).toContain('needs a path')
  })

  test('non-normalised forms are refused, so the string compared is the string a browser visits', () => {
    const cases = [
      'HTTPS://app.example/cb',
      'https://APP.example/cb',
      'http://LOCALHOST/cb',
      'Com.Example.App:/cb',
      'https://app.example/a/../cb',
      'https://app.example/./cb',
      'https://app.example:443/cb',
      'http://127.0.0.1:80/cb',
      'http://127.1/cb',
      'http://2130706433/cb',
      'http://0x7f000001/cb',
      'http://[0:0:0:0:0:0:0:1]/cb',
      'https://evil%2ecom/cb',
      'http://127.0.0.1%2eevil.com/cb',
      'https:app.example/cb',
      'https:///app.example/cb',
      'https://app.example/cb?q=\'x\'',
    ]
    for (const uri of cases) expect(validateRedirectUri(uri).ok, uri).toBe(false)
  })

  test('whitespace, controls, backslashes and non-ASCII are refused (parsers strip or rewrite them)', () => {
    for (const uri of [' https://app.example/cb', 'https://app.example/cb ', 'https://app.exa\tmple/cb', 'https://app.example/c\nb', 'https://app.example\\@evil.com/', 'https://exämple.com/cb', 'https://app.example/\u0000']) {
      expect(validateRedirectUri(uri).ok, JSON.stringify(uri)).toBe(false)
    }
  })

  test('relative, empty and overlong URIs are refused', () => {
    expect(reasonOf('')).toBe('must not be empty')
    expect(reasonOf('/callback')).toBe('must be an absolute URI')
    expect(reasonOf('//app.example/cb')).toBe('must be an absolute URI')
    expect(reasonOf('callback')).toBe('must be an absolute URI')
    expect(reasonOf(`https://app.example/${'a'.repeat(2000)}`)).toContain('at most 2000')
  })
})

describe('redirectUriMatches', () => {
  test('OAuth 2.1 §4.1.1: an identical string matches', () => {
    for (const uri of ['https://app.example/cb', 'https://app.example/cb?x=1', 'com.example.app:/cb', 'http://localhost:6274/oauth/callback']) {
      expect(redirectUriMatches(uri, uri)).toBe(true)
    }
  })

  test('OAuth 2.1 §4.1.1: no trailing-slash, case, query, port or percent-encoding leniency for https (RFC 3986 §6.2.1 simple comparison)', () => {
    const registered = 'https://app.example/cb'
    const requested = [
      'https://app.example/cb/',
      'https://app.example/CB',
      'https://APP.example/cb',
      'HTTPS://app.example/cb',
      'https://app.example/cb?x=1',
      'https://app.example/cb?',
      'https://app.example/cb#',
      'https://app.example:443/cb',
      'https://app.example:8443/cb',
      'https://app.example/%63b',
      'https://app.example/c%62',
      'https://app.example/cb%2F..%2F',
      'https://app.example/cb/../cb',
      'https://app.example.evil.com/cb',
      'https://app.example@evil.com/cb',
      'http://app.example/cb',
      ' https://app.example/cb',
      '',
    ]
    for (const uri of requested) expect(redirectUriMatches(registered, uri), uri).toBe(false)
    expect(redirectUriMatches('https://app.example/cb?a=1&b=2', 'https://app.example/cb?b=2&a=1')).toBe(false)
  })

  test('RFC 8252 §7.3: a loopback redirect may use any port', () => {
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:54321/cb')).toBe(true)
    expect(redirectUriMatches('http://127.0.0.1:33418/', 'http://127.0.0.1:49152/')).toBe(true)
    expect(redirectUriMatches('http://127.0.0.1:33418/', 'http://127.0.0.1/')).toBe(true)
    expect(redirectUriMatches('http://[::1]:8080/cb', 'http://[::1]:1/cb')).toBe(true)
    expect(redirectUriMatches('http://localhost:6274/oauth/callback', 'http://localhost:9999/oauth/callback')).toBe(true)
    expect(redirectUriMatches('http://127.0.0.1', 'http://127.0.0.1:5000')).toBe(true)
    expect(redirectUriMatches('http://127.0.0.1/cb?x=1', 'http://127.0.0.1:65535/cb?x=1')).toBe(true)
  })

  test('RFC 8252 §7.3: only the port is relaxed: host, path, query and scheme must still match exactly', () => {
    const registered = 'http://127.0.0.1:33418/cb'
    const requested = [
      'http://127.0.0.1:33418/cb/',
      'http://127.0.0.1:33418/CB',
      'http://127.0.0.1:33418/cb?x=1',
      'http://127.0.0.1:33418/other',
      'http://localhost:33418/cb',
      'http://[::1]:33418/cb',
      'https://127.0.0.1:33418/cb',
      'HTTP://127.0.0.1:33418/cb',
      'http://127.0.0.1.evil.com:33418/cb',
      'http://127.0.0.1:33418.evil.com/cb',
      'http://127.0.0.1:33418@evil.com/cb',
      'http://127.0.0.1@evil.com:33418/cb',
      'http://127.0.0.1:33418%2F@evil.com/cb',
      'http://127.0.0.1:/cb',
      'http://127.0.0.1:0/cb',
      'http://127.0.0.1:080/cb',
      'http://127.0.0.1:65536/cb',
      'http://127.0.0.1:99999/cb',
      'http://127.0.0.1:-1/cb',
      'http://127.0.0.1:+80/cb',
      'http://127.0.0.1:33418/cb#x',
    ]
    for (const uri of requested) expect(redirectUriMatches(registered, uri), uri).toBe(false)
  })

  test('RFC 8252 §7.3: localhost never matches a loopback literal, nor the reverse', () => {
    expect(redirectUriMatches('http://localhost/cb', 'http://127.0.0.1/cb')).toBe(false)
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://localhost:3000/cb')).toBe(false)
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost.evil.com/cb')).toBe(false)
    expect(redirectUriMatches('http://localhost/cb', 'http://localhost.evil.com:80/cb')).toBe(false)
    expect(redirectUriMatches('http://localhost/cb', 'http://LOCALHOST:3000/cb')).toBe(false)
  })

  test('no port leniency for https or private-use redirects, even on loopback hosts', () => {
    expect(redirectUriMatches('https://127.0.0.1/cb', 'https://127.0.0.1:8443/cb')).toBe(false)
    expect(redirectUriMatches('https://localhost:3000/cb', 'https://localhost:3001/cb')).toBe(false)
    expect(redirectUriMatches('com.example.app://127.0.0.1/cb', 'com.example.app://127.0.0.1:1/cb')).toBe(false)
  })

  test('isLoopbackRedirectUri', () => {
    expect(isLoopbackRedirectUri('http://127.0.0.1:3000/cb')).toBe(true)
    expect(isLoopbackRedirectUri('http://localhost/cb')).toBe(true)
    expect(isLoopbackRedirectUri('http://localhost.evil.com/cb')).toBe(false)
    expect(isLoopbackRedirectUri('https://127.0.0.1/cb')).toBe(false)
  })
})
