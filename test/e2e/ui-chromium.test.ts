/**
 * The web UI in a real Chromium against a whole server (issue #16's acceptance): sign-in through our
 * authorization server and the GitHub fake, the session kept in an HttpOnly __Host- cookie, the pages
 * an admin uses to change things, what a reader may not do, accessibility and screenshots. One browser
 * for the whole file; each person gets a fresh profile.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN, newProfile, READER, signIn, startUiSetting, type SignedIn, type UiSetting } from '../support/ui-server.ts'
import { cleanupSpawned } from '../support/serve.ts'

let setting: UiSetting
let admin: SignedIn
let reader: SignedIn

beforeAll(async () => {
  setting = await startUiSetting()
}, 60_000)

afterAll(async () => {
  await setting?.stop()
  await cleanupSpawned()
})

describe('signing in', () => {
  test('the UI signs in as its own first-party client: code + PKCE through /authorize and GitHub, no consent page, tokens behind an HttpOnly __Host- cookie', async () => {
    admin = await newProfile(setting)
    await signIn(setting, admin, ADMIN)
    const path = admin.visited.map((url) => new URL(url)).map((url) => `${url.origin}${url.pathname}`)
    expect(path).toEqual([
      `${setting.ui}/ui/`,
      `${setting.ui}/ui/auth/login`,
      `${setting.issuer}/authorize`,
      `${setting.github.webUrl}/login/oauth/authorize`,
      `${setting.issuer}/callback`,
      `${setting.ui}/ui/auth/callback`,
      `${setting.ui}/ui/`,
    ])
    const cookies = await admin.context.cookies(setting.ui)
    const session = cookies.find((cookie) => cookie.name === '__Host-ohp-ui')
    expect(session).toMatchObject({ path: '/', secure: true, httpOnly: true, sameSite: 'Lax' })
    // No script of the page can read it, and no token is anywhere the page can reach.
    expect(await admin.page.evaluate(() => document.cookie)).toBe('')
    const storage = await admin.page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))
    expect(storage).toBe('{}{}')
    const sessionAnswer = await admin.page.evaluate(() => fetch('/ui/auth/session').then((response) => response.text()))
    expect(sessionAnswer).not.toContain('eyJ')
    expect(JSON.parse(sessionAnswer)).toMatchObject({ signed_in: true, username: ADMIN, scopes: ['admin'] })
    expect(admin.problems).toEqual([])
  }, 30_000)

  test('a reader sees no write control, and a write forged from its session is refused (403)', async () => {
    reader = await newProfile(setting)
    await signIn(setting, reader, READER)
    await expect(reader.page.getByText(`${READER} (read only)`).isVisible()).resolves.toBe(true)
    // With the session's own CSRF token, from the page itself: the scope decides.
    const forged = await reader.page.evaluate(async () => {
      const { csrf_token } = await (await fetch('/ui/auth/session')).json()
      const response = await fetch('/proxy/targets', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf_token }, body: JSON.stringify({ proxy_hostname: 'forged.example.com', target_url: 'http://127.0.0.1:9' }) })
      return { status: response.status, body: await response.json() }
    })
    expect(forged).toEqual({ status: 403, body: { error: 'insufficient_scope', error_description: 'this endpoint requires the admin scope' } })
    // The admin's session without its CSRF token: refused before the scope is even looked at.
    const noToken = await admin.page.evaluate(async () => {
      const response = await fetch('/proxy/targets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proxy_hostname: 'forged.example.com', target_url: 'http://127.0.0.1:9' }) })
      return response.status
    })
    expect(noToken).toBe(403)
    expect((await setting.api('GET', '/proxy/targets/forged.example.com')).status).toBe(404)
  }, 30_000)
})
