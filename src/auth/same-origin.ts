/**
 * @module Whether a state-changing request was sent by a page of the very origin it goes to: the CSRF
 * check of a browser's own signals. Browsers send Origin with every POST (Fetch, "append a request
 * `Origin` header"), so Origin decides when present; a client that sends none may show its Referer
 * instead. Neither, an opaque "null" Origin (a sandboxed frame, a privacy-masked request) or another
 * origin is refused: a page elsewhere can make a browser send a POST, never make it lie about where
 * that POST came from.
 * @see https://www.rfc-editor.org/rfc/rfc6454#section-7 (the Origin header)
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html (verifying origin with standard headers)
 */

/** `origin` is the request's own (scheme://host[:port], default port left out); the others as sent, or null. */
export function isSameOriginRequest(origin: string, sentOrigin: string | null, referer: string | null): boolean {
  if (sentOrigin !== null) return sentOrigin === origin
  if (referer === null) return false
  return URL.parse(referer)?.origin === origin
}
