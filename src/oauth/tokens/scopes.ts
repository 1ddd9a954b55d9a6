/** @module The three scopes and what each implies: admin (write) covers user (read) and mcp. */

export const SCOPES = ['admin', 'user', 'mcp'] as const
export type Scope = (typeof SCOPES)[number]

export function isScope(text: string): text is Scope {
  return (SCOPES as readonly string[]).includes(text)
}

/** RFC 6749 §3.3: the scope claim is a space-separated list. */
export function parseScopeClaim(claim: unknown): Scope[] {
  return typeof claim === 'string' ? claim.split(' ').filter(isScope) : []
}

export function scopesSatisfy(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed)
}
