/**
 * @module What a query asks of a record: a list of conditions, all of which must hold. The API builds
 * them from query parameters and from `q` (query-terms.ts); compileFilter turns them into one
 * predicate, plus strings a raw stored entry must contain, so most non-matching entries are skipped
 * without parsing their JSON.
 */
import { isIP } from 'node:net'
import { cidrContains, normalizeClientAddress, parseCidr, type Cidr } from '../lib/index.ts'
import type { BackendErrorKind, RequestOutcome, RequestRecord } from './record.ts'

export const OUTCOMES = ['forwarded', 'handed_over', 'answered', 'auth', 'backend_error'] as const satisfies readonly RequestOutcome[]
export const BACKEND_ERROR_KINDS = ['refused', 'timeout', 'reset', 'protocol', 'unreachable'] as const satisfies readonly BackendErrorKind[]

/** Record fields compared for equality. */
export type ExactField = 'host' | 'method' | 'user' | 'client_id' | 'route_id' | 'outcome' | 'proxy' | 'node' | 'request_id' | 'backend_error'

export type Condition =
  | { readonly kind: 'equals'; readonly field: ExactField; readonly value: string }
  | { readonly kind: 'status'; readonly status: number }
  /** 1 for 1xx … 5xx. */
  | { readonly kind: 'status_class'; readonly digit: number }
  | { readonly kind: 'path_prefix'; readonly prefix: string }
  /** An address (exact) or a CIDR range. */
  | { readonly kind: 'ip'; readonly value: string }
  /** 5xx answers and backend failures. */
  | { readonly kind: 'errors' }
  /** Case-insensitive substring of any text field. */
  | { readonly kind: 'text'; readonly text: string }

export interface CompiledFilter {
  readonly matches: (record: RequestRecord) => boolean
  /** Every one of these appears in a matching entry's stored JSON: a cheap pre-check before parsing. */
  readonly rawHints: readonly string[]
}

const TEXT_FIELDS = ['path', 'host', 'method', 'user', 'client_id', 'client_ip', 'user_agent', 'proxy', 'route_id', 'backend', 'backend_error', 'outcome', 'request_id', 'node'] as const

/** An address or CIDR as a filter value: null when it is neither. IPv4-mapped IPv6 becomes IPv4, as in records. */
export function parseAddressFilter(text: string): string | null {
  if (text.includes('/')) return parseCidr(text) ? text : null
  const family = isIP(text)
  if (family === 0) return null
  return family === 6 ? canonicalIpv6(normalizeClientAddress(text)) : text
}

export function isErrorRecord(record: RequestRecord): boolean {
  return record.status >= 500 || record.outcome === 'backend_error'
}

export function compileFilter(conditions: readonly Condition[]): CompiledFilter {
  const tests = conditions.map(compileCondition)
  const rawHints = conditions.flatMap(rawHintOf)
  return {
    matches: tests.length === 0 ? () => true : (record) => tests.every((test) => test(record)),
    rawHints,
  }
}

/** Whether a stored entry can match at all, by its raw text. */
export function mayMatchRaw(filter: CompiledFilter, data: string): boolean {
  for (const hint of filter.rawHints) if (!data.includes(hint)) return false
  return true
}

function compileCondition(condition: Condition): (record: RequestRecord) => boolean {
  switch (condition.kind) {
    case 'equals': {
      const { field, value } = condition
      // Hosts and methods are stored normalised (lower-case host, upper-case method as sent); compare the same way.
      if (field === 'host') return (record) => record.host === value.toLowerCase()
      return (record) => record[field] === value
    }
    case 'status':
      return (record) => record.status === condition.status
    case 'status_class':
      return (record) => Math.floor(record.status / 100) === condition.digit
    case 'path_prefix':
      return (record) => record.path.startsWith(condition.prefix)
    case 'ip': {
      if (!condition.value.includes('/')) return (record) => record.client_ip === condition.value
      const cidr = parseCidr(condition.value) as Cidr
      return (record) => cidrContains(cidr, record.client_ip)
    }
    case 'errors':
      return isErrorRecord
    case 'text': {
      const needle = condition.text.toLowerCase()
      return (record) => TEXT_FIELDS.some((field) => record[field]?.toLowerCase().includes(needle) ?? false)
    }
    default: {
      const unreachable: never = condition
      throw new Error(`unhandled condition ${JSON.stringify(unreachable)}`)
    }
  }
}

/** A string value stored as JSON appears exactly as JSON.stringify spells it, quotes included. */
function rawHintOf(condition: Condition): string[] {
  if (condition.kind === 'equals') return [JSON.stringify(condition.field === 'host' ? condition.value.toLowerCase() : condition.value)]
  if (condition.kind === 'ip' && !condition.value.includes('/')) return [JSON.stringify(condition.value)]
  return []
}

/** The compressed, lower-case spelling (RFC 5952 §4) that sockets and PROXY headers report. */
function canonicalIpv6(address: string): string {
  if (isIP(address) !== 6 || address.includes('%')) return address.toLowerCase()
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1)
  } catch {
    return address.toLowerCase()
  }
}
