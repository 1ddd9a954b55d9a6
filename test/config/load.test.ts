/** One validated Config from env and flags; a bad value names its variable and what it expected. */
import { describe, expect, test } from 'bun:test'
import { loadConfig, SETTINGS } from '../../src/config/index.ts'
import { problemsOf } from '../support/config-problems.ts'

describe('loadConfig', () => {
  test('no environment at all gives a working configuration on the embedded store', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      httpPort: 80,
      httpsPort: 443,
      apiHost: '127.0.0.1',
      apiPort: 9000,
      dataDir: './data',
      redisUrl: undefined,
      publicUrl: 'http://127.0.0.1:9000',
      logLevel: 'info',
      oauth: { accessTokenLifetimeSec: 3600, adminUsers: [], userUsers: [], mcpUsers: [] },
    })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.oauth)).toBe(true)
  })

  test('flags win over the environment; an empty value counts as unset', () => {
    const config = loadConfig({ HTTP_PORT: '8080', API_PORT: '', PUBLIC_URL: 'https://proxy.example.com/' }, { 'http-port': '8081' })
    expect(config.httpPort).toBe(8081)
    expect(config.apiPort).toBe(9000)
    expect(config.publicUrl).toBe('https://proxy.example.com')
  })

  test('durations, lists and CIDRs are parsed', () => {
    const config = loadConfig({
      OAUTH_ACCESS_TOKEN_LIFETIME: '15m',
      OAUTH_REFRESH_TOKEN_LIFETIME: '7d',
      OAUTH_ADMIN_USERS: 'alice, bob ,',
      PROXY_PROTOCOL_TRUSTED: '10.0.0.0/8, ::1, 192.168.1.7',
      REDIS_URL: 'redis://:secret@127.0.0.1:6379/2',
    })
    expect(config.oauth.accessTokenLifetimeSec).toBe(900)
    expect(config.oauth.refreshTokenLifetimeSec).toBe(604_800)
    expect(config.oauth.adminUsers).toEqual(['alice', 'bob'])
    expect(config.proxyProtocolTrusted).toEqual(['10.0.0.0/8', '::1', '192.168.1.7'])
    expect(config.redisUrl).toBe('redis://:secret@127.0.0.1:6379/2')
  })

  test('OAUTH_CIMD_ALLOW_PRIVATE: false by default, true/1 enable it, anything else is an error', () => {
    expect(loadConfig({}).oauth.cimdAllowPrivate).toBe(false)
    expect(loadConfig({ OAUTH_CIMD_ALLOW_PRIVATE: 'true' }).oauth.cimdAllowPrivate).toBe(true)
    expect(loadConfig({ OAUTH_CIMD_ALLOW_PRIVATE: '1' }).oauth.cimdAllowPrivate).toBe(true)
    expect(() => loadConfig({ OAUTH_CIMD_ALLOW_PRIVATE: 'yes' })).toThrow('OAUTH_CIMD_ALLOW_PRIVATE: expected true or false')
  })

  test('each bad value is one line naming the variable and what it expected', () => {
    const cases: [Record<string, string>, string][] = [
      [{ HTTP_PORT: 'abc' }, 'HTTP_PORT: expected a port number 0-65535, got "abc"'],
      [{ HTTPS_PORT: '70000' }, 'HTTPS_PORT: expected a port number 0-65535, got "70000"'],
      [{ API_PORT: '-1' }, 'API_PORT: expected a port number 0-65535, got "-1"'],
      [{ REDIS_URL: 'nonsense' }, 'REDIS_URL: expected a redis:// or rediss:// URL, got (hidden)'],
      [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL: expected a redis:// or rediss:// URL, got (hidden)'],
      [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL: expected an http(s) URL, got "ftp://x"'],
      [{ GITHUB_URL: 'not a url' }, 'GITHUB_URL: expected an http(s) URL, got "not a url"'],
      [{ OAUTH_ACCESS_TOKEN_LIFETIME: '1 hour' }, 'OAUTH_ACCESS_TOKEN_LIFETIME: expected a duration such as 3600, 90s, 15m, 1h or 30d, got "1 hour"'],
      [{ OAUTH_REFRESH_TOKEN_LIFETIME: '0' }, 'OAUTH_REFRESH_TOKEN_LIFETIME: expected a duration such as 3600, 90s, 15m, 1h or 30d, got "0"'],
      [{ OAUTH_ADMIN_USERS: 'alice,<script>' }, 'OAUTH_ADMIN_USERS: expected GitHub logins separated by commas, or *, got "alice,<script>"'],
      [{ PROXY_PROTOCOL_TRUSTED: '10.0.0.0/33' }, 'PROXY_PROTOCOL_TRUSTED: expected CIDRs separated by commas, e.g. 10.0.0.0/8,::1, got "10.0.0.0/33"'],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: expected one of debug, info, warn, error, silent, got "loud"'],
      [{ ACME_EMAIL: 'nobody' }, 'ACME_EMAIL: expected an email address, got "nobody"'],
      [{ NODE_ID: 'a b' }, 'NODE_ID: expected letters, digits, ".", "_" or "-", got "a b"'],
    ]
    for (const [env, line] of cases) expect(problemsOf(env)).toEqual([line])
  })

  test('a secret never appears in an error', () => {
    const [line] = problemsOf({ REDIS_URL: 'redis//:hunter2@host' })
    expect(line).not.toContain('hunter2')
  })

  test('every problem is reported at once, flags included', () => {
    expect(problemsOf({ HTTP_PORT: 'x', LOG_LEVEL: 'y' }, { 'api-port': '99999' })).toEqual([
      'HTTP_PORT: expected a port number 0-65535, got "x"',
      'API_PORT: expected a port number 0-65535, got "99999"',
      'LOG_LEVEL: expected one of debug, info, warn, error, silent, got "y"',
    ])
  })

  test('every setting has an env name in the contract style and a description', () => {
    for (const setting of Object.values(SETTINGS)) {
      expect(setting.env).toMatch(/^[A-Z][A-Z0-9_]+$/)
      expect(setting.description.length).toBeGreaterThan(5)
    }
  })
})
