/** Failures as one line and an exit code: API errors, network errors, argument resolution. */
import { describe, expect, test } from 'bun:test'
import { apiError, CliError, EXIT, exitCodeForStatus, outputModeOf, resolveGivenToken, resolveServerUrl, unreachable } from '../../src/cli/client/index.ts'

describe('exit codes', () => {
  test('0 ok, 1 error, 2 usage, 3 not signed in or not allowed, 4 not found', () => {
    expect(EXIT).toEqual({ ok: 0, error: 1, usage: 2, auth: 3, notFound: 4 })
    expect([400, 401, 403, 404, 409, 422, 500, 502, 503].map(exitCodeForStatus)).toEqual([1, 3, 3, 4, 1, 1, 1, 1, 1])
  })

  test('an API error is one line: status, error code, the API\'s error_description', () => {
    const error = apiError(400, { error: 'invalid_request', error_description: 'field target_url: expected an http(s) URL' })
    expect(error).toBeInstanceOf(CliError)
    expect(error.message).toBe('400 invalid_request: field target_url: expected an http(s) URL')
    expect(error.exitCode).toBe(1)
    expect(apiError(404, { error: 'not_found', error_description: 'no proxy app.example.com' }).exitCode).toBe(4)
    expect(apiError(403, { error: 'insufficient_scope', error_description: 'this endpoint requires the admin scope' }).exitCode).toBe(3)
  })

  test('a body that is not the API\'s (a proxy\'s HTML page) still gives one clean line', () => {
    expect(apiError(502, '<html>\n<body>Bad gateway</body></html>').message).toBe('502 error')
    expect(apiError(400, { error: 'x\x1b[31m', error_description: 'line1\nline2\x07' }).message).toBe('400 x?[31m: line1 line2?')
  })

  test('a network failure names the URL and the reason, on one line', () => {
    expect(unreachable('http://127.0.0.1:9000', Object.assign(new TypeError('Unable to connect'), { code: 'ConnectionRefused' })).message).toBe(
      'cannot reach http://127.0.0.1:9000: connection refused',
    )
    expect(unreachable('https://api.example.com', Object.assign(new Error('getaddrinfo ENOTFOUND api.example.com'), { code: 'ENOTFOUND' })).message).toBe(
      'cannot reach https://api.example.com: host not found',
    )
    expect(unreachable('https://x', new DOMException('The operation timed out.', 'TimeoutError')).message).toBe('cannot reach https://x: no answer in time')
    expect(unreachable('https://x', new Error('weird\nsecond line')).exitCode).toBe(1)
    expect(unreachable('https://x', new Error('weird\nsecond line')).message).toBe('cannot reach https://x: weird')
  })
})

describe('which server, which token, which output', () => {
  test('--url, then OHP_URL, then PUBLIC_URL, then http://127.0.0.1:9000; canonical form', () => {
    const env = { OHP_URL: 'https://ohp.example.com', PUBLIC_URL: 'https://public.example.com' }
    expect(resolveServerUrl({ url: 'HTTPS://API.Example.com:443/' }, env)).toBe('https://api.example.com')
    expect(resolveServerUrl({}, env)).toBe('https://ohp.example.com')
    expect(resolveServerUrl({}, { PUBLIC_URL: 'https://public.example.com/' })).toBe('https://public.example.com')
    expect(resolveServerUrl({}, {})).toBe('http://127.0.0.1:9000')
    expect(resolveServerUrl({ url: 'https://example.com/api/' }, {})).toBe('https://example.com/api')
  })

  test('a URL that is not http(s), or carries credentials, a query or a fragment: usage error naming its source', () => {
    for (const [args, env, source] of [
      [{ url: 'ftp://x' }, {}, '--url'],
      [{ url: 'https://user:pw@x' }, {}, '--url'],
      [{ url: 'https://x/?a=1' }, {}, '--url'],
      [{}, { OHP_URL: 'not a url' }, 'OHP_URL'],
      [{}, { PUBLIC_URL: 'https://x/#f' }, 'PUBLIC_URL'],
    ] as const) {
      let caught: unknown
      try {
        resolveServerUrl(args, env)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(CliError)
      expect((caught as CliError).exitCode).toBe(2)
      expect((caught as CliError).message).toStartWith(`${source}: expected an http(s) URL`)
      expect((caught as CliError).message).not.toContain('pw')
    }
  })

  test('--token, then OHP_TOKEN; blank means none', () => {
    expect(resolveGivenToken({ token: 'a' }, { OHP_TOKEN: 'b' })).toBe('a')
    expect(resolveGivenToken({}, { OHP_TOKEN: 'b' })).toBe('b')
    expect(resolveGivenToken({}, { OHP_TOKEN: '  ' })).toBeUndefined()
  })

  test('--json and --quiet together are a usage error', () => {
    expect(outputModeOf({ json: true })).toBe('json')
    expect(outputModeOf({ quiet: true })).toBe('quiet')
    expect(outputModeOf({})).toBe('table')
    expect(() => outputModeOf({ json: true, quiet: true })).toThrow('--json and --quiet cannot be combined')
  })
})
