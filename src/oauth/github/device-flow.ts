/**
 * @module GitHub's device flow (RFC 8628, which our own device grant delegates to): start, then poll.
 * @see https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow
 */
import * as v from 'valibot'
import { parseBody, sendRequest, type HttpDeps } from './http.ts'
import { okJson, readErrorAnswer, readTokenAnswer } from './login-answer.ts'
import type { DeviceFlowStart, DevicePoll, GitHubApp } from './types.ts'
import { DEFAULT_GITHUB_SCOPE } from './web-flow.ts'

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
/** RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default." */
const DEFAULT_INTERVAL_SEC = 5
/** RFC 8628 §3.5: slow_down increases the interval "by 5 seconds for this and all subsequent requests". */
const SLOW_DOWN_STEP_SEC = 5

const code = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,256}$/))
const seconds = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400))

const DeviceCodeAnswerSchema = v.object({
  device_code: code,
  user_code: v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,32}$/)),
  verification_uri: v.pipe(v.string(), v.check((uri) => ['https:', 'http:'].includes(URL.parse(uri)?.protocol ?? ''), 'expected an http(s) URL')),
  expires_in: v.pipe(seconds, v.minValue(1)),
  interval: v.optional(seconds, DEFAULT_INTERVAL_SEC),
})

export interface StartDeviceFlowInput {
  readonly app: Pick<GitHubApp, 'clientId'>
  readonly scope?: string
}

export async function startDeviceFlow(deps: HttpDeps, webUrl: string, input: StartDeviceFlowInput): Promise<DeviceFlowStart> {
  const outcome = await sendRequest(deps, {
    method: 'POST',
    url: `${webUrl}/login/device/code`,
    headers: { accept: 'application/json' },
    form: { client_id: input.app.clientId, scope: input.scope ?? DEFAULT_GITHUB_SCOPE },
  })
  const json = okJson(outcome)
  if (!json.ok) return { ok: false, reason: 'upstream', detail: json.detail }
  const error = readErrorAnswer(json.body)
  if (error) {
    const reason = error.error === 'device_flow_disabled' ? 'device_flow_disabled' : error.error === 'incorrect_client_credentials' ? 'bad_credentials' : 'upstream'
    return { ok: false, reason, detail: error.detail }
  }
  const answer = parseBody(DeviceCodeAnswerSchema, json.body)
  if (!answer.ok) return { ok: false, reason: 'upstream', detail: answer.detail }
  const a = answer.value
  return {
    ok: true, deviceCode: a.device_code, userCode: a.user_code, verificationUri: a.verification_uri,
    expiresInSec: a.expires_in, intervalSec: a.interval,
  }
}

export interface PollDeviceFlowInput {
  readonly app: Pick<GitHubApp, 'clientId'>
  readonly deviceCode: string
  /** The interval in force; `slow_down` without an `interval` answers this plus 5. */
  readonly intervalSec?: number
}

/** One poll. The device flow needs no client secret, so none is sent. */
export async function pollDeviceFlow(deps: HttpDeps, webUrl: string, input: PollDeviceFlowInput): Promise<DevicePoll> {
  const outcome = await sendRequest(deps, {
    method: 'POST',
    url: `${webUrl}/login/oauth/access_token`,
    headers: { accept: 'application/json' },
    form: { client_id: input.app.clientId, device_code: input.deviceCode, grant_type: DEVICE_CODE_GRANT },
  })
  const answer = readTokenAnswer(outcome)
  if (answer.kind === 'token') return { status: 'approved', accessToken: answer.accessToken, scopes: answer.scopes }
  if (answer.kind === 'failed') return { status: 'error', detail: answer.detail }
  // RFC 8628 §3.5 error codes; GitHub adds incorrect_client_credentials, incorrect_device_code, device_flow_disabled.
  switch (answer.error) {
    case 'authorization_pending': return { status: 'pending' }
    case 'slow_down': return { status: 'slow_down', intervalSec: answer.intervalSec ?? (input.intervalSec ?? DEFAULT_INTERVAL_SEC) + SLOW_DOWN_STEP_SEC }
    case 'expired_token': return { status: 'expired' }
    case 'access_denied': return { status: 'denied' }
    default: return { status: 'error', detail: answer.detail }
  }
}
