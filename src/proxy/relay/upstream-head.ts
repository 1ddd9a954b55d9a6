/**
 * @module The request head the relay sends a backend: the client's fields that request-head.ts kept
 * (hop-by-hop, spoofable and forwarding ones are gone, by the rules in headers.ts and
 * lib/spoofable-headers.ts that the fetch forwarder shares) with the client-address ones the proxy
 * trusts, then Host, the forwarding fields for the real client, and the proxy's custom
 * headers. The body follows unchanged, so its framing field (Content-Length, kept as sent, or
 * Transfer-Encoding: chunked, stated again here) is the client's.
 */
import type { ClientInfo } from '../client.ts'
import { FORWARDING_FIELD_NAMES, forwardingFields } from '../headers.ts'
import type { GateOutcome } from '../auth/gate.ts'
import { identityLines } from '../auth/identity.ts'
import { withoutFields, type RequestHead } from './request-head.ts'

/** A site's backend as the relay needs it, prepared once per configuration change. */
export interface RelayTarget {
  readonly origin: { readonly key: string; readonly hostname: string; readonly port: number }
  /** The target URL's path without its trailing "/": every request path is appended to it. */
  readonly pathPrefix: string
  /** Host for the backend unless the proxy preserves the client's. */
  readonly targetHost: string
  readonly preserveHost: boolean
  readonly customHeaderNames: ReadonlySet<string>
  /** "name: value\r\n" lines of the custom headers. */
  readonly customHeaderLines: string
  readonly timeoutMs: number
}

/**
 * The request head for the backend: `path` is the decision's request target, `keptFields` the
 * client's fields that go on. `forwarding` is what forwardingLines() gave for this client and
 * Host: the same for every request of a connection, so the relay computes it once.
 */
export function buildUpstreamHead(head: RequestHead, target: RelayTarget, forwarding: string, path: string, keptFields: string): string {
  const host = target.preserveHost ? head.host : target.targetHost
  const chunked = head.framing.kind === 'chunked' ? 'transfer-encoding: chunked\r\n' : ''
  return `${head.method} ${target.pathPrefix}${path} HTTP/1.1\r\n${keptFields}host: ${host}\r\n${forwarding}${target.customHeaderLines}${chunked}\r\n`
}

/** The forwarding field lines for the real client of a request (only a trusted load balancer's own chain is kept). */
export function forwardingLines(head: RequestHead, client: ClientInfo): string {
  const trusted = client.isViaTrustedProxy
  const values = forwardingFields(client, head.host, trusted ? head.priorForwardedFor : null, trusted ? head.priorForwarded : null)
  let lines = ''
  for (let i = 0; i < FORWARDING_FIELD_NAMES.length; i++) lines += `${FORWARDING_FIELD_NAMES[i]}: ${values[i]}\r\n`
  return lines
}

/**
 * The kept fields and the client-address fields the proxy trusts (`trusted_request_headers`): the
 * parser held those back, since it runs before the decision that names the proxy. Nothing to do, and
 * nothing allocated, unless the client sent one and the proxy trusts some.
 */
export function withTrustedFields(kept: string, clientAddressFields: string, trusted: ReadonlySet<string>): string {
  if (clientAddressFields === '' || trusted.size === 0) return kept
  let fields = kept
  for (const line of clientAddressFields.split('\r\n')) if (line !== '' && trusted.has(line.slice(0, line.indexOf(':')).toLowerCase())) fields += `${line}\r\n`
  return fields
}

/** The kept fields once the auth step let a request through: the credentials out unless kept, our cookies out, the identity in. */
export function afterAuthStep(kept: string, head: RequestHead, passed: GateOutcome & { kind: 'pass' }): string {
  // The common case, a token that stops here, on every request of a protected proxy: one line found and cut.
  let fields = !passed.keepsAuthorization && head.authorization !== null ? withoutLine(kept, 'authorization') : kept
  if (passed.cookies !== undefined) {
    fields = withoutFields(fields, COOKIE)
    if (passed.cookies !== null) fields += `cookie: ${passed.cookies}\r\n`
  }
  return passed.identity.length === 0 ? fields : fields + identityLines(passed.identity)
}

const COOKIE: ReadonlySet<string> = new Set(['cookie'])

/** The field lines without the one named `name` (lower-case; the parser let through only one). */
function withoutLine(fields: string, name: string): string {
  for (let start = 0; start < fields.length; ) {
    const end = fields.indexOf('\r\n', start)
    if (end === -1) break
    if (fields.charCodeAt(start + name.length) === 0x3a /* : */ && fields.slice(start, start + name.length).toLowerCase() === name) return fields.slice(0, start) + fields.slice(end + 2)
    start = end + 2
  }
  return fields
}
