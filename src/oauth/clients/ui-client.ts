/**
 * @module The web UI's first-party client. The UI is served by the management API itself, on every
 * origin the API answers on (its own loopback address, PUBLIC_URL, a proxy in front of it), and signs
 * in like a redirect-mode proxy: public (PKCE S256, no secret), code exchanged in-process, tokens kept
 * by the server behind an HttpOnly cookie. Nobody registers it; it exists always.
 *
 * Its redirect URI is a rule: exactly `<origin>/ui/auth/callback` on an origin where the API answers,
 * and its tokens are for the API alone. Consent is skipped for it alone: the consent page guards
 * against another application using this server's GitHub login (MCP security best practices,
 * "confused deputy"); this client is the server's own page, and its code can only land on the server.
 */
import type { OAuthClient } from './model.ts'
import { firstPartyClient } from './proxy-clients.ts'

export const UI_CLIENT_ID = 'oauth-https-proxy-ui'
/** Where the UI takes the authorization response, on its own origin. */
export const UI_CALLBACK_PATH = '/ui/auth/callback'

/** Where the UI lives; the composition root answers from the issuer resolver. */
export interface UiOrigins {
  /** Whether the management API (and so the UI) answers at this origin. */
  isApiOrigin(origin: string): Promise<boolean>
  /** The API's resource (RFC 8707): the only one the UI's tokens may be for. */
  readonly apiResource: string
}

export const uiClient = (): OAuthClient => firstPartyClient(UI_CLIENT_ID, 'oauth-https-proxy web UI')

/** OAuth 2.1 §4.1.1 exact match against the rule: the string a browser navigates to, on one of the API's origins. */
export async function isUiRedirectUri(origins: UiOrigins, uri: string): Promise<boolean> {
  const url = URL.parse(uri)
  if (!url || url.href !== uri || url.pathname !== UI_CALLBACK_PATH || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return false
  return origins.isApiOrigin(url.origin)
}
