/**
 * @module Where a browser goes back to after signing in: only a path on the origin it asked for, never
 * anywhere else (RFC 9700 §4.11, open redirectors). The path is taken from the request the browser made
 * and kept in the store, so nothing in the callback's query can choose it.
 */
import { BROWSER_CALLBACK_PATH } from './browser.ts'

/** Where our reserved paths start; coming back to one of them would start another sign-in or sign-out. */
const RESERVED_PREFIX = BROWSER_CALLBACK_PATH.slice(0, BROWSER_CALLBACK_PATH.lastIndexOf('/') + 1)

/**
 * The path and query to return to, or "/" when `target` is not a plain path on `origin`: an absolute
 * URL, a scheme-relative `//evil.example`, a backslash (which browsers read as a slash, so `/\evil`
 * is `//evil`), or anything that normalises to one of those.
 */
export function returnPathOf(origin: string, target: string): string {
  if (!target.startsWith('/') || target.startsWith('//') || target.includes('\\')) return '/'
  const url = URL.parse(target, origin)
  if (!url || url.origin !== origin) return '/'
  const path = `${url.pathname}${url.search}`
  // "/.//evil" normalises to "//evil": scheme-relative again once it is a Location.
  if (path.startsWith('//') || url.pathname.startsWith(RESERVED_PREFIX)) return '/'
  return path
}

/** The absolute URL of a return path: with the origin in front, no path can leave it. */
export function returnUrl(origin: string, path: string): string {
  return `${origin}${path}`
}
