/**
 * @module What a header capture may keep of a header: credentials and cookies become "***", URLs
 * lose the values of secret query and fragment parameters (an OAuth redirect's code and state, a
 * token in a query string, an implicit-flow fragment), and nothing is unbounded.
 */
import { maskTarget } from './record.ts'

/** Credentials (RFC 9110 §11.6.2, §11.7.2), cookies (RFC 6265 §4) and the API-key headers in common use. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-forwarded-access-token',
  'x-amz-security-token',
])

/** Headers whose value is a URL that can carry a code, a state or a token in its query or fragment. */
const URL_HEADERS = new Set(['location', 'content-location', 'referer', 'refresh', 'link'])

export const MASK = '***'
const MAX_HEADERS = 200
const MAX_VALUE_CHARS = 8192

export type HeaderList = Iterable<readonly [string, string]>
export type CapturedHeaders = [name: string, value: string][]

/** A URL (or a Refresh value "5; url=…") with secret query and fragment parameter values replaced. */
export function maskUrlValue(value: string): string {
  const hashAt = value.indexOf('#')
  const base = hashAt === -1 ? value : value.slice(0, hashAt)
  const masked = maskTarget(base)
  if (hashAt === -1) return masked
  // RFC 6749 §4.2.2: the implicit grant put the access token in the fragment, form-encoded like a query.
  return `${masked}#${maskTarget(`?${value.slice(hashAt + 1)}`).slice(1)}`
}

/** The headers as captured: names lower-cased, secrets masked, at most 200, each value at most 8 KiB. */
export function maskHeaders(headers: HeaderList): CapturedHeaders {
  const out: CapturedHeaders = []
  for (const [rawName, rawValue] of headers) {
    if (out.length === MAX_HEADERS) break
    const name = rawName.toLowerCase()
    const value = SECRET_HEADERS.has(name) ? MASK : URL_HEADERS.has(name) ? maskUrlValue(rawValue) : rawValue
    out.push([name, value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value])
  }
  return out
}
