/** @module What a backend address must be: one rule for proxy targets and external services. */

/** An absolute http(s) URL with a host, carrying no credentials (they would leak into logs) and no fragment. */
export function isHttpUrl(text: string): boolean {
  const url = URL.parse(text)
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.username && !url.password && !url.hash
}
