/** @module Resource identifiers (RFC 8707) the authorization server issues tokens for. */

/** The management API's resource: its public URL. Tokens for the API carry it as their only audience. */
export function apiResource(config: { readonly publicUrl: string }): string {
  return config.publicUrl
}
