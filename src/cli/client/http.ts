/**
 * @module One HTTP exchange for the CLI: a deadline, a network failure as one line naming the server,
 * and a body read as JSON (null for 204 or an empty body) without trusting its content type.
 */
import { unreachable } from './errors.ts'

/** An API call that takes longer than this is not coming back. */
export const REQUEST_TIMEOUT_MS = 30_000

export interface HttpAnswer {
  readonly status: number
  readonly headers: Headers
  /** Parsed JSON, null for an empty body, the text itself when it is not JSON. */
  readonly body: unknown
}

/** Sends a request; a failure to connect becomes `cannot reach <serverUrl>: <reason>`. */
export async function send(url: string, init: RequestInit, serverUrl: string): Promise<HttpAnswer> {
  let response: Response
  let text: string
  try {
    response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    text = await response.text()
  } catch (error) {
    throw unreachable(serverUrl, error)
  }
  return { status: response.status, headers: response.headers, body: parseBody(text) }
}

function parseBody(text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** application/x-www-form-urlencoded, as RFC 6749 §3.2 and RFC 7009 §2.1 require. */
export function formPost(form: Record<string, string | undefined>): RequestInit {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(form)) if (value !== undefined) body.set(name, value)
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString() }
}
