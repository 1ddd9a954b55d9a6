/**
 * @module RFC 8707 §2.2 at the token endpoint: a `resource` in a token request must name the resource
 * the grant was issued for. Compared resolved, never raw (policy.ts): MCP clients send the server URL
 * they were given (https://mcp.example.com/mcp) while the grant holds the canonical resource
 * (https://mcp.example.com), and scheme and host case or a default port change nothing.
 */
import { resolveResource } from '../policy.ts'

/** Resolves `requested` as if the grant's resource were the only one there is. */
export function resourceNamesGrant(requested: string, granted: string): boolean {
  return resolveResource(requested, { apiResource: granted, proxyResources: (origin) => origin === granted }) === granted
}
