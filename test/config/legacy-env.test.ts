/** A .env written for the original project: it still loads, and each variable we do not read is named once. */
import { describe, expect, test } from 'bun:test'
import { legacyEnvWarnings, loadConfig, SETTINGS } from '../../src/config/index.ts'

/** The .env of the original README's "Installation" section, with its example values. */
const ORIGINAL_ENV: Record<string, string> = {
  REDIS_URL: 'redis://redis:6379/0',
  REDIS_PASSWORD: 'f3c1d2e4secretsecret',
  HTTP_PORT: '80',
  HTTPS_PORT: '443',
  BASE_DOMAIN: 'example.com',
  ACME_DIRECTORY_URL: 'https://acme-v02.api.letsencrypt.org/directory',
  ACME_STAGING_URL: 'https://acme-staging-v02.api.letsencrypt.org/directory',
  RENEWAL_CHECK_INTERVAL: '86400',
  RENEWAL_THRESHOLD_DAYS: '30',
  CERT_GEN_MAX_WORKERS: '5',
  GITHUB_CLIENT_ID: 'your_github_client_id',
  GITHUB_CLIENT_SECRET: 'your_github_client_secret',
  OAUTH_JWT_ALGORITHM: 'RS256',
  OAUTH_JWT_PRIVATE_KEY_B64: 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg==',
  OAUTH_ACCESS_TOKEN_LIFETIME: '1800',
  OAUTH_REFRESH_TOKEN_LIFETIME: '31536000',
  OAUTH_SESSION_TIMEOUT: '300',
  OAUTH_CLIENT_LIFETIME: '7776000',
  OAUTH_ADMIN_USERS: 'alice,bob',
  OAUTH_USER_USERS: 'charlie,dave',
  OAUTH_LOCALHOST_ADMIN_USERS: 'alice,bob',
  OAUTH_LOCALHOST_USER_USERS: 'charlie,dave',
  OAUTH_LOCALHOST_MCP_USERS: 'emily',
  ADMIN_EMAIL: 'admin@example.com',
  LOG_LEVEL: 'INFO',
}

const nameOf = (warning: string) => warning.split(' ')[0]

describe('legacyEnvWarnings', () => {
  test("the original README's .env: one warning per variable we do not read, naming what replaces it", () => {
    const warnings = legacyEnvWarnings(ORIGINAL_ENV)
    expect(warnings.map(nameOf).sort()).toEqual(
      [
        'REDIS_PASSWORD', 'CERT_GEN_MAX_WORKERS', 'OAUTH_JWT_ALGORITHM',
        'OAUTH_JWT_PRIVATE_KEY_B64', 'OAUTH_SESSION_TIMEOUT', 'OAUTH_CLIENT_LIFETIME', 'OAUTH_LOCALHOST_ADMIN_USERS', 'OAUTH_LOCALHOST_USER_USERS',
        'OAUTH_LOCALHOST_MCP_USERS', 'ADMIN_EMAIL',
      ].sort(),
    )
    const about = (name: string) => warnings.find((warning) => nameOf(warning) === name)!
    expect(about('REDIS_PASSWORD')).toContain('REDIS_URL')
    expect(about('OAUTH_JWT_PRIVATE_KEY_B64')).toContain('keys rotate')
    expect(about('ADMIN_EMAIL')).toContain('ACME_EMAIL')
    expect(about('OAUTH_LOCALHOST_ADMIN_USERS')).toContain('OAUTH_ADMIN_USERS')
  })

  test('values are never echoed: they may be secrets', () => {
    const text = legacyEnvWarnings(ORIGINAL_ENV).join('\n')
    for (const secret of [ORIGINAL_ENV.REDIS_PASSWORD!, ORIGINAL_ENV.OAUTH_JWT_PRIVATE_KEY_B64!, 'RS256', '7776000']) expect(text).not.toContain(secret)
  })

  test('renamed and replaced variables name their replacement', () => {
    const warnings = legacyEnvWarnings({ SERVER_HOST: '0.0.0.0', API_URL: 'http://localhost:9000', PROXY_REQUEST_TIMEOUT: '120', PROXY_CONNECT_TIMEOUT: '30', RUNNING_IN_DOCKER: '1' })
    expect(warnings).toHaveLength(5)
    expect(warnings.find((w) => w.startsWith('SERVER_HOST '))).toContain('LISTEN_ADDRESS')
    expect(warnings.find((w) => w.startsWith('API_URL '))).toContain('PUBLIC_URL')
    expect(warnings.find((w) => w.startsWith('PROXY_REQUEST_TIMEOUT '))).toContain('upstream_timeout')
    expect(warnings.find((w) => w.startsWith('PROXY_CONNECT_TIMEOUT '))).toContain('upstream_timeout')
    expect(warnings.find((w) => w.startsWith('RUNNING_IN_DOCKER '))).toContain('API_HOST')
  })

  test('a variable with nothing to replace it says so', () => {
    expect(legacyEnvWarnings({ LOG_MASK_SENSITIVE: 'true' })).toEqual([
      'LOG_MASK_SENSITIVE is set but not read (a setting of the original oauth-https-proxy): nothing replaces it',
    ])
  })

  test('unset and empty variables give no warning; neither does an empty environment', () => {
    expect(legacyEnvWarnings({})).toEqual([])
    expect(legacyEnvWarnings({ REDIS_PASSWORD: '', ADMIN_EMAIL: undefined })).toEqual([])
  })

  test('no variable we read is reported as unread', () => {
    const read = Object.values(SETTINGS).flatMap((setting) => [setting.env, ...(('aliases' in setting && setting.aliases) || [])])
    const everything = Object.fromEntries(read.map((name) => [name, 'x']))
    expect(legacyEnvWarnings(everything)).toEqual([])
  })
})

