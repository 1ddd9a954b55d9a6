/** Stored logins: per server URL, 0600 file in a 0700 directory from creation, atomic, XDG paths, no secret in errors. */
import { afterEach, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCredentialStore, credentialsPath, type ServerCredentials } from '../../src/cli/client/index.ts'

const dirs: string[] = []
const tempHome = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-cred-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const entry = (access: string): ServerCredentials => ({
  issuer: 'https://api.example.com',
  client_id: 'cli-client',
  token_endpoint: 'https://api.example.com/token',
  tokens: { access_token: access, refresh_token: `refresh-${access}`, expires_at_ms: 1_000 },
})

describe('credentials file', () => {
  test('XDG_CONFIG_HOME, else ~/.config; a relative XDG_CONFIG_HOME is ignored (XDG Base Directory spec)', () => {
    expect(credentialsPath({ XDG_CONFIG_HOME: '/x/config', HOME: '/home/u' })).toBe('/x/config/oauth-https-proxy/credentials.json')
    expect(credentialsPath({ HOME: '/home/u' })).toBe('/home/u/.config/oauth-https-proxy/credentials.json')
    expect(credentialsPath({ XDG_CONFIG_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.config/oauth-https-proxy/credentials.json')
  })

  test('created 0600 inside a 0700 directory, whatever the umask allowed', () => {
    const home = tempHome()
    const previous = process.umask(0o000)
    try {
      const store = createCredentialStore({ XDG_CONFIG_HOME: home })
      store.set('https://api.example.com', entry('a1'))
      expect(statSync(store.path).mode & 0o777).toBe(0o600)
      expect(statSync(join(home, 'oauth-https-proxy')).mode & 0o777).toBe(0o700)
    } finally {
      process.umask(previous)
    }
  })

  test('an existing wider directory is narrowed to 0700; a rewrite replaces a wider file with a 0600 one', () => {
    const home = tempHome()
    const dir = join(home, 'oauth-https-proxy')
    mkdirSync(dir, { mode: 0o755 })
    chmodSync(dir, 0o755)
    writeFileSync(join(dir, 'credentials.json'), '{"servers":{}}')
    chmodSync(join(dir, 'credentials.json'), 0o644)
    const store = createCredentialStore({ XDG_CONFIG_HOME: home })
    store.set('https://api.example.com', entry('a1'))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(statSync(store.path).mode & 0o777).toBe(0o600)
  })

  test('one entry per server URL; removing one keeps the others; no temp file is left behind', () => {
    const store = createCredentialStore({ XDG_CONFIG_HOME: tempHome() })
    expect(store.get('https://a.example.com')).toBeNull()
    store.set('https://a.example.com', entry('a'))
    store.set('http://127.0.0.1:9000', entry('b'))
    expect(store.get('https://a.example.com')?.tokens?.access_token).toBe('a')
    expect(store.get('http://127.0.0.1:9000')?.tokens?.access_token).toBe('b')
    store.set('https://a.example.com', null)
    expect(store.get('https://a.example.com')).toBeNull()
    expect(store.get('http://127.0.0.1:9000')?.tokens?.access_token).toBe('b')
    expect(readdirSync(join(store.path, '..'))).toEqual(['credentials.json'])
  })

  test('a damaged file is refused with a message that names the file, never its content', () => {
    const home = tempHome()
    const store = createCredentialStore({ XDG_CONFIG_HOME: home })
    mkdirSync(join(home, 'oauth-https-proxy'), { recursive: true })
    for (const content of ['{"servers": {"x": {"access_token": "SECRET-TOKEN"}}}', 'not json SECRET-TOKEN', '[]']) {
      writeFileSync(store.path, content)
      expect(() => store.get('x')).toThrow(`${store.path} is not a credentials file of this version; remove it and sign in again`)
      try {
        store.get('x')
      } catch (error) {
        expect((error as Error).message).not.toContain('SECRET')
      }
    }
  })

  test('the file holds JSON that a person can read (and nothing is written until a login)', () => {
    const home = tempHome()
    const store = createCredentialStore({ XDG_CONFIG_HOME: home })
    store.get('https://a.example.com')
    expect(existsSync(store.path)).toBe(false)
    store.set('https://a.example.com', entry('a'))
    expect(JSON.parse(readFileSync(store.path, 'utf8')).servers['https://a.example.com'].client_id).toBe('cli-client')
  })
})
