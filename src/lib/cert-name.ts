/**
 * @module What a certificate may be named, one rule for the API, the certificate manager and a proxy's
 * cert_name: the original's [A-Za-z0-9_-] plus "." and "*", so that a proxy hostname (wildcards included)
 * is a valid name (proxies' certificates are named after them). The name is a store key segment, so it
 * never starts with ".", "_" or "-" and never holds "..": "." and ".." are refused before any store read.
 */

const CERT_NAME = /^[A-Za-z0-9*][A-Za-z0-9._*-]{0,252}$/

/** What isCertName() accepts, in words, for error messages. */
export const CERT_NAME_RULE = '1-253 letters, digits, ".", "_", "-" or "*", not starting with ".", "_" or "-", without ".."'

export function isCertName(name: string): boolean {
  return CERT_NAME.test(name) && !name.includes('..')
}
