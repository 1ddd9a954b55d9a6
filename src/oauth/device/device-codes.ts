/**
 * @module The device authorization grant (RFC 8628), delegated to GitHub's device flow: /device/code
 * starts GitHub's flow and hands out our own device_code; each /token poll checks the client, the
 * issuer, the expiry and the interval itself (we enforce slow_down, not only relay GitHub's), then
 * polls GitHub once. On approval the user is looked up and asked for again (the policy), the tokens
 * issued, and the device code spent.
 */
import type { Clock, Logger } from '../../lib/index.ts'
import { randomToken, sha256Hex } from '../../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../../store/index.ts'
import type { RecordActivity } from '../activity.ts'
import type { GitHubApp, GitHubClient } from '../github/index.ts'
import type { Grants } from '../grants/index.ts'
import type { Access } from '../policy.ts'
import { isScope, SCOPES, type Scope } from '../tokens/scopes.ts'
import type { OAuthUser } from '../user.ts'
import { DeviceCodeSchema, type DevicePollInput, type DevicePollResult, type DeviceStartInput, type DeviceStartResult, type StoredDeviceCode } from './model.ts'
import { openGitHubCode, sealGitHubCode } from './seal.ts'

/** 256 bits, like every other bearer secret here. */
const DEVICE_CODE_BYTES = 32
/** randomToken(32) is 43 base64url characters; anything else is not one of ours and costs no store read. */
const DEVICE_CODE_SYNTAX = /^[A-Za-z0-9_-]{43}$/
/** RFC 8628 §3.5: slow_down adds 5 seconds "for this and all subsequent requests". */
export const SLOW_DOWN_STEP_SEC = 5
/** An expired record is kept this long, so a late poll hears expired_token rather than invalid_grant. */
const EXPIRED_MARGIN_MS = 600_000

export interface DeviceAuthorizationsDeps {
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  readonly github: GitHubClient
  /** The GitHub app for a resource: the proxy's own, else the configured one (selectApp); null when none. */
  readonly githubAppFor: (resource: string) => Promise<Pick<GitHubApp, 'clientId'> | null>
  /** The policy for a user at a resource (decideSiteAccess with the resource's proxy lists), asked with the user's GitHub token. */
  readonly accessFor: (user: OAuthUser, resource: string, githubToken: string) => Promise<Access>
  /** The GitHub scopes to ask for (read:org only where memberships are checked); absent: DEFAULT_GITHUB_SCOPE. */
  readonly githubScopeFor?: (resource: string) => Promise<string>
  readonly grants: Pick<Grants, 'issueTokens'>
  /** The OAuth activity log: the device login and its refusals. Absent: none. */
  readonly recordActivity?: RecordActivity
}

export interface DeviceAuthorizations {
  start(input: DeviceStartInput): Promise<DeviceStartResult>
  poll(input: DevicePollInput): Promise<DevicePollResult>
}

/**
 * The scopes a device authorization asks for: `scope` (RFC 6749 §3.3), limited to the client's
 * registered scope when it has one; absent → all of those. Null: a scope that is unknown or not
 * registered for the client (invalid_scope).
 */
export function deviceScopes(requested: string | undefined, registered: string | undefined): Scope[] | null {
  const allowed = registered === undefined ? [...SCOPES] : registered.split(' ').filter(isScope)
  if (requested === undefined) return allowed
  const names = requested.split(' ').filter(Boolean)
  if (!names.every((name) => isScope(name) && allowed.includes(name))) return null
  return SCOPES.filter((scope) => names.includes(scope))
}

