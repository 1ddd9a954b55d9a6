/**
 * @module The page's one way to call the management API: same origin, the session cookie (HttpOnly,
 * sent by the browser), and on every write the session's CSRF token. A failure becomes an ApiFailure
 * carrying the API's error code, its description and, for a 400, the field it names.
 */

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    /** The field a 400 names ("field target_url: …" → "target_url"); null when it names none. */
    readonly field: string | null,
    /** What a 409 lists as depending on the thing (`dependents`), when it does. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(description)
    this.name = 'ApiFailure'
  }
}

const FIELD_MESSAGE = /^(?:field|query parameter|path parameter) ([A-Za-z0-9_.]+): (.*)$/s

/** Set once the session is known (GET /ui/auth/session); sent on every write. */
let csrfToken = ''
export function useCsrfToken(token: string): void {
  csrfToken = token
}

/** Called when a request finds the session gone (401), so the page can offer to sign in again. */
let onSignedOut: () => void = () => {}
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler
}

async function failureOf(response: Response): Promise<ApiFailure> {
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>
  const description = typeof body.error_description === 'string' ? body.error_description : `${response.status} ${response.statusText}`
  const match = response.status === 400 ? FIELD_MESSAGE.exec(description) : null
  return new ApiFailure(response.status, typeof body.error === 'string' ? body.error : 'error', match ? match[2]! : description, match ? match[1]! : null, body)
}

export interface CallOptions {
  readonly body?: unknown
  /** Sent as is, with this content type (a YAML configuration document). */
  readonly raw?: { readonly text: string; readonly type: string }
  readonly accept?: string
  readonly signal?: AbortSignal
}

export async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' }
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken
  let body: string | undefined
  if (options.raw) {
    headers['content-type'] = options.raw.type
    body = options.raw.text
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  const response = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: options.signal })
  if (response.ok) return response
  const failure = await failureOf(response)
  if (response.status === 401) onSignedOut()
  throw failure
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await call('GET', path, { signal })).json() as Promise<T>
}

export async function send<T = unknown>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const response = await call(method, path, body === undefined ? {} : { body })
  return (response.status === 204 ? null : await response.json().catch(() => null)) as T
}

export const enc = encodeURIComponent
