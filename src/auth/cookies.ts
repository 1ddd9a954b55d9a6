/**
 * @module Our two cookies on the wire: reading them from a Cookie header, writing them as `__Host-`
 * cookies, and taking them out of the Cookie header the backend gets.
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2 (the __Host- prefix)
 */

/**
 * Every value sent under `name`, in header order. RFC 6265 §5.4: a browser may send two cookies of one
 * name (say, from different paths); `__Host-` ones can only come from this host with Path=/, yet callers
 * still try each value rather than trust the first.
 */
export function cookieValues(header: string | null, name: string): string[] {
  if (header === null) return []
  const values: string[] = []
  for (const part of header.split(';')) {
    const equals = part.indexOf('=')
    if (equals !== -1 && part.slice(0, equals).trim() === name) values.push(part.slice(equals + 1).trim())
  }
  return values
}

/**
 * A `__Host-` cookie: Secure, Path=/ and no Domain are what the prefix demands, so no sibling host can
 * set or read it; HttpOnly keeps it from scripts; SameSite=Lax still sends it on the top-level GET that
 * comes back from the authorization server on another site (RFC 6265bis §5.6.7.1), and on nothing
 * cross-site that could change state.
 */
export function hostCookie(name: string, value: string, maxAgeSec: number): string {
  if (!name.startsWith('__Host-')) throw new Error(`${name} is not a __Host- cookie`)
  return `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSec))}; Secure; HttpOnly; SameSite=Lax`
}

/** The same cookie, cleared (RFC 6265 §5.3 step 4: Max-Age 0 expires it at once). */
export function clearedHostCookie(name: string): string {
  return hostCookie(name, '', 0)
}

/** The Cookie header without the named cookies, the others exactly as sent; null when nothing is left. */
export function withoutCookies(header: string, names: readonly string[]): string | null {
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => {
      if (part === '') return false
      const equals = part.indexOf('=')
      return !names.includes((equals === -1 ? part : part.slice(0, equals)).trim())
    })
  return kept.length === 0 ? null : kept.join('; ')
}