export function createDeviceAuthorizations(deps: DeviceAuthorizationsDeps): DeviceAuthorizations {
  const { clock, logger, github } = deps
  const recordActivity = deps.recordActivity ?? (() => {})
  const recordLogin = (device: StoredDeviceCode, user: OAuthUser, scopes: readonly Scope[]) =>
    recordActivity({ type: 'login', grant: 'device_code', client_id: device.clientId, resource: device.resource, user: user.username, user_id: user.sub, scopes })
  const refusedLogin = (device: StoredDeviceCode, reason: string, user?: OAuthUser) =>
    recordActivity({ type: 'login_refused', grant: 'device_code', client_id: device.clientId, resource: device.resource, ...(user ? { user: user.username, user_id: user.sub } : {}), reason })
  const records = createCollection(deps.store, COLLECTIONS.oauthDeviceCodes, DeviceCodeSchema)
  const fail = (error: Extract<DevicePollResult, { ok: false }>['error'], reason: string, intervalSec?: number): DevicePollResult =>
    intervalSec === undefined ? { ok: false, error, reason } : { ok: false, error, reason, intervalSec }

  /** Compare-and-set; false when a concurrent poll wrote first. */
  async function update(id: string, version: number, record: StoredDeviceCode): Promise<boolean> {
    const ttlMs = Math.max(1, record.expiresAtMs + EXPIRED_MARGIN_MS - clock.nowMs())
    return (await records.put(id, record, { ifVersion: version, ttlMs })) !== null
  }

  async function finish(id: string, version: number, record: StoredDeviceCode, accessToken: string): Promise<DevicePollResult> {
    // Spent before anything else: of two polls that both saw "approved", one gets the tokens.
    if (!(await records.del(id, { ifVersion: version }))) return fail('invalid_grant', 'device_code_spent')
    const found = await github.fetchUser(accessToken)
    if (!found.ok) {
      refusedLogin(record, `github_user_${found.reason}`)
      return fail('invalid_grant', `github_user_lookup_failed: ${found.reason}`)
    }
    const access = await deps.accessFor(found.user, record.resource, accessToken)
    if (access.denial === 'github_unavailable') {
      refusedLogin(record, 'github_unavailable', found.user)
      return fail('invalid_grant', 'github_membership_lookup_failed')
    }
    // Requested ∩ held, exactly as every refresh rechecks it, so the first refresh does not narrow the grant.
    const scopes = access.allowed ? record.scopes.filter((scope) => access.scopes.includes(scope)) : []
    if (scopes.length === 0) {
      logger.info('device grant refused by policy', { clientId: record.clientId, username: found.user.username, resource: record.resource, allowed: access.allowed, ...(access.denial ? { denial: access.denial } : {}) })
      refusedLogin(record, access.allowed ? 'no_requested_scope_held' : (access.denial ?? 'user_not_allowed'), found.user)
      return fail('access_denied', access.allowed ? 'no_requested_scope_held' : 'user_not_allowed')
    }
    // Before the tokens: the log reads login, then token_issued.
    recordLogin(record, found.user, scopes)
    const tokens = await deps.grants.issueTokens({
      issuer: record.issuer,
      resource: record.resource,
      clientId: record.clientId,
      user: found.user,
      scopes,
      // Kept (sealed) only where every refresh must ask GitHub about memberships again.
      ...(access.checkedMembership ? { upstreamToken: accessToken } : {}),
    })
    logger.info('device grant approved', { clientId: record.clientId, username: found.user.username, resource: record.resource, scopes: scopes.join(' ') })
    return { ok: true, tokens }
  }

  return {
    async start(input) {
      const app = await deps.githubAppFor(input.resource)
      if (app === null) return { ok: false, reason: 'no_github_app' }
      const scope = deps.githubScopeFor ? await deps.githubScopeFor(input.resource) : undefined
      const started = await github.startDeviceFlow({ app: { clientId: app.clientId }, ...(scope === undefined ? {} : { scope }) })
      if (!started.ok) return { ok: false, reason: started.reason }
      const deviceCode = randomToken(DEVICE_CODE_BYTES)
      const id = sha256Hex(deviceCode)
      const expiresAtMs = clock.nowMs() + started.expiresInSec * 1000
      const record: StoredDeviceCode = {
        clientId: input.clientId,
        issuer: input.issuer,
        resource: input.resource,
        scopes: [...input.scopes],
        githubClientId: app.clientId,
        githubDeviceCode: await sealGitHubCode(deviceCode, id, started.deviceCode),
        intervalSec: started.intervalSec,
        expiresAtMs,
        lastPollAtMs: null,
      }
      // A fresh 256-bit code cannot collide; ifAbsent only makes sure of it.
      if ((await records.put(id, record, { ifAbsent: true, ttlMs: started.expiresInSec * 1000 + EXPIRED_MARGIN_MS })) === null) {
        throw new Error('new device code collided with an existing one')
      }
      logger.info('device authorization started', { clientId: input.clientId, resource: input.resource, scopes: input.scopes.join(' ') })
      return { ok: true, deviceCode, userCode: started.userCode, verificationUri: started.verificationUri, expiresInSec: started.expiresInSec, intervalSec: started.intervalSec }
    },

    async poll(input) {
      if (!DEVICE_CODE_SYNTAX.test(input.deviceCode)) return fail('invalid_grant', 'unknown_device_code')
      const id = sha256Hex(input.deviceCode)
      const found = await records.get(id)
      if (found === null) return fail('invalid_grant', 'unknown_device_code')
      const { value: record, version } = found
      // RFC 8628 §3.4 / RFC 6749 §5.2: a code issued to another client is invalid_grant; it does not touch the record,
      // so nobody can slow a client down by polling with its code.
      if (record.clientId !== input.clientId) return fail('invalid_grant', 'client_mismatch')
      if (record.issuer !== input.issuer) return fail('invalid_grant', 'issuer_mismatch')
      const now = clock.nowMs()
      if (now >= record.expiresAtMs) return fail('expired_token', 'device_code_expired')

      // RFC 8628 §3.5: too soon after the last poll → slow_down, and the interval grows by 5 s for good.
      if (record.lastPollAtMs !== null && now - record.lastPollAtMs < record.intervalSec * 1000) {
        const slowed = { ...record, intervalSec: record.intervalSec + SLOW_DOWN_STEP_SEC, lastPollAtMs: now }
        await update(id, version, slowed)
        return fail('slow_down', 'polled_too_fast', slowed.intervalSec)
      }
      const polled = { ...record, lastPollAtMs: now }
      // A concurrent poll of the same code won the write: this one was too fast by definition.
      if (!(await update(id, version, polled))) return fail('slow_down', 'concurrent_poll', record.intervalSec + SLOW_DOWN_STEP_SEC)

      const githubCode = await openGitHubCode(input.deviceCode, id, record.githubDeviceCode)
      if (githubCode === null) return fail('invalid_grant', 'unsealable_device_code')
      const answer = await github.pollDeviceFlow({ app: { clientId: record.githubClientId }, deviceCode: githubCode, intervalSec: record.intervalSec })
      switch (answer.status) {
        case 'pending':
          return fail('authorization_pending', 'pending')
        case 'slow_down': {
          const intervalSec = Math.max(record.intervalSec + SLOW_DOWN_STEP_SEC, answer.intervalSec)
          const latest = await records.get(id)
          if (latest) await update(id, latest.version, { ...latest.value, intervalSec: Math.max(latest.value.intervalSec, intervalSec) })
          return fail('slow_down', 'github_slow_down', intervalSec)
        }
        case 'expired':
          return fail('expired_token', 'github_expired')
        case 'denied':
          refusedLogin(record, 'github_denied')
          await records.del(id)
          return fail('access_denied', 'github_denied')
        case 'error':
          // GitHub unreachable or confused: the client keeps polling until the code expires.
          return fail('authorization_pending', `github_error: ${answer.detail}`)
        case 'approved': {
          const latest = await records.get(id)
          if (latest === null) return fail('invalid_grant', 'device_code_spent')
          return finish(id, latest.version, latest.value, answer.accessToken)
        }
      }
    },
  }
}
