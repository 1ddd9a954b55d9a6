/**
 * @module One bounded HTTP exchange with GitHub: a deadline over the whole exchange, no redirects
 * followed, a size-capped body, and JSON parsing that never throws.
 */
import * as v from 'valibot'

/** GitHub's answers to our calls are a few hundred bytes; anything beyond this is not GitHub. */
export const MAX_BODY_BYTES = 64 * 1024
export const USER_AGENT = 'oauth-https-proxy'

export interface HttpDeps {
  readonly fetch: typeof fetch
  readonly timeoutMs: number
}

/** `body` is the parsed JSON, or `undefined` when the body was not JSON (e.g. an HTML 502 page). */
export type HttpOutcome =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  | { readonly ok: false; readonly detail: string }

export interface HttpRequest {
  readonly method: 'GET' | 'POST'
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Sent as application/x-www-form-urlencoded: credentials travel here, never in the URL. */
  readonly form?: Readonly<Record<string, string>>
}

export async function sendRequest(deps: HttpDeps, request: HttpRequest): Promise<HttpOutcome> {
  try {
    const response = await deps.fetch(request.url, {
      method: request.method,
      headers: { 'user-agent': USER_AGENT, ...request.headers },
      body: request.form ? new URLSearchParams(request.form) : undefined,
      // A redirect would carry our Authorization header or form body somewhere we did not choose.
      redirect: 'manual',
      // Covers the headers and the body: a server that stalls mid-body times out too.
      signal: AbortSignal.timeout(deps.timeoutMs),
    })
    const text = await readCapped(response, MAX_BODY_BYTES)
    if (text === null) return { ok: false, detail: `HTTP ${response.status}: body larger than ${MAX_BODY_BYTES} bytes` }
    return { ok: true, status: response.status, body: parseJson(text) }
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error'
    if (name === 'TimeoutError' || name === 'AbortError') return { ok: false, detail: `no answer within ${deps.timeoutMs} ms` }
    // The message names the host at most; our URLs never carry secrets.
    return { ok: false, detail: `network error: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** The body as text, or null when it exceeds `maxBytes` (declared or actual); stops reading at the cap. */
async function readCapped(response: Response, maxBytes: number): Promise<string | null> {
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
    await response.body?.cancel()
    return null
  }
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      return null
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Validates `body` against `schema`. A failure names only the path of the first problem: valibot's messages
 * quote the received value, which may be a token.
 */
export function parseBody<S extends v.GenericSchema>(schema: S, body: unknown): { ok: true; value: v.InferOutput<S> } | { ok: false; detail: string } {
  const result = v.safeParse(schema, body)
  if (result.success) return { ok: true, value: result.output }
  const path = v.getDotPath(result.issues[0]) ?? '(root)'
  return { ok: false, detail: `unexpected answer shape at ${path}` }
}

/** Text from GitHub fit for a log line: no control characters, bounded. */
export function forLog(text: string, maxLength = 200): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ')
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}…` : clean
}

/** A token we will put in a header later: visible ASCII only, bounded. */
export const TokenSchema = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,1024}$/))

/** GitHub's scope list: comma-separated in token answers (`read:user,user:email`). */
export function splitScopes(scope: string | undefined): string[] {
  return (scope ?? '').split(/[\s,]+/).filter(Boolean)
}
