/** @module GitHub's device flow (RFC 8628) against the GitHub fake: start, every poll answer, failures. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/index.ts'
import { createGitHubClient, type DeviceFlowStart, type GitHubClient } from '../../src/oauth/index.ts'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'

const APP = { clientId: 'Iv1.dev', clientSecret: 'dev-secret-92eb5ffee6ae', callbackUrl: 'https://auth.example.com/callback' }
const NO_DEVICE = { clientId: 'Iv1.nodevice', clientSecret: 'nd-secret-4a8a08f09d37', callbackUrl: 'https://auth.example.com/callback', deviceFlow: false }
const USERS = [{ id: 1001, login: 'alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] }]

let fake: GitHubFake
let github: GitHubClient

beforeAll(() => {
  fake = createGitHubFake({ users: USERS, apps: [APP, NO_DEVICE] })
  github = createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger: createLogger('silent') })
})
afterAll(() => fake.stop())

async function start(): Promise<Extract<DeviceFlowStart, { ok: true }>> {
  const started = await github.startDeviceFlow({ app: APP })
  if (!started.ok) throw new Error(started.detail)
  return started
}

describe('startDeviceFlow', () => {
  test('RFC 8628 §3.2: device code, user code, verification URI, lifetime and interval', async () => {
    expect(await github.startDeviceFlow({ app: APP })).toEqual({
      ok: true, deviceCode: expect.stringMatching(/^[0-9a-f]{40}$/), userCode: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verificationUri: `${fake.webUrl}/login/device`, expiresInSec: 900, intervalSec: 5,
    })
    const sent = fake.requests.findLast((r) => r.path === '/login/device/code')
    expect(sent?.headers.accept).toBe('application/json')
    expect(Object.fromEntries(new URLSearchParams(sent?.body))).toEqual({ client_id: APP.clientId, scope: 'read:user user:email' })
  })

  test('a scope is passed through; only the client id is sent, never the secret', async () => {
    await github.startDeviceFlow({ app: { clientId: APP.clientId }, scope: 'read:user' })
    const sent = fake.requests.findLast((r) => r.path === '/login/device/code')
    expect(new URLSearchParams(sent?.body).get('scope')).toBe('read:user')
    expect(sent?.body).not.toContain('secret')
  })

  test('an app without "Enable Device Flow": device_flow_disabled; an unknown app: bad_credentials', async () => {
    expect(await github.startDeviceFlow({ app: NO_DEVICE })).toMatchObject({ ok: false, reason: 'device_flow_disabled' })
    expect(await github.startDeviceFlow({ app: { clientId: 'Iv1.nobody' } })).toMatchObject({ ok: false, reason: 'bad_credentials' })
  })

  test('failNext 500 and malformed: upstream', async () => {
    fake.failNext('device_code', 500)
    expect(await github.startDeviceFlow({ app: APP })).toEqual({ ok: false, reason: 'upstream', detail: 'HTTP 500' })
    fake.failNext('device_code', 'malformed')
    expect(await github.startDeviceFlow({ app: APP })).toMatchObject({ ok: false, reason: 'upstream' })
  })
})

describe('pollDeviceFlow', () => {
  test('RFC 8628 §3.5: pending until approved, then approved with a token that fetchUser accepts', async () => {
    const { deviceCode, userCode } = await start()
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'pending' })
    fake.advance(5)
    fake.approveDevice(userCode, 'alice')
    const approved = await github.pollDeviceFlow({ app: APP, deviceCode })
    expect(approved).toEqual({ status: 'approved', accessToken: expect.stringMatching(/^gho_/), scopes: ['read:user', 'user:email'] })
    if (approved.status !== 'approved') return
    expect(await github.fetchUser(approved.accessToken)).toMatchObject({ ok: true, user: { sub: '1001', username: 'alice', email: 'alice@example.com' } })
    const poll = fake.requests.findLast((r) => r.path === '/login/oauth/access_token')
    expect(Object.fromEntries(new URLSearchParams(poll?.body))).toEqual({ client_id: APP.clientId, device_code: deviceCode, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' })
  })

  test('RFC 8628 §3.5: polling too fast is slow_down with GitHub\'s new interval (+5 s each time)', async () => {
    const { deviceCode } = await start()
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'pending' })
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'slow_down', intervalSec: 10 })
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'slow_down', intervalSec: 15 })
    fake.advance(15)
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'pending' })
  })

  test('RFC 8628 §3.5: the user denies: denied', async () => {
    const { deviceCode, userCode } = await start()
    fake.denyDevice(userCode)
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'denied' })
  })

  test('RFC 8628 §3.5: after expires_in: expired', async () => {
    const { deviceCode, expiresInSec } = await start()
    fake.advance(expiresInSec)
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'expired' })
  })

  test('an unknown or used device code, an unknown app, a disabled flow: error with GitHub\'s code', async () => {
    const { deviceCode } = await start()
    const cases = [[APP, '0'.repeat(40), 'incorrect_device_code'], [{ clientId: 'Iv1.nobody' }, deviceCode, 'incorrect_client_credentials'],
      [NO_DEVICE, deviceCode, 'device_flow_disabled']] as const
    for (const [app, code, error] of cases) {
      expect(await github.pollDeviceFlow({ app, deviceCode: code })).toEqual({ status: 'error', detail: expect.stringMatching(new RegExp(`^${error}: `)) })
    }
  })

  test('failNext 502 and malformed on the token endpoint: error, and polling can go on', async () => {
    const { deviceCode } = await start()
    fake.failNext('token', 502)
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'error', detail: 'HTTP 502' })
    fake.failNext('token', 'malformed')
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'error', detail: 'HTTP 200 with a body that is not JSON' })
    expect(await github.pollDeviceFlow({ app: APP, deviceCode })).toEqual({ status: 'pending' })
  })

  test('no client secret ever leaves in a URL or a device-flow body', () => {
    for (const r of fake.requests) {
      expect(r.url).not.toContain(APP.clientSecret)
      expect(r.url).not.toContain(NO_DEVICE.clientSecret)
      expect(r.body).not.toContain('client_secret')
    }
  })
})