describe("the original's .env loads", () => {
  test('every value it sets for a variable we read is accepted, LOG_LEVEL=INFO included', () => {
    const config = loadConfig(ORIGINAL_ENV)
    expect(config.logLevel).toBe('info')
    expect(config.oauth.accessTokenLifetimeSec).toBe(1800)
    expect(config.oauth.adminUsers).toEqual(['alice', 'bob'])
    expect(config.acme.renewCheckIntervalSec).toBe(86_400)
    expect(config.acme.renewalThresholdDays).toBe(30)
    // BASE_DOMAIN is read again: Docker services' auto_proxy hostnames are made under it.
    expect(config.baseDomain).toBe('example.com')
  })

  test("RENEWAL_CHECK_INTERVAL and RENEWAL_THRESHOLD_DAYS are read as the ACME_ settings' old names; the new names win", () => {
    expect(loadConfig({}).acme).toMatchObject({ renewCheckIntervalSec: 43_200, renewalThresholdDays: 30 })
    expect(loadConfig({ RENEWAL_CHECK_INTERVAL: '3600', RENEWAL_THRESHOLD_DAYS: '10' }).acme).toMatchObject({ renewCheckIntervalSec: 3600, renewalThresholdDays: 10 })
    const both = loadConfig({ RENEWAL_CHECK_INTERVAL: '3600', ACME_RENEW_CHECK_INTERVAL: '6h', RENEWAL_THRESHOLD_DAYS: '10', ACME_RENEWAL_THRESHOLD_DAYS: '20' })
    expect(both.acme).toMatchObject({ renewCheckIntervalSec: 21_600, renewalThresholdDays: 20 })
    expect(() => loadConfig({ RENEWAL_THRESHOLD_DAYS: '0' })).toThrow('RENEWAL_THRESHOLD_DAYS: expected a whole number of days from 1 to 365, got "0"')
    expect(() => loadConfig({ ACME_RENEW_CHECK_INTERVAL: 'soon' })).toThrow('ACME_RENEW_CHECK_INTERVAL: expected a duration')
  })

  test("a proxy's automatic certificate is staging unless ACME_DIRECTORY_URL is set (the original's rule)", () => {
    expect(loadConfig({}).acme.proxyDirectory).toBe('staging')
    expect(loadConfig({ ACME_DIRECTORY_URL: 'https://acme-v02.api.letsencrypt.org/directory' }).acme.proxyDirectory).toBe('production')
    expect(loadConfig(ORIGINAL_ENV).acme.proxyDirectory).toBe('production')
  })

  test("LOG_LEVEL takes Python's level names in any case: WARNING means warn, CRITICAL means error", () => {
    const levelOf = (LOG_LEVEL: string) => loadConfig({ LOG_LEVEL }).logLevel
    expect(['DEBUG', 'Info', 'WARN', 'WARNING', 'warning', 'ERROR', 'CRITICAL', 'SILENT'].map(levelOf)).toEqual(['debug', 'info', 'warn', 'warn', 'warn', 'error', 'error', 'silent'])
    expect(() => loadConfig({ LOG_LEVEL: 'NOTSET' })).toThrow('LOG_LEVEL: expected one of debug, info, warn, error, silent, got "NOTSET"')
  })

  test('LISTEN_ADDRESS unset stays unset (the edge picks :: or 0.0.0.0); a value is kept as given', () => {
    expect(loadConfig({}).listenAddress).toBeUndefined()
    expect(loadConfig({ LISTEN_ADDRESS: '::' }).listenAddress).toBe('::')
  })
})
