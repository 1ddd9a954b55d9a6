/**
 * @module The `q` parameter: space-separated terms, each `field:value` or a bare word (a
 * case-insensitive substring of any text field). Values with spaces are quoted: `ua:"curl/8"`.
 * The original's field names are accepted beside ours (proxy_hostname, status_code, client, route).
 */
import { BACKEND_ERROR_KINDS, OUTCOMES, parseAddressFilter, type Condition, type ExactField } from './filter.ts'

export type TermsResult = { readonly ok: true; readonly conditions: Condition[] } | { readonly ok: false; readonly message: string }

export const MAX_QUERY_TERMS = 20

const EXACT_FIELDS: Readonly<Record<string, ExactField>> = {
  host: 'host',
  hostname: 'host',
  method: 'method',
  user: 'user',
  client: 'client_id',
  client_id: 'client_id',
  route: 'route_id',
  route_id: 'route_id',
  outcome: 'outcome',
  proxy: 'proxy',
  proxy_hostname: 'proxy',
  node: 'node',
  request_id: 'request_id',
  id: 'request_id',
  backend_error: 'backend_error',
  error: 'backend_error',
}

const OTHER_FIELDS = ['status', 'status_code', 'path', 'ip', 'client_ip', 'errors']

export const QUERY_FIELDS: readonly string[] = [...Object.keys(EXACT_FIELDS), ...OTHER_FIELDS]

const TERM = /(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)/g

export function parseQueryTerms(q: string): TermsResult {
  const conditions: Condition[] = []
  let count = 0
  for (const match of q.matchAll(TERM)) {
    if (++count > MAX_QUERY_TERMS) return { ok: false, message: `at most ${MAX_QUERY_TERMS} terms` }
    const field = match[1] ?? match[3]
    const value = match[2] ?? match[4]
    if (field === undefined || value === undefined) {
      const word = match[5] ?? match[6] ?? ''
      if (word !== '') conditions.push({ kind: 'text', text: word })
      continue
    }
    const condition = termCondition(field.toLowerCase(), value)
    if (typeof condition === 'string') return { ok: false, message: condition }
    conditions.push(condition)
  }
  return { ok: true, conditions }
}

/** A term's condition, or what is wrong with it. */
function termCondition(field: string, value: string): Condition | string {
  const exact = EXACT_FIELDS[field]
  if (exact) return exactCondition(exact, value)
  switch (field) {
    case 'status':
    case 'status_code':
      return statusCondition(value) ?? `${field}:${value}: expected a status such as 404 or a class such as 5xx`
    case 'path':
      return value.startsWith('/') ? { kind: 'path_prefix', prefix: value } : `path:${value}: expected a path starting with /`
    case 'ip':
    case 'client_ip': {
      const address = parseAddressFilter(value)
      return address ? { kind: 'ip', value: address } : `${field}:${value}: expected an IP address or CIDR`
    }
    case 'errors':
      return value === 'true' ? { kind: 'errors' } : `errors:${value}: expected errors:true`
    default:
      return `unknown field ${field} (known: ${QUERY_FIELDS.join(', ')})`
  }
}

function exactCondition(field: ExactField, value: string): Condition | string {
  if (field === 'outcome' && !(OUTCOMES as readonly string[]).includes(value)) return `outcome:${value}: expected one of ${OUTCOMES.join(', ')}`
  if (field === 'backend_error' && !(BACKEND_ERROR_KINDS as readonly string[]).includes(value)) return `backend_error:${value}: expected one of ${BACKEND_ERROR_KINDS.join(', ')}`
  return { kind: 'equals', field, value: field === 'method' ? value.toUpperCase() : field === 'host' ? value.toLowerCase() : value }
}

/** "404" → that status; "5xx" (any case) → the class. */
export function statusCondition(text: string): Condition | null {
  if (/^[1-5]\d\d$/.test(text)) return { kind: 'status', status: Number(text) }
  if (/^[1-5]xx$/i.test(text)) return { kind: 'status_class', digit: Number(text[0]) }
  return null
}
